"""Handing a JobRun to RQ, as RQ job ``portal-run-<run id>`` (queue.py hands a run over after the
commit that recorded it, jobs/recovery.py again when RQ lost it).

One RQ job id per run lets the sweep see whether RQ still holds the run, but RQ keeps an old job's
hash under that id: re-queuing over a finished or failed job keeps its expiry (RQ saves the new job
without clearing the old hash's TTL, so the queued job could vanish when the old result expires).
So a hand-over first looks at the job under the id: one RQ is about to deliver or is running is
left alone (the hand-over is not needed); any other (finished, failed, stopped, canceled,
unreadable) is deleted before the run is queued afresh.
"""
import logging

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job

from portal.extensions import redis_connection

log = logging.getLogger("portal.jobs")
WILL_DELIVER = ("queued", "scheduled", "deferred")  # RQ delivers these by itself
LIVE = (*WILL_DELIVER, "started")


def rq_job_id(run_id):
    """The RQ job of a JobRun: one id, so the sweep sees whether RQ still holds the run."""
    return f"portal-run-{run_id}"


def rq_status(run_id, connection):
    """The status of the run's RQ job ("queued", "started", …), None without one, "unreadable" if
    RQ cannot read it back."""
    try:
        status = Job.fetch(rq_job_id(run_id), connection=connection).get_status(refresh=False)
    except NoSuchJobError:
        return None
    except (ValueError, TypeError, LookupError) as exc:  # a hash RQ cannot parse (another RQ version…)
        log.warning("RQ job of run %s cannot be read (%s)", run_id, exc)
        return "unreadable"
    return getattr(status, "value", status)


def _clear(job_id, connection):
    try:
        Job.fetch(job_id, connection=connection).delete()
    except NoSuchJobError:
        pass
    except (ValueError, TypeError, LookupError):
        connection.delete(Job.key_for(job_id))  # unreadable: its hash goes; RQ's registries drop strays


def hand_over(run_id, tenant_id, short=False, abandoned=False, at_once=False):
    """Queue JobRun ``run_id`` of bureau ``tenant_id`` on RQ now (on the short queue if ``short``),
    unless RQ already holds it (queued, scheduled, deferred or started). With ``abandoned``, a
    "started" job is one whose runner died (jobs/recovery.py) and is replaced; with ``at_once`` (a
    commit asked for the run: a retry from the jobs page), so is a job waiting for its time (RQ's
    own retry, scheduled in a minute). Returns whether it was queued."""
    from flask import current_app

    from portal.jobs.queue import BATCH_TIMEOUT, RETRY, run_job, short_queue_name
    connection = redis_connection()
    job_id = rq_job_id(run_id)
    status = rq_status(run_id, connection)
    if status == "queued" or (status == "started" and not abandoned) or (status in WILL_DELIVER and not at_once):
        return False
    if status is not None:
        _clear(job_id, connection)
    name = short_queue_name(current_app.config) if short else current_app.config["JOB_QUEUE"]
    Queue(name, connection=connection).enqueue(
        run_job, run_id, tenant_id, job_id=job_id, retry=RETRY,
        job_timeout=BATCH_TIMEOUT if short else 3600, description=f"portal job run {run_id}")
    return True
