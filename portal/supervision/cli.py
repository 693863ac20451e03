"""`flask --app wsgi draw-sample --tenant CODE --month YYYY-MM` (see ../shared/API.md)."""
import click
from flask.cli import with_appcontext


@click.command("draw-sample")
@click.option("--tenant", "code", required=True)
@click.option("--month", required=True)
@with_appcontext
def draw_sample(code, month):
    """Draw the month's spot-check sample for every active contract (again: changes nothing)."""
    raise click.ClickException("not built yet")
