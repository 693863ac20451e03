"""The sweep that finds job runs RQ no longer holds and hands them over again (run by the
periodic tick of every worker, jobs/schedule.py).

A JobRun is recorded in the requester's transaction and handed to RQ after its commit
(queue.hand_over, as RQ job ``portal-run-<run id>``). Two faults strand a run:

- Redis was unreachable at the hand-over (or lost its data in a restart): the run stays "queued"
  with no RQ job. The sweep hands over every run queued for longer than STALE_AFTER whose RQ job
  is missing or ended.
- The worker running it died (killed, out of memory, its machine lost): the run stays "running",
  its work rolled back with the dead connection, and its lease (jobs/lease.py) is free. The
  sweep hands it over unless RQ is about to deliver it again anyway (its retry queued or scheduled).

A run handed over twice still runs once: run_job leaves a run that is finished or whose lease is
held, and jobs are idempotent.
"""
import logging
from datetime import timedelta

from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import and_, or_, select

from portal.core.timeutil import utcnow
from portal.extensions import db, redis_connection
from portal.jobs.lease import lease_is_free
from portal.jobs.models import JobRun
from portal.jobs.queue import BATCHED_BY, hand_over, rq_job_id
from portal.tenancy.scope import all_tenants

log = logging.getLogger("portal.jobs.recovery")
STALE_AFTER = timedelta(seconds=60)  # a queued run's normal hand-over comes right after its commit
SWEEP_LIMIT = 500
_WILL_DELIVER = ("queued", "scheduled", "deferred")


def _rq_status(run_id, connection):
    try:
        return Job.fetch(rq_job_id(run_id), connection=connection).get_status(refresh=False)
    except NoSuchJobError:
        return None


def hand_over_stranded(now=None, stale_after=STALE_AFTER):
    """Hand over again the runs RQ lost (see the module's text). Returns their ids."""
    now = now or utcnow()
    redis = redis_connection()
    try:
        with all_tenants():
            rows = db.session.execute(select(JobRun.id, JobRun.status, JobRun.requested_by, JobRun.tenant_id).where(or_(
                and_(JobRun.status == "queued", JobRun.enqueued_at <= now - stale_after),
                JobRun.status == "running")).order_by(JobRun.enqueued_at).limit(SWEEP_LIMIT)).all()
        db.session.rollback()
        handed = []
        with db.engine.connect() as connection:
            for run_id, status, requested_by, tenant_id in rows:
                rq_status = _rq_status(run_id, redis)
                rq_status = getattr(rq_status, "value", rq_status)
                if status == "queued" and rq_status in (*_WILL_DELIVER, "started"):
                    continue
                if status == "running" and (rq_status in _WILL_DELIVER or not lease_is_free(connection, run_id)):
                    continue
                hand_over(run_id, tenant_id, short=requested_by == BATCHED_BY)
                handed.append(run_id)
            connection.commit()
        if handed:
            log.warning("handed over again %d job run(s) that RQ had lost: %s", len(handed), ", ".join(handed))
        return handed
    finally:
        db.session.remove()
