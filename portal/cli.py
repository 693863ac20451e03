"""Commands of `flask --app wsgi …` (see docs/API.md)."""
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.extensions import db


def register(app):
    app.cli.add_command(seed_demo)
    app.cli.add_command(audit_verify)
    app.cli.add_command(audit_checkpoint)
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


def _chain_tenant(code):
    """The tenant id of a chain named on the command line (None: 'platform')."""
    from sqlalchemy import select

    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants
    if code == "platform":
        return None
    with all_tenants():
        tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()
    if tenant is None:
        raise click.ClickException(f"no tenant with code {code!r}")
    return tenant.id


@click.command("audit-verify")
@with_appcontext
@click.option("--tenant", "code", required=True, help="Tenant code, or 'platform' for the platform chain.")
@click.option("--expect", default=None, metavar="SEQ:HASH",
              help="A head kept outside the portal (e.g. copied from the published list): SEQ:HASH or HASH.")
def audit_verify(code, expect):
    """Verify a tenant's audit chain end to end and against its signed checkpoints; exit 1 and
    name the first broken row, a forged checkpoint, a rewritten or a cut-off end."""
    from portal.audit.chain import verify_chain
    from portal.audit.checkpoints import anchor_problems, iso_utc, parse_expect
    from portal.tenancy.scope import all_tenants, tenant_scope
    if expect:
        try:
            parse_expect(expect)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--expect") from exc
    tenant_id = _chain_tenant(code)
    with (tenant_scope(tenant_id) if tenant_id else all_tenants()):
        result = verify_chain(db.session, tenant_id)
        anchoring = anchor_problems(db.session, tenant_id, expect)
    db.session.rollback()
    if result.ok and anchoring.ok:
        anchor = anchoring.anchor
        anchored = (f"; reaches its signed checkpoint of {iso_utc(anchor.created_at)} (seq {anchor.seq})"
                    if anchor is not None else "; no checkpoint yet (flask --app wsgi audit-checkpoint)")
        click.echo(f"audit chain of {code}: OK, {result.checked} entries verified{anchored}"
                   + (", and the expected head" if expect else ""))
        return
    if not result.ok:
        click.echo(f"audit chain of {code}: BROKEN at entry id={result.broken_id} seq={result.broken_seq}: "
                   f"{result.reason} ({result.checked} entries verified before it)", err=True)
    for problem in anchoring.problems:
        click.echo(f"audit chain of {code}: {problem}", err=True)
    sys.exit(1)


@click.command("audit-checkpoint")
@with_appcontext
@click.option("--tenant", "code", default=None, help="Tenant code, or 'platform' for the platform chain.")
@click.option("--all", "every", is_flag=True, help="Every tenant's chain and the platform chain (the default).")
def audit_checkpoint(code, every):
    """Sign and record the head of audit chains now (the daily job does it too); a chain whose
    head is already signed is left as it is."""
    from sqlalchemy import select

    from portal.audit.checkpoints import CheckpointRefused, iso_utc, write_checkpoints
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants
    if code and every:
        raise click.UsageError("give --tenant or --all, not both")
    if code:
        chains = [(_chain_tenant(code), code)]
    else:
        with all_tenants():
            chains = [(None, "platform"), *db.session.execute(select(Tenant.id, Tenant.code).order_by(Tenant.id))]
    refused = False
    for tenant_id, name in chains:
        try:
            written = write_checkpoints([tenant_id])
            db.session.commit()
        except CheckpointRefused as exc:
            db.session.rollback()
            click.echo(f"refused: {exc}", err=True)
            refused = True
            continue
        for checkpoint in written:
            click.echo(f"{name}: checkpoint at seq {checkpoint.seq} ({checkpoint.hash[:16]}…), "
                       f"{iso_utc(checkpoint.created_at)}, key {checkpoint.key_id}")
        if not written:
            click.echo(f"{name}: head already signed")
    if refused:
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
