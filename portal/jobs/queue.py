"""Background jobs: queued on RQ when REDIS_URL is set, run inline otherwise.

A job is a function registered with ``@task("name")`` that takes plain values (ids, never ORM
objects) and is idempotent. ``enqueue`` records a JobRun in the caller's transaction; on RQ the
job is handed to Redis only after that transaction commits, so a worker never sees a job whose
data was rolled back. A job's work is one transaction: a worker commits it when the job returns
and rolls it back when it raises; inline it is a savepoint of the caller's transaction. Progress
(``report_progress``) never commits that work: on a worker it is written on a connection of its own.

``enqueue_batched`` is for many small pieces of the same work (one id each): the request only
remembers the item; after its commit the item joins a Redis set per queue, job and bureau, and one
job on the short queue (``short_queue_name``, run by ``flask --app wsgi worker --short``) takes up
to ``BATCH_SIZE`` of the items present into one JobRun.
"""
import json
import logging
import os
import time
import traceback
import uuid

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import event, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.audit.recorder import acting_as, current_actor
from portal.core import pending
from portal.core.timeutil import utcnow
from portal.extensions import db, redis_connection
from portal.jobs.handover import hand_over
from portal.jobs.lease import run_lease
from portal.jobs.models import JobRun
from portal.jobs.schedule import in_process_scheduler_wanted
from portal.tenancy.scope import all_tenants, current_tenant_id, own_transaction, tenant_scope

log = logging.getLogger("portal.jobs")
TASKS = {}
RETRY = Retry(max=3, interval=[10, 30, 60])
_PENDING_KEY = "portal_pending_jobs"
_BATCHED_KEY = "portal_pending_batched"
BATCH_SIZE = 500          # items per batched JobRun; the others wait for the next job
BATCH_MARKER_TTL = 120    # seconds: a lost batch job stops blocking new ones after this long
BATCH_TIMEOUT = 600       # seconds a batched job may run (RQ's job timeout)
BATCHED_BY = "jobs:batched"  # JobRun.requested_by of batched runs (their retry goes to the short queue)
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


def short_queue_name(config):
    """The queue of the short jobs (batches): SHORT_JOB_QUEUE, or JOB_QUEUE + "-short"."""
    return config.get("SHORT_JOB_QUEUE") or f"{config['JOB_QUEUE']}-short"


def enqueue(name, tenant_id=None, **kwargs):
    """Record and start job ``name`` for ``tenant_id`` (default: the current tenant)."""
    if name not in TASKS:
        raise KeyError(f"unknown job {name!r}")
    run = _record(name, tenant_id, kwargs)
    if current_app.config.get("REDIS_URL"):
        _hand_over_after_commit(run.id, run.tenant_id)
    else:
        _run_inline(run.id)
    return run


def _record(name, tenant_id, kwargs, run_id=None, requested_by=None):
    tenant_id = current_tenant_id() if tenant_id is None else tenant_id
    run = JobRun(id=run_id or str(uuid.uuid4()), name=name, kwargs=kwargs, tenant_id=tenant_id,
                 requested_by=(requested_by or current_actor()[1])[:64])
    with _scope_of(tenant_id):
        db.session.add(run)
        db.session.flush()
    return run


def _scope_of(tenant_id):
    """A run's bureau's scope; for a platform run (no bureau) ``all_tenants`` (jobs/recovery.py)."""
    return tenant_scope(tenant_id) if tenant_id is not None else all_tenants()


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


def enqueue_batched(name, item, tenant_id=None):
    """Run job ``name`` for ``item`` (a small JSON value, e.g. an id) in a batch with the other
    items of the same job and bureau: the task is called as ``task(items=[...])`` and must be
    idempotent (an item may be judged twice, never not at all). With Redis nothing is written now:
    the item is remembered with the session and, once the outermost transaction commits, added to
    the batch (a rolled-back savepoint or transaction drops it; see install and run_batch). Without
    Redis it is ``enqueue(name, items=[item])``, run at once, inline (a development portal judges
    a check-out before it answers)."""
    if name not in TASKS:
        raise KeyError(f"unknown job {name!r}")
    tenant_id = current_tenant_id() if tenant_id is None else tenant_id
    if not current_app.config.get("REDIS_URL"):
        enqueue(name, tenant_id, items=[item])
        return
    session = db.session()
    if not session.in_transaction():
        session.begin()  # the item belongs to a transaction: its commit hands it over, its end drops it
    pending.collect(session, _BATCHED_KEY, (name, tenant_id, item))


def _batch_keys(queue_name, name, tenant_id):
    """The Redis set of a batch's waiting items and its marker "a job for them is queued"."""
    tail = f"{queue_name}:{name}:{'-' if tenant_id is None else tenant_id}"
    return f"portal:batch-items:{tail}", f"portal:batch-queued:{tail}"


def _batch_of_key(queue_name, items_key):
    """(name, tenant_id) of a batch from its items key (the inverse of _batch_keys)."""
    name, tenant = items_key[len(f"portal:batch-items:{queue_name}:"):].rsplit(":", 1)
    return name, None if tenant == "-" else int(tenant)


def _hand_over_items(items):
    """After a commit: add the items to their batches (one round trip) and queue a batch job for
    each batch that has none queued yet."""
    queue = Queue(short_queue_name(current_app.config), connection=redis_connection())
    batches = {}
    for name, tenant_id, item in items:
        batches.setdefault((name, tenant_id), set()).add(json.dumps(item))
    pipe = queue.connection.pipeline(transaction=False)
    for (name, tenant_id), members in batches.items():
        items_key, marker = _batch_keys(queue.name, name, tenant_id)
        pipe.sadd(items_key, *members)
        pipe.set(marker, "1", nx=True, ex=BATCH_MARKER_TTL)
    claimed = pipe.execute()[1::2]
    for (name, tenant_id), new in zip(batches, claimed):
        if new:
            _queue_batch_job(queue, name, tenant_id)


def _queue_batch_job(queue, name, tenant_id):
    run_id = str(uuid.uuid4())  # the JobRun it will record: an RQ retry re-runs that run
    queue.enqueue(run_batch, queue.name, name, tenant_id, run_id, retry=RETRY, job_timeout=BATCH_TIMEOUT,
                  description=f"portal batch {name} run {run_id}")


def run_batch(queue_name, name, tenant_id, run_id):
    """The function RQ executes for a batch. The first time, it clears the batch's marker (so an
    item added from now on queues another job), records one JobRun ``run_id`` for up to
    BATCH_SIZE waiting items, and only then removes them from the set: an item is in a JobRun or
    still waiting, whatever fails. Then, and on RQ's retries, it runs that JobRun (run_job)."""
    _own_pool()
    try:
        with _scope_of(tenant_id):
            recorded = db.session.get(JobRun, run_id) is not None
        if not recorded and not _take_batch(queue_name, name, tenant_id, run_id):
            return  # another job took the items first
    finally:
        db.session.remove()
    run_job(run_id, tenant_id)


def _take_batch(queue_name, name, tenant_id, run_id):
    connection = redis_connection()
    items_key, marker = _batch_keys(queue_name, name, tenant_id)
    window = current_app.config.get("BATCH_WINDOW_SECONDS") or 0
    if window and connection.scard(items_key) < BATCH_SIZE:
        # Items that arrive meanwhile join this batch (the marker still says a job is queued):
        # under load one job judges many check-outs instead of one job per check-out.
        time.sleep(window)
    connection.delete(marker)
    members = connection.srandmember(items_key, BATCH_SIZE)
    if members:
        items = [json.loads(m) for m in members]
        try:
            items.sort()
        except TypeError:  # items of mixed kinds: their order does not matter
            pass
        _record(name, tenant_id, {"items": items}, run_id=run_id, requested_by=BATCHED_BY)
        db.session.commit()
        connection.srem(items_key, *members)
    if connection.scard(items_key) and connection.set(marker, "1", nx=True, ex=BATCH_MARKER_TTL):
        _queue_batch_job(Queue(queue_name, connection=connection), name, tenant_id)  # the rest
    return bool(members)


def queue_stranded_batches():
    """Queue a job for every batch with waiting items and no job queued (its job was lost: a
    worker killed mid-job, a Redis restart); run by the periodic tick. Returns how many."""
    connection = redis_connection()
    queue = Queue(short_queue_name(current_app.config), connection=connection)
    queued = 0
    for key in connection.scan_iter(match=f"portal:batch-items:{queue.name}:*", count=500):
        name, tenant_id = _batch_of_key(queue.name, key.decode())
        marker = _batch_keys(queue.name, name, tenant_id)[1]
        if connection.scard(key) and connection.set(marker, "1", nx=True, ex=BATCH_MARKER_TTL):
            _queue_batch_job(queue, name, tenant_id)
            queued += 1
    return queued


def run_queued_inline(run_id, tenant_id=None):
    """Run one queued run of bureau ``tenant_id`` now, inline (the in-process scheduler's deferred work)."""
    with _scope_of(tenant_id):
        run = db.session.get(JobRun, run_id)
    if run is not None and run.status == "queued":
        _run_inline(run_id)


def retry(run):
    """Start a failed job again with the same arguments (queued afresh: the sweep's clock restarts)."""
    run.status, run.error, run.progress, run.enqueued_at = "queued", "", 0, utcnow()
    db.session.flush()
    if current_app.config.get("REDIS_URL"):
        _hand_over_after_commit(run.id, run.tenant_id, short=run.requested_by == BATCHED_BY)
    else:
        _run_inline(run.id)


def _hand_over_after_commit(run_id, tenant_id, short=False):
    """``hand_over`` once the session's outermost transaction commits; the innermost savepoint open
    now is remembered: if it rolls back, the job goes with it."""
    pending.collect(db.session(), _PENDING_KEY, (run_id, tenant_id, short))


def _run_inline(run_id):
    """Inline mode: run now inside a savepoint, so a failing job leaves the caller's work intact."""
    from flask import g
    run = db.session.get(JobRun, run_id)
    with _scope_of(run.tenant_id):  # the failure is recorded in the job's own bureau too
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
    """Called by a long job to show how far it is (kept in its JobRun row). On a worker the row is
    updated on a connection of its own and committed at once, so the jobs page sees it while the
    job's work stays uncommitted; the session's copy is set as already saved, so the session never
    writes (nor locks) the row mid-job. Inline, and on SQLite (one writer at a time), the progress
    is saved with the job's work."""
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


_UNKNOWN = "unknown"


def run_job(run_id, tenant_id=_UNKNOWN):
    """The function RQ executes (`flask --app wsgi worker`), under the run's lease (jobs/lease.py):
    a second delivery of a run being run leaves at once. The run is found in its bureau
    (``tenant_id``, handed over with the RQ job); an older job without it, platform-wide."""
    _own_pool()
    with run_lease(run_id) as held:
        if not held:
            log.info("job run %s is being run elsewhere: this delivery leaves it", run_id)
            return
        _run_leased(run_id, tenant_id)


def _run_leased(run_id, tenant_id):
    from flask import g
    try:
        with (all_tenants() if tenant_id == _UNKNOWN else _scope_of(tenant_id)):
            run = db.session.get(JobRun, run_id)
            tenant_id = run.tenant_id if run else None
        if run is None:
            log.warning("job run %s vanished", run_id)
            return
        if run.status == "finished":
            return  # already done: a retry after success, or a repeated hand-over, changes nothing
        with _scope_of(tenant_id):
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


def _own_pool():
    """A forked work horse must not share the parent's connections: it drops them from its pool
    (without closing the parent's) before its first query. A non-forking worker keeps its pool."""
    global _pool_pid
    if os.getpid() != _pool_pid:
        db.engine.dispose(close=False)
        _pool_pid = os.getpid()


def install(session_class):
    """Hand jobs, and batched items, to Redis once the transaction that created them has committed.

    SQLAlchemy also fires after_commit and after_rollback for savepoints: releasing a savepoint
    is not a commit (the job waits for the outermost one), and rolling one back drops only the
    jobs and items enqueued inside it."""
    @event.listens_for(session_class, "after_commit")
    def _flush_pending(session):
        if not pending.outermost(session):
            return  # a savepoint released: the outer transaction may still roll back
        run_ids, items = pending.take(session, _PENDING_KEY), pending.take(session, _BATCHED_KEY)
        try:
            for run_id, tenant_id, is_short in run_ids:
                hand_over(run_id, tenant_id, is_short, at_once=True)
            if items:
                _hand_over_items(items)
        except RedisError as exc:
            # Committed already: the request still succeeds. Its runs stay "queued" and the
            # periodic sweep hands them over when Redis is back (jobs/recovery.py); batched items
            # are found again by their own periodic jobs (e.g. supervision.compare_unjudged).
            log.warning("Redis unreachable after a commit (%s): %d job run(s) left queued for the sweep, "
                        "%d batched item(s) left to their periodic jobs", exc, len(run_ids), len(items))

    @event.listens_for(session_class, "after_rollback")
    def _drop_pending(session):
        for key in (_PENDING_KEY, _BATCHED_KEY):
            pending.drop_rolled_back(session, key)

    @event.listens_for(session_class, "after_transaction_end")
    def _forget_pending(session, transaction):
        if transaction.parent is None:  # closed without a commit (session.close()): never queued
            pending.forget(session, _PENDING_KEY)
            pending.forget(session, _BATCHED_KEY)
