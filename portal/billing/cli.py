"""`flask --app wsgi settle --tenant CODE --month YYYY-MM [--contract ID]` (see ../shared/API.md)."""
import click
from flask.cli import with_appcontext


@click.command("settle")
@click.option("--tenant", "code", required=True)
@click.option("--month", required=True)
@click.option("--contract", "contract_id", type=int)
@with_appcontext
def settle(code, month, contract_id):
    """Prepare draft monthly statements (queued when Redis is configured, inline otherwise)."""
    raise click.ClickException("not built yet")
