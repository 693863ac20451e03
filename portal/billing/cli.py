"""`flask --app wsgi settle --tenant CODE --month YYYY-MM [--contract ID]` (see docs/API.md)."""
import click
from flask import current_app
from flask.cli import with_appcontext

from portal.core import query


@click.command("settle")
@click.option("--tenant", "code", required=True, help="Tenant (bureau) code.")
@click.option("--month", required=True, help="Calendar month, YYYY-MM (Beijing time).")
@click.option("--contract", "contract_id", type=click.IntRange(1, query.MAX_ID), help="Only this contract (id).")
@with_appcontext
def settle(code, month, contract_id):
    """Prepare draft monthly statements (queued when Redis is configured, inline otherwise).
    Statements past draft are never changed; running it again replaces the drafts. A month that
    has not ended (Beijing time) prepares nothing and says from which day it can be settled."""
    from sqlalchemy import select

    from portal.audit.recorder import acting_as
    from portal.billing.models import Statement
    from portal.billing.settlement import first_allowed_day
    from portal.contracts.models import Contract
    from portal.core.errors import DomainError
    from portal.core.months import month_text
    from portal.core.timeutil import local_today
    from portal.extensions import db
    from portal.jobs.models import JobRun
    from portal.jobs.labels import progress_text
    from portal.jobs.queue import enqueue
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants, tenant_scope
    try:
        month = month_text(month)
    except DomainError as exc:
        raise click.BadParameter(str(exc.message), param_hint="--month") from None
    allowed = first_allowed_day(month)
    if local_today() < allowed:
        raise click.ClickException(f"{month} has not ended: nothing prepared, nothing written. "
                                   f"Statements for {month} can be prepared from {allowed.isoformat()}.")
    with all_tenants():
        tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()
    if tenant is None:
        raise click.ClickException(f"no tenant with code {code!r}")
    with tenant_scope(tenant.id), acting_as("settle"):
        if contract_id is not None and db.session.get(Contract, contract_id) is None:
            raise click.ClickException(f"no contract {contract_id} in {code}")
        run = enqueue("billing.prepare_month", tenant_id=tenant.id, month=month, contract_id=contract_id)
        run_id = run.id
        db.session.commit()
        if current_app.config.get("REDIS_URL"):
            click.echo(f"queued job {run_id}: statements of {code} for {month}")
            return
        run = db.session.get(JobRun, run_id)
        if run.status != "finished":
            raise click.ClickException(f"job {run_id} {run.status}: {run.error}")
        click.echo(f"{code}: {progress_text(run.progress_note)}")
        stmt = select(Statement).where(Statement.month == month).order_by(Statement.contract_id)
        if contract_id is not None:
            stmt = stmt.where(Statement.contract_id == contract_id)
        for statement in db.session.execute(stmt).scalars():
            click.echo(f"  {statement.number}  contract {statement.contract_id}  {statement.status:<9}  "
                       f"gross {statement.gross_fen}  deductions {statement.deductions_fen}  "
                       f"net {statement.net_fen} fen")
        db.session.rollback()
