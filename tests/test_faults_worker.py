"""Fault tests (issue 21, item 7): an RQ worker killed mid-job (SIGKILL to the worker and its work
horse, as when a machine or container dies). The job's work was one uncommitted transaction, so it
went with the dead connection; the run stays "running" with its lease free (jobs/lease.py). The
sweep of the periodic tick hands it over again, another worker runs it, and RQ's own handling of
the abandoned job (a retry from the started-jobs registry) delivers it once more, to no effect: the
job's effect is applied once. PostgreSQL pass only (a real forking `flask worker` subprocess)."""
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from rq import Queue
from rq.registry import ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import select

from portal.core.timeutil import utcnow
from portal.extensions import db, redis_connection
from portal.jobs.lease import lease_is_free
from portal.jobs.models import JobRun
from portal.jobs.handover import hand_over, rq_job_id
from portal.jobs.queue import enqueue, run_job, task
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import tenant_scope
from tests import support
from tests.conftest import BACKEND
from tests.test_faults_redis import DEADLINE, drain, wait_until

pytestmark = [
    pytest.mark.postgres, pytest.mark.redis, pytest.mark.usefixtures("own_queue"),
    pytest.mark.skipif(BACKEND != "postgresql", reason="needs PostgreSQL, Redis and an RQ worker"),
]
ROOT = Path(__file__).resolve().parent.parent


@task("tests.faults_slow_mark")
def slow_mark(day, journal):
    """Adds a day (not idempotent: a second effect would be a second row, refused as a duplicate)
    and, on its first attempt only, then waits to be killed (at most DEADLINE seconds). Every
    attempt's start is appended to ``journal``, which no rollback undoes."""
    with open(journal, "a") as out:
        out.write(f"start {os.getpid()}\n")
    first = Path(journal).read_text().count("start") == 1
    db.session.add(CalendarOverride(day=date.fromisoformat(day), is_working=True, note="fault test"))
    db.session.flush()  # written, not committed: the dead worker's transaction holds it
    if first:
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            time.sleep(0.1)
        raise RuntimeError("the fault test should have killed this worker")


def serve():
    """The worker subprocess: `flask --app wsgi worker --no-schedule` with this module's tasks
    registered and the test app's configuration (FAULT_WORKER_CONFIG)."""
    from portal import create_app
    from portal.jobs.workers import make_worker
    app = create_app(json.loads(os.environ["FAULT_WORKER_CONFIG"]))
    with app.app_context():
        make_worker(app.config, redis_connection()).work(burst=False, with_scheduler=False)


def start_worker(app, tmp_path):
    config = {key: app.config[key] for key in ("TESTING", "REDIS_URL", "RATELIMIT_STORAGE_URI",
                                              "FAST_PASSWORD_HASHING", "UPLOAD_DIR", "JOB_QUEUE", "BATCH_WINDOW_SECONDS")}
    config["SQLALCHEMY_DATABASE_URI"] = app.config["PLATFORM_DATABASE_URI"]  # a worker's role
    log = open(tmp_path / "worker.log", "w")
    return subprocess.Popen(
        [sys.executable, "-c", "from tests.test_faults_worker import serve; serve()"], cwd=ROOT,
        env={**os.environ, "FAULT_WORKER_CONFIG": json.dumps(config)}, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)  # its own process group: the kill takes the work horse too


def run_row(app, run_id):
    with support.as_platform(app):
        run = db.session.get(JobRun, run_id)
        return run.status, run.attempts


def marked(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return [str(d) for d in db.session.scalars(select(CalendarOverride.day).where(CalendarOverride.note == "fault test"))]


def test_a_job_whose_worker_is_killed_is_run_again_and_takes_effect_once(app, demo, tmp_path):
    from portal.jobs.recovery import hand_over_stranded
    gx = demo.tenant_id("ganxian")
    journal = tmp_path / "journal"
    with app.app_context(), tenant_scope(gx):
        run_id = enqueue("tests.faults_slow_mark", tenant_id=gx, day="2032-05-05", journal=str(journal)).id
        db.session.commit()

    worker = start_worker(app, tmp_path)
    try:
        wait_until(lambda: journal.exists() and "start" in journal.read_text(), "the worker to start the job")
        wait_until(lambda: run_row(app, run_id) == ("running", 1), "the run to show running")
        # A hand-over meanwhile sees RQ running the job and adds nothing; a second delivery even so
        # (RQ's retry of a job it thinks abandoned) finds the lease held and leaves.
        with app.app_context():
            assert hand_over(run_id, gx) is False
            Queue(app.config["JOB_QUEUE"], connection=redis_connection()).enqueue(run_job, run_id, gx)
        assert drain(app) == 1
        assert journal.read_text().count("start") == 1 and run_row(app, run_id) == ("running", 1)
    finally:
        # The machine dies: the worker and its work horse (RQ gives the horse a session of its
        # own; its pid is the one the job wrote).
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=DEADLINE)
        if journal.exists():
            horse = int(journal.read_text().split()[1])
            if horse != worker.pid:
                os.kill(horse, signal.SIGKILL)

    def lease_freed():
        with app.app_context(), db.engine.connect() as connection:
            return lease_is_free(connection, run_id)
    wait_until(lease_freed, "PostgreSQL to end the dead worker's session")  # and roll back its work
    assert marked(app, gx) == [] and run_row(app, run_id) == ("running", 1)

    # The sweep of the periodic tick finds the orphan (started over a minute ago, its lease free,
    # its RQ job still "started") and replaces the abandoned RQ job; a live worker runs it.
    later = utcnow() + timedelta(minutes=2)
    with support.platform_app(app).app_context():
        assert hand_over_stranded() == []  # started moments ago: not yet
        assert hand_over_stranded(now=later) == [run_id]
        assert hand_over_stranded(now=later) == []  # queued on RQ now: not twice
    assert drain(app) == 1
    assert run_row(app, run_id) == ("finished", 2)
    assert marked(app, gx) == ["2032-05-05"]

    # The abandoned job went with the replacement: RQ's clean-up of its started jobs finds nothing
    # to retry. Any late delivery finds the run finished and changes nothing.
    with app.app_context():
        queue = Queue(app.config["JOB_QUEUE"], connection=redis_connection())
        StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + 10 * 3600)
        assert rq_job_id(run_id) not in ScheduledJobRegistry(queue=queue).get_job_ids()
        queue.enqueue(run_job, run_id, gx)
    assert drain(app) == 1
    assert run_row(app, run_id) == ("finished", 2)
    assert marked(app, gx) == ["2032-05-05"]
    assert journal.read_text().count("start") == 2  # the killed attempt and the one that took effect
