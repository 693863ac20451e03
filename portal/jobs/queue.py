"""Background jobs: queued on RQ when REDIS_URL is set, run inline otherwise.

A job is a function registered with ``@task("name")`` that takes plain values (ids, never ORM
objects) and is idempotent. ``enqueue`` records a JobRun in the caller's transaction; on RQ the
job is handed to Redis only after that transaction commits, so a worker never sees a job whose
data was rolled back. A job's work is one transaction: a worker commits it when the job returns
and rolls it back when it raises; inline it is a savepoint of the caller's transaction. Progress
(``report_progress``) never commits that work: on a worker it is written on a connection of its own.
"""
import logging
import os
import traceback
import uuid

from flask import current_app
from rq import Queue, Retry
from sqlalchemy import event, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.audit.recorder import acting_as, current_actor
from portal.core import pending
from portal.core.timeutil import utcnow
from portal.extensions import db, redis_connection
from portal.jobs.models import JobRun
from portal.jobs.schedule import in_process_scheduler_wanted
from portal.tenancy.scope import all_tenants, current_tenant_id, own_transaction, tenant_scope

log = logging.getLogger("portal.jobs")
TASKS = {}
RETRY = Retry(max=3, interval=[10, 30, 60])
_PENDING_KEY = "portal_pending_jobs"
_pool_pid = os.getpid()


def task(name):
    """Register a job function under a stable name."""
    def decorator(func):
        TASKS[name] = func
        func.job_name = name
        return func
    return decorator


def rq_queue():
    return Queue(current_app.config["JOB_QUEUE"], connection=redis_connection())


def enqueue(name, tenant_id=None, **kwargs):
    """Record and start job ``name`` for ``tenant_id`` (default: the current tenant)."""
    if name not in TASKS:
        raise KeyError(f"unknown job {name!r}")
    run = _record(name, tenant_id, kwargs)
    if current_app.config.get("REDIS_URL"):
        _hand_over_after_commit(run.id)
    else:
        _run_inline(run.id)
    return run


def _record(name, tenant_id, kwargs):
    tenant_id = current_tenant_id() if tenant_id is None else tenant_id
    run = JobRun(id=str(uuid.uuid4()), name=name, kwargs=kwargs, tenant_id=tenant_id,
                 requested_by=current_actor()[1][:64])
    with (tenant_scope(tenant_id) if tenant_id is not None else all_tenants()):
        db.session.add(run)
        db.session.flush()
    return run


def enqueue_later(name, tenant_id=None, **kwargs):
    """``enqueue`` for work that may wait a little. With Redis it is the same. Without Redis, when
    the in-process scheduler runs (development), the run stays queued until its next tick instead
    of running inside the caller's request (schedule.run_queued); with no scheduler (tests,
    production without Redis) it runs now, inline."""
    if name not in TASKS:
        raise KeyError(f"unknown job {name!r}")
    if current_app.config.get("REDIS_URL") or not in_process_scheduler_wanted(current_app.config):
        return enqueue(name, tenant_id, **kwargs)
    return _record(name, tenant_id, kwargs)


def run_queued_inline(run_id):
    """Run one queued run now, inline (the in-process scheduler's deferred work)."""
    with all_tenants():
        run = db.session.get(JobRun, run_id)
    if run is not None and run.status == "queued":
        _run_inline(run_id)


def retry(run):
    """Start a failed job again with the same arguments."""
    run.status, run.error, run.progress = "queued", "", 0
    db.session.flush()
    if current_app.config.get("REDIS_URL"):
        _hand_over_after_commit(run.id)
    else:
        _run_inline(run.id)


def _hand_over_after_commit(run_id):
    """Queue ``run_id`` on RQ when the session's outermost transaction commits. The innermost
    savepoint open now is remembered: if it rolls back, the job goes with it."""
    pending.collect(db.session(), _PENDING_KEY, run_id)


def _run_inline(run_id):
    """Inline mode: run now inside a savepoint, so a failing job leaves the caller's work intact."""
    from flask import g
    run = db.session.get(JobRun, run_id)
    scope = tenant_scope(run.tenant_id) if run.tenant_id is not None else all_tenants()
    with scope:  # the failure is recorded in the job's own bureau too
        try:
            with db.session.begin_nested():
                g.job_run = run
                _start(run)
                _execute(run)
        except Exception as exc:  # the job failed; the request goes on and shows it
            log.exception("inline job %s (%s) failed", run.name, run.id)
            _mark_failed(run, exc)
            db.session.flush()
        finally:
            g.pop("job_run", None)


def _start(run):
    run.status, run.attempts = "running", run.attempts + 1
    run.started_at = utcnow()


def _execute(run):
    with acting_as(f"job:{run.name}"):
        TASKS[run.name](**run.kwargs)
    run.status, run.progress = "finished", 100
    run.ended_at = utcnow()


def _mark_failed(run, exc, count_attempt=True):
    if count_attempt:  # inline, the attempt was rolled back with the job's work: count it again
        run.attempts = (run.attempts or 0) + 1
    run.status = "failed"
    run.error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000]
    run.ended_at = utcnow()


def report_progress(percent, note=""):
    """Called by a long job to show how far it is (kept in its JobRun row).

    On a worker the row is updated on a connection of its own and committed at once, so the jobs
    page sees it while the job's work stays uncommitted (and is rolled back whole if the job
    fails); the session's copy of the run is set as already saved, so the session never writes
    (nor locks) the row mid-job. Inline, and on SQLite (one writer at a time: another connection
    would wait for the job's own transaction), the progress is saved with the job's work."""
    from flask import g
    run = g.get("job_run")
    if run is None:
        return
    percent, note = max(0, min(100, int(percent))), note[:200]
    if g.get("job_progress_apart") and db.engine.dialect.name != "sqlite":
        table = JobRun.__table__
        with own_transaction(db.engine) as connection:
            connection.execute(update(table).where(table.c.id == run.id).values(progress=percent, progress_note=note))
        set_committed_value(run, "progress", percent)
        set_committed_value(run, "progress_note", note)
    else:
        run.progress, run.progress_note = percent, note


def run_job(run_id):
    """The function RQ executes (in `flask --app wsgi worker`, inside the app context)."""
    from flask import g
    global _pool_pid
    if os.getpid() != _pool_pid:  # a forked work horse must not share the parent's connections
        db.engine.dispose(close=False)
        _pool_pid = os.getpid()
    try:
        with all_tenants():
            run = db.session.get(JobRun, run_id)
            tenant_id = run.tenant_id if run else None
        if run is None:
            log.warning("job run %s vanished", run_id)
            return
        if run.status == "finished":
            return  # already done: a retry after success changes nothing
        scope = tenant_scope(tenant_id) if tenant_id is not None else all_tenants()
        with scope:
            _start(run)
            db.session.commit()  # seen running at once; the job's work below is one transaction
            g.job_run, g.job_progress_apart = run, True
            try:
                _execute(run)
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                run = db.session.get(JobRun, run_id)
                _mark_failed(run, exc, count_attempt=False)
                db.session.commit()
                raise
            finally:
                g.pop("job_run", None)
                g.pop("job_progress_apart", None)
    finally:
        db.session.remove()


def install(session_class):
    """Hand jobs to RQ once the transaction that created them has committed.

    SQLAlchemy also fires after_commit and after_rollback for savepoints: releasing a savepoint
    is not a commit (the job waits for the outermost one), and rolling one back drops only the
    jobs enqueued inside it."""
    @event.listens_for(session_class, "after_commit")
    def _flush_pending(session):
        if not pending.outermost(session):
            return  # a savepoint released: the outer transaction may still roll back
        run_ids = pending.take(session, _PENDING_KEY)
        if run_ids:
            queue = rq_queue()
            for run_id in run_ids:
                queue.enqueue(run_job, run_id, retry=RETRY, job_timeout=3600,
                              description=f"portal job run {run_id}")

    @event.listens_for(session_class, "after_rollback")
    def _drop_pending(session):
        pending.drop_rolled_back(session, _PENDING_KEY)

    @event.listens_for(session_class, "after_transaction_end")
    def _forget_pending(session, transaction):
        if transaction.parent is None:  # closed without a commit (session.close()): never queued
            pending.forget(session, _PENDING_KEY)
