"""`flask --app wsgi reverify --tenant CODE --month YYYY-MM [--dry-run]`: judge a month again."""
import click
from flask.cli import with_appcontext


@click.command("reverify")
@click.option("--tenant", "code", required=True, help="Tenant code, e.g. ganxian.")
@click.option("--month", required=True, help="The month whose visits are judged again, YYYY-MM.")
@click.option("--dry-run", is_flag=True, help="Print what would change; write nothing.")
@with_appcontext
def reverify(code, month, dry_run):
    """Run every rule again on every visit of the month (after a threshold changed), set-based.
    Exceptions a contractor answered or a supervisor decided stay as they are."""
    from sqlalchemy import select

    from portal.audit.recorder import acting_as
    from portal.core.errors import DomainError
    from portal.core.months import parse_month
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants, tenant_scope
    from portal.visits import reverify as service
    with all_tenants():
        tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()
    if tenant is None:
        raise click.ClickException(f"no tenant with code {code!r}")
    try:
        first = parse_month(month)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    with tenant_scope(tenant.id), acting_as("reverify"):
        outcome = service.reverify_month(first, utcnow(), dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    for line in describe(outcome):
        click.echo(line)
    verb = "would change" if dry_run else "changed"
    click.echo(f"{code} {month}: {outcome.judged} visit(s) judged; "
               f"{'nothing ' + verb if not outcome.changed else verb + ' as above'}"
               f"{' (dry run: nothing written)' if dry_run else ''}.")


def describe(outcome):
    """One line per kind of change, e.g. "raised V02: 3"."""
    lines = []
    for label, counts in (("raised", outcome.raised), ("refreshed", outcome.refreshed),
                          ("cleared", outcome.cleared)):
        for code_, count in sorted(counts.items()):
            lines.append(f"{label} {code_}: {count}")
    for (before, after), count in sorted(outcome.statuses.items()):
        lines.append(f"status {before} → {after}: {count}")
    return lines
