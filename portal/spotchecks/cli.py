"""`flask --app wsgi draw-sample --tenant CODE --month YYYY-MM` (see docs/API.md)."""
import click
from flask.cli import with_appcontext


@click.command("draw-sample")
@click.option("--tenant", "code", required=True, help="Tenant code, e.g. ganxian.")
@click.option("--month", required=True, help="The month to sample, YYYY-MM (a month that has ended).")
@with_appcontext
def draw_sample(code, month):
    """Draw the month's spot-check sample for every active contract (again: changes nothing)."""
    from sqlalchemy import select

    from portal.audit.recorder import acting_as
    from portal.core.errors import DomainError
    from portal.extensions import db
    from portal.spotchecks import services as spotchecks
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants, tenant_scope
    with all_tenants():
        tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()
    if tenant is None:
        raise click.ClickException(f"no tenant with code {code!r}")
    try:
        first = spotchecks.parse_month(month)
        with tenant_scope(tenant.id), acting_as("draw-sample"):
            results = spotchecks.draw_month(first, tenant=tenant)
            lines = [_describe(result) for result in results]
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    for line in lines:
        click.echo(line)
    drawn = sum(1 for r in results if r.created)
    kept = sum(1 for r in results if r.sample is not None and not r.created)
    click.echo(f"{code} {month}: {drawn} new sample(s), {kept} already drawn (unchanged), "
               f"{len(results) - drawn - kept} contract(s) without verified visits.")


def _describe(result):
    number = result.contract.number
    if result.sample is None:
        return f"{number}: nothing drawn ({result.note})"
    sample = result.sample
    visits = ", ".join(str(check.visit_id) for check in sample.checks)
    state = "drawn" if result.created else "already drawn, unchanged"
    return (f"{number}: {state}: {len(sample.checks)} of {sample.population} verified visits "
            f"(rate {sample.rate_permille}‰, seed {sample.seed}); visits {visits}")
