"""Commands of `flask --app wsgi …` (see docs/API.md)."""
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.extensions import db


def register(app):
    app.cli.add_command(seed_demo)
    app.cli.add_command(audit_verify)
    app.cli.add_command(worker)
    from portal.billing.cli import settle
    from portal.ops.cli import backup, restore, rotate_data_key
    from portal.spotchecks.cli import draw_sample
    from portal.tenancy.cli import calendar
    from portal.visits.cli import reverify
    app.cli.add_command(calendar)
    app.cli.add_command(draw_sample)
    app.cli.add_command(settle)
    app.cli.add_command(reverify)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(rotate_data_key)


@click.command("seed-demo")
@with_appcontext
@click.option("--password", default="demo-pass-2026", show_default=True, help="Password of every demo user.")
def seed_demo(password):
    """Create the demo world; running it twice changes nothing."""
    from portal.audit.recorder import acting_as
    from portal.demo import seed
    with acting_as("seed-demo"):
        created = seed(password)
    db.session.commit()
    click.echo(f"Demo world ready ({created} new rows).")


@click.command("audit-verify")
@with_appcontext
@click.option("--tenant", "code", required=True, help="Tenant code, or 'platform' for the platform chain.")
def audit_verify(code):
    """Verify a tenant's audit chain end to end; exit 1 and name the first broken row if any."""
    from sqlalchemy import select

    from portal.audit.chain import verify_chain
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants, tenant_scope
    tenant_id = None
    if code != "platform":
        with all_tenants():
            tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()
        if tenant is None:
            raise click.ClickException(f"no tenant with code {code!r}")
        tenant_id = tenant.id
    with (tenant_scope(tenant_id) if tenant_id else all_tenants()):
        result = verify_chain(db.session, tenant_id)
    db.session.rollback()
    if result.ok:
        click.echo(f"audit chain of {code}: OK, {result.checked} entries verified")
        return
    click.echo(f"audit chain of {code}: BROKEN at entry id={result.broken_id} seq={result.broken_seq}: "
               f"{result.reason} ({result.checked} entries verified before it)", err=True)
    sys.exit(1)


@click.command("worker")
@with_appcontext
@click.option("--burst", is_flag=True, help="Run the queued jobs and exit.")
@click.option("--no-schedule", is_flag=True, help="Do not start the periodic jobs of jobs/schedule.py.")
@click.option("--short", is_flag=True,
              help="Run only the short (batched) jobs, in this process without forking (jobs/workers.py).")
def worker(burst, no_schedule, short):
    """An RQ worker with the application context and the periodic scheduler: by default a forking
    worker for every job (the short queue first); with --short a non-forking one for the short queue."""
    from portal.extensions import redis_connection
    from portal.jobs.schedule import start_scheduler_thread
    from portal.jobs.workers import make_worker
    if not current_app.config.get("REDIS_URL"):
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run inline and need no worker.")
    if not no_schedule and not burst:
        start_scheduler_thread(current_app._get_current_object())
    make_worker(current_app.config, redis_connection(), short=short).work(burst=burst, with_scheduler=True)
