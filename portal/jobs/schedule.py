"""Periodic jobs, declared in one list with stable ids, and the loop that starts them.

With Redis every worker runs the loop; a Redis key per job and period (SET NX) makes exactly one
of them enqueue each occurrence, so running several workers never runs a periodic job twice; the
winner also checks the database's JobRun rows of the occurrence, so a Redis that restarted empty
(its claims lost) does not start an occurrence again. Each tick also hands over the job runs RQ
lost (jobs/recovery.py).
Without Redis (development, `make run`) an in-process scheduler runs the same list in the web
process, the jobs inline: an occurrence is claimed by the JobRun rows it made (their
``requested_by`` names it), so it runs at most once per period, restarts included. It starts
with the first request, only in development and never in tests (a test calls ``inline_tick``).
"""
import logging
import threading
import time
from dataclasses import dataclass

from portal.core.timeutil import to_local, utcnow

log = logging.getLogger("portal.jobs.schedule")


@dataclass(frozen=True)
class Periodic:
    id: str          # stable: part of the Redis key that claims each occurrence
    task: str        # a name registered with @task
    every: str       # "hourly" or "daily"; jobs that need a calendar (first working day) check it themselves
    per_tenant: bool = False


PERIODIC = [
    Periodic(id="purge-expired-sessions", task="accounts.purge_expired_sessions", every="hourly"),
    Periodic(id="tenders-close-bidding", task="tenders.close_bidding_and_flag_late", every="hourly",
             per_tenant=True),
    Periodic(id="contracts-publish-notices", task="contracts.publish_notices", every="hourly", per_tenant=True),
    Periodic(id="supervision-detect-violations", task="supervision.detect_violations", every="daily",
             per_tenant=True),
    # checked-out visits whose comparison never ran (its batch lost with Redis or a worker)
    Periodic(id="supervision-unjudged-check-outs", task="supervision.compare_unjudged", every="hourly",
             per_tenant=True),
    Periodic(id="supervision-missing-check-outs", task="supervision.flag_missing_check_outs", every="daily",
             per_tenant=True),
    # acts only on the first working day of a month (the bureau's calendar): last month's drafts
    Periodic(id="billing-prepare-previous-month", task="billing.prepare_previous_month", every="daily",
             per_tenant=True),
    # last month's spot-check samples from the 5th on (a contract already sampled is left as it is)
    Periodic(id="supervision-draw-samples", task="supervision.draw_samples", every="daily", per_tenant=True),
    # the scorecards of the quarter just ended, for contracts that have none yet
    Periodic(id="supervision-quarterly-scorecards", task="supervision.compute_scorecards", every="daily",
             per_tenant=True),
    # the signed head of each bureau's audit chain and of the platform's (audit/checkpoints.py),
    # published on the public site and in the open data
    Periodic(id="audit-checkpoint", task="audit.write_checkpoint", every="daily", per_tenant=True),
    Periodic(id="audit-checkpoint-platform", task="audit.write_platform_checkpoint", every="daily"),
]


def period_key(every, now):
    local = to_local(now)
    return local.strftime("%Y%m%d%H" if every == "hourly" else "%Y%m%d")


def due_occurrences(now=None):
    """(periodic, period key) pairs for the current period of each declared job."""
    now = now or utcnow()
    return [(p, period_key(p.every, now)) for p in PERIODIC]


def tick(app, now=None):
    """Claim and start every periodic job not yet started in its current period: in Redis with
    workers (SET NX, so several workers never start one occurrence twice), in the database without
    Redis (the in-process scheduler: the JobRun rows the occurrence made). With Redis it also queues
    a job for any batch left without one. Returns the ids started."""
    with app.app_context():
        if not app.config.get("REDIS_URL"):
            return _start_due(now, _claim_in_database)
        started = _start_due(now, _claim_in_redis)
        from portal.jobs.queue import queue_stranded_batches
        from portal.jobs.recovery import hand_over_stranded
        queue_stranded_batches()  # batches whose job was lost (queue.enqueue_batched)
        hand_over_stranded(now)  # runs whose hand-over failed, or whose worker died
        return started


def inline_tick(app, now=None):
    """The in-process scheduler's tick (no Redis): the jobs run inline, each in its savepoint; on
    SQLite their transactions take the write lock first (they write, beside the web requests)."""
    from portal.extensions import sqlite_writing
    with app.app_context(), sqlite_writing():
        started = _start_due(now, _claim_in_database)
        run_queued(app)
        return started


def run_queued(app, limit=200):
    """Without Redis: run the queued runs (enqueue_later's deferred work), oldest first, each
    inline in its bureau and committed on its own. Returns how many ran."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.jobs.models import JobRun
    from portal.jobs.queue import run_queued_inline
    with app.app_context():
        try:
            runs = []
            for tenant_id, scope in _each_scope():
                with scope:
                    runs += db.session.execute(select(JobRun.enqueued_at, JobRun.id, JobRun.tenant_id).where(
                        JobRun.status == "queued", *_own_rows(JobRun, tenant_id))
                        .order_by(JobRun.enqueued_at, JobRun.id).limit(limit)).all()
            runs = sorted(runs, key=lambda r: (r.enqueued_at, r.id))[:limit]
            for run in runs:
                run_queued_inline(run.id, run.tenant_id)
                db.session.commit()
            return len(runs)
        finally:
            db.session.remove()


def _each_scope():
    """(tenant id or None, scope) for the platform and each bureau: where the in-process scheduler
    looks for job runs. It runs in the web process, whose database role sees one bureau's rows at a
    time (or the platform's), never every bureau's at once (core/pgsecurity.py)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants, tenant_scope
    yield None, all_tenants()
    for tenant_id in db.session.scalars(select(Tenant.id).order_by(Tenant.id)).all():
        yield tenant_id, tenant_scope(tenant_id)


def _own_rows(model, tenant_id):
    """The filter that keeps the platform's scope to the platform's own rows (no bureau)."""
    return [model.tenant_id.is_(None)] if tenant_id is None else []


def _claim_in_redis(periodic, key):
    """SET NX: one worker of many wins; then the database (the claims of a Redis that lost them)."""
    from portal.extensions import redis_connection
    won = redis_connection().set(f"portal:periodic:{periodic.id}:{key}", "1", nx=True, ex=3 * 86400)
    return bool(won) and _claim_in_database(periodic, key)


def occurrence_marker(periodic, key):
    """Who requested the JobRuns of one occurrence (JobRun.requested_by): the database claim."""
    return f"scheduler:{periodic.id}:{key}"[:64]


def _claim_in_database(periodic, key):
    """An occurrence is taken once a JobRun carries its marker (kept across restarts)."""
    from sqlalchemy import select

    from portal.extensions import db
    from portal.jobs.models import JobRun
    for tenant_id, scope in _each_scope():
        with scope:
            if db.session.scalars(select(JobRun.id).where(
                    JobRun.requested_by == occurrence_marker(periodic, key), *_own_rows(JobRun, tenant_id))
                    .limit(1)).first() is not None:
                return False
    return True


def _start_due(now, claim):
    from portal.audit.recorder import acting_as
    from portal.extensions import db
    from portal.jobs.queue import enqueue
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants
    started = []
    try:
        for periodic, key in due_occurrences(now):
            if not claim(periodic, key):
                continue
            with acting_as(occurrence_marker(periodic, key)):
                if periodic.per_tenant:
                    with all_tenants():
                        tenant_ids = [t.id for t in db.session.query(Tenant).filter_by(active=True)]
                    for tenant_id in tenant_ids:
                        enqueue(periodic.task, tenant_id=tenant_id)
                else:
                    enqueue(periodic.task)
            db.session.commit()  # each occurrence on its own: a later failure leaves it claimed
            started.append(periodic.id)
    finally:
        db.session.remove()
    return started


def start_scheduler_thread(app, interval=60, inline=False):
    """The loop of a worker (Redis) or, with ``inline``, the in-process scheduler of development."""
    step = inline_tick if inline else tick

    def loop():
        while True:
            try:
                step(app)
            except Exception:
                log.exception("periodic tick failed")
            time.sleep(interval)
    thread = threading.Thread(target=loop, name="portal-periodic", daemon=True)
    thread.start()
    return thread


# --- development without Redis --------------------------------------------------------------------

def job_mode(config):
    """How background jobs run with this configuration (shown by `make run` and logged at start)."""
    if config.get("REDIS_URL"):
        return "queued"  # on Redis, run by `flask --app wsgi worker`, which also runs the schedule
    if in_process_scheduler_wanted(config):
        return "inline+scheduler"
    return "inline"


def in_process_scheduler_wanted(config):
    """Development without Redis runs PERIODIC in the web process; never in tests (unless a test
    starts it), never in production (which needs Redis and workers). INLINE_SCHEDULER overrides."""
    wanted = config.get("INLINE_SCHEDULER")
    if wanted is not None:
        return bool(wanted) and not config.get("REDIS_URL")
    return (config.get("PORTAL_ENV") == "development" and not config.get("TESTING")
            and not config.get("REDIS_URL"))


INLINE_INTERVAL = 15  # seconds between ticks of the in-process scheduler (deferred work waits this long)
_inline_started = set()
_inline_lock = threading.Lock()


def start_in_process_scheduler(app):
    """Start the in-process scheduler once per app, when the app serves its first request (so
    that commands such as `flask db upgrade` or `seed-demo` never start it)."""
    with _inline_lock:
        if id(app) in _inline_started or not in_process_scheduler_wanted(app.config):
            return None
        _inline_started.add(id(app))
    log.info("background jobs run inline (no REDIS_URL); periodic and deferred jobs by the in-process scheduler")
    return start_scheduler_thread(app, interval=INLINE_INTERVAL, inline=True)
