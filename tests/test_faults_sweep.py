"""The recovery sweep's choices (jobs/recovery.py), on both databases, with RQ's answers stubbed
(what RQ says of a run's job, and the hand-over itself): "running" runs only where leases exist
(PostgreSQL) and only once started a while ago; one bad row does not stop the others; every
candidate is reached, page after page; a run handed over too often is marked failed, visibly; a
retried run is queued afresh. The real hand-overs run in tests/test_faults_redis.py and
test_faults_worker.py."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.jobs import recovery
from portal.jobs.models import JobRun
from portal.tenancy.scope import tenant_scope
from tests import support
from tests.conftest import BACKEND


class FakeRedis:
    """What the sweep asks of Redis itself: its hand-over counts."""

    def __init__(self):
        self.values = {}

    def pipeline(self, transaction=True):
        return self

    def incr(self, key):
        self.values[key] = self.values.get(key, 0) + 1
        self._result = self.values[key]

    def expire(self, key, seconds):
        pass

    def execute(self):
        return [self._result, True]

    def delete(self, *keys):
        for key in keys:
            self.values.pop(key, None)


@pytest.fixture
def sweep(app, monkeypatch):
    """Runs the sweep with RQ stubbed: ``rq`` maps run id -> the RQ status to report (default
    None: no job); ``handed`` lists the hand-overs made; ``broken`` run ids fail their hand-over."""
    state = {"rq": {}, "handed": [], "broken": set(), "redis": FakeRedis()}

    def hand_over(run_id, tenant_id, short=False, abandoned=False):
        if run_id in state["broken"]:
            raise RuntimeError("an RQ job that cannot be read back")
        state["handed"].append((run_id, abandoned))
        return True
    monkeypatch.setattr(recovery, "hand_over", hand_over)
    monkeypatch.setattr(recovery, "rq_status", lambda run_id, connection: state["rq"].get(run_id))
    monkeypatch.setattr(recovery, "redis_connection", lambda: state["redis"])

    def run(now=None):
        state["handed"].clear()
        with support.platform_app(app).app_context():  # as a worker runs it: all bureaus
            return recovery.hand_over_stranded(now=now)
    state["run"] = run
    return state


def add_run(app, tenant_id, status, age, started_age=None):
    run_id = str(uuid.uuid4())
    now = utcnow()
    with app.app_context(), tenant_scope(tenant_id):
        db.session.add(JobRun(id=run_id, name="tests.sweep", kwargs={}, tenant_id=tenant_id, status=status,
                              enqueued_at=now - age,
                              started_at=None if started_age is None else now - started_age))
        db.session.commit()
    return run_id


def row(app, run_id):
    with support.as_platform(app):
        return db.session.execute(select(JobRun.status, JobRun.error).where(JobRun.id == run_id)).one()


def test_running_runs_are_swept_only_where_leases_exist_and_only_once_started_a_while_ago(app, demo, sweep):
    gx = demo.tenant_id("ganxian")
    dead = add_run(app, gx, "running", timedelta(minutes=30), started_age=timedelta(minutes=20))
    young = add_run(app, gx, "running", timedelta(minutes=30), started_age=timedelta(seconds=5))
    sweep["rq"] = {dead: "started", young: "started"}  # RQ still says "started" after a worker died
    handed = sweep["run"]()
    if BACKEND == "postgresql":
        # Nobody holds the dead run's lease: its "started" RQ job is abandoned and replaced.
        assert handed == [dead] and sweep["handed"] == [(dead, True)]
    else:
        # SQLite has no leases: a "running" run cannot be told from an orphan, and is left alone
        # (otherwise every run being run would be handed over again, and run twice).
        assert handed == [] and sweep["handed"] == []


def test_queued_runs_rq_holds_are_left_and_the_others_handed_over(app, demo, sweep):
    gx = demo.tenant_id("ganxian")
    held = {status: add_run(app, gx, "queued", timedelta(minutes=5)) for status in ("queued", "started", "scheduled")}
    lost = add_run(app, gx, "queued", timedelta(minutes=5))
    ended = add_run(app, gx, "queued", timedelta(minutes=5))  # retried: its old RQ job finished
    fresh = add_run(app, gx, "queued", timedelta(seconds=5))
    sweep["rq"] = {run_id: status for status, run_id in held.items()} | {ended: "finished"}
    assert sorted(sweep["run"]()) == sorted([lost, ended])
    assert fresh not in dict(sweep["handed"])


def test_a_row_that_fails_does_not_stop_the_sweep_and_every_page_is_reached(app, demo, sweep, monkeypatch, caplog):
    gx = demo.tenant_id("ganxian")
    monkeypatch.setattr(recovery, "SWEEP_PAGE", 2)
    ids = [add_run(app, gx, "queued", timedelta(minutes=10 - n)) for n in range(5)]  # oldest first
    sweep["broken"] = {ids[0]}
    assert sweep["run"]() == ids[1:]  # three pages; the broken oldest row logged and skipped
    assert any("could not hand over job run " + ids[0] in r.getMessage() for r in caplog.records)


def test_a_run_handed_over_too_often_is_marked_failed_for_the_jobs_page(app, demo, sweep, login):
    gx = demo.tenant_id("ganxian")
    run_id = add_run(app, gx, "queued", timedelta(minutes=5))
    for _ in range(recovery.MAX_HAND_OVERS):
        assert sweep["run"]() == [run_id]  # each time RQ lost it again
    assert sweep["run"]() == []
    status, error = row(app, run_id)
    assert status == "failed" and f"{recovery.MAX_HAND_OVERS} 次" in error
    assert sweep["redis"].values == {}  # a retry from the jobs page counts afresh
    assert sweep["run"]() == []  # failed: no longer swept
    page = login("gx-admin").get("/jobs/?status=failed").get_data(as_text=True)
    assert "恢复巡检已将此任务重新交付" in page and f"/jobs/{run_id}/retry" in page


def test_a_retried_run_is_queued_afresh(app, demo):
    from portal.jobs import queue
    gx = demo.tenant_id("ganxian")
    run_id = add_run(app, gx, "failed", timedelta(days=2))
    with app.app_context(), tenant_scope(gx):
        run = db.session.get(JobRun, run_id)
        before = utcnow()
        run.name = "tests.sweep-retried"
        queue.TASKS["tests.sweep-retried"] = lambda: None
        try:
            queue.retry(run)
            assert run.enqueued_at >= before  # the sweep's STALE_AFTER counts from the retry
        finally:
            queue.TASKS.pop("tests.sweep-retried")
            db.session.rollback()
