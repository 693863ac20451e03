"""The sweep that finds job runs RQ no longer holds and hands them over again (run by the
periodic tick of every worker, jobs/schedule.py).

A JobRun is recorded in the requester's transaction and handed to RQ after its commit
(jobs/handover.py, as RQ job ``portal-run-<run id>``). Two faults strand a run:

- Redis was unreachable at the hand-over (or lost its data in a restart): the run stays "queued"
  with no RQ job. The sweep hands over every run queued for longer than STALE_AFTER whose RQ job
  is missing or ended.
- The worker running it died (killed, out of memory, its machine lost): the run stays "running",
  its work rolled back with the dead connection, and its lease (jobs/lease.py) is free. The
  sweep hands over a run started more than STALE_AFTER ago whose lease is free, unless RQ is about
  to deliver it again anyway (its retry queued or scheduled). Only on PostgreSQL: leases exist
  there only, and without one a "running" run cannot be told from one being run (SQLite with Redis
  is a development set-up; its dead runs stay "running" until retried by hand).

A run handed over twice still runs once: run_job leaves a run that is finished or whose lease is
held, and jobs are idempotent. The sweep reads every candidate, a page at a time; a row it cannot
handle is logged and skipped (the others are still swept). A run the sweep has had to hand over
MAX_HAND_OVERS times (a job that kills its worker, an RQ job that keeps vanishing) is marked failed
with a message saying so, for the jobs page, instead of being handed over for ever (the count is
kept in Redis for a week).
"""
import logging
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import and_, or_, select, update

from portal.core.timeutil import utcnow
from portal.extensions import db, redis_connection
from portal.jobs.handover import LIVE, WILL_DELIVER, hand_over, rq_status
from portal.jobs.lease import lease_is_free, leases_exist
from portal.jobs.models import JobRun
from portal.tenancy.scope import all_tenants

log = logging.getLogger("portal.jobs.recovery")
STALE_AFTER = timedelta(seconds=60)  # a queued run's normal hand-over comes right after its commit
SWEEP_PAGE = 500
MAX_HAND_OVERS = 5
_COUNT_TTL = 7 * 24 * 3600  # seconds


def _candidates(now, stale_after, with_running):
    """The stranded-looking runs, a page at a time, oldest first (keyset pagination)."""
    stale = now - stale_after
    condition = and_(JobRun.status == "queued", JobRun.enqueued_at <= stale)
    if with_running:
        condition = or_(condition, and_(JobRun.status == "running", JobRun.started_at <= stale))
    columns = (JobRun.id, JobRun.status, JobRun.requested_by, JobRun.tenant_id, JobRun.enqueued_at)
    after = None
    while True:
        stmt = select(*columns).where(condition)
        if after is not None:
            stmt = stmt.where(or_(JobRun.enqueued_at > after[0], and_(JobRun.enqueued_at == after[0], JobRun.id > after[1])))
        with all_tenants():
            rows = db.session.execute(stmt.order_by(JobRun.enqueued_at, JobRun.id).limit(SWEEP_PAGE)).all()
        db.session.rollback()
        yield from rows
        if len(rows) < SWEEP_PAGE:
            return
        after = (rows[-1].enqueued_at, rows[-1].id)


def hand_over_stranded(now=None, stale_after=STALE_AFTER):
    """Hand over again the runs RQ lost (see the module's text). Returns their ids."""
    from portal.jobs.queue import BATCHED_BY
    now = now or utcnow()
    redis = redis_connection()
    handed, given_up = [], []
    try:
        with_running = leases_exist(db.engine)
        with db.engine.connect() as connection:
            for run_id, status, requested_by, tenant_id, _at in _candidates(now, stale_after, with_running):
                try:
                    if status == "running" and not lease_is_free(connection, run_id):
                        continue  # being run
                    if rq_status(run_id, redis) in (WILL_DELIVER if status == "running" else LIVE):
                        continue  # RQ holds it (for a "running" run with a free lease, "started" is a dead job)
                    if _count_hand_over(redis, run_id) > MAX_HAND_OVERS:
                        _give_up(run_id, now)
                        given_up.append(run_id)
                    elif hand_over(run_id, tenant_id, short=requested_by == BATCHED_BY, abandoned=status == "running"):
                        handed.append(run_id)
                except RedisError:
                    raise  # Redis is down: the whole tick fails (logged by the worker's loop)
                except Exception:  # one bad row must not stop the sweep of the others
                    log.exception("the sweep could not hand over job run %s", run_id)
                    db.session.rollback()
            connection.commit()
        if handed:
            log.warning("handed over again %d job run(s) that RQ had lost: %s", len(handed), ", ".join(handed))
        return handed
    finally:
        db.session.remove()


def _count_key(run_id):
    return f"portal:sweep-hand-overs:{run_id}"


def _count_hand_over(redis, run_id):
    key = _count_key(run_id)
    pipe = redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, _COUNT_TTL)
    return pipe.execute()[0]


def _give_up(run_id, now):
    from flask_babel import gettext as _

    from portal.i18n import record_locale
    with record_locale():
        error = _("The recovery sweep handed this job over %(count)d times and it never ran to an end "
                  "(its worker died each time, or the queue lost it); it was stopped. Retry it once the cause "
                  "is fixed.", count=MAX_HAND_OVERS)
    with all_tenants():
        db.session.execute(update(JobRun).where(JobRun.id == run_id, JobRun.status.in_(("queued", "running")))
                           .values(status="failed", error=error, ended_at=now))
        db.session.commit()
    redis_connection().delete(_count_key(run_id))  # a retry from the jobs page starts counting afresh
    log.error("job run %s was handed over %d times by the sweep and never ended: marked failed", run_id, MAX_HAND_OVERS)
