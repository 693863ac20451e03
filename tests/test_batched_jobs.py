"""Batched jobs (jobs/queue.py enqueue_batched): many small items of one job and bureau judged
together in one JobRun on the short queue, each item at least once, never one whose transaction
rolled back; a failed batch keeps its items for the retry; without Redis each item runs inline."""
import os
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.jobs import queue
from portal.jobs.models import JobRun
from portal.jobs.queue import enqueue_batched, short_queue_name, task
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import tenant_scope
from tests import support

ON_REDIS = os.environ.get("PORTAL_TEST_DB", "sqlite") == "postgresql"
FIRST_DAY = date(2026, 1, 1)
CALLS = []        # the items of each call of the task, in call order (the worker runs in this process)
FAILING = set()   # while not empty, the task fails

pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture(autouse=True)
def _fresh_calls():
    CALLS.clear()
    FAILING.clear()
    yield
    FAILING.clear()


@task("test.batched")
def judge_batch(items):
    """Idempotent: a working-day override of the current bureau per item (day FIRST_DAY + item)."""
    CALLS.append(list(items))
    if FAILING:
        raise RuntimeError("the batch fails on purpose")
    have = set(db.session.scalars(select(CalendarOverride.day)))
    for item in items:
        day = FIRST_DAY + timedelta(days=item)
        if day not in have:
            db.session.add(CalendarOverride(day=day, is_working=True, note=f"item {item}"))


def _judged(app, tenant_id):
    """The items whose work is committed in the bureau."""
    with app.app_context(), tenant_scope(tenant_id):
        return sorted((d - FIRST_DAY).days for d in db.session.scalars(select(CalendarOverride.day)))


def _runs(app):
    with support.as_platform(app):
        return [(r.name, r.tenant_id, r.status, r.kwargs, r.error) for r in
                db.session.scalars(select(JobRun).order_by(JobRun.enqueued_at, JobRun.id))]


def _short_queue_count(app):
    if not ON_REDIS:
        return 0
    from rq import Queue
    with app.app_context():
        return Queue(short_queue_name(app.config), connection=queue.redis_connection()).count


def test_items_of_many_transactions_run_in_a_few_batches_each_at_least_once(app, demo, run_worker):
    gx = demo.tenant_id("ganxian")
    for item in range(30):
        with app.app_context(), tenant_scope(gx):
            enqueue_batched("test.batched", item)
            if ON_REDIS:  # nothing is written, not even the JobRun, before the commit
                assert db.session.scalars(select(JobRun)).first() is None
            db.session.commit()
    if ON_REDIS:
        assert _short_queue_count(app) == 1  # one job for the whole batch
        assert _judged(app, gx) == []
        assert run_worker() == 1
    runs = _runs(app)
    assert all(name == "test.batched" and tenant == gx and status == "finished" for name, tenant, status, _, _ in runs)
    assert sorted(i for *_, kwargs, _ in runs for i in kwargs["items"]) == list(range(30))
    assert sorted(i for call in CALLS for i in call) == list(range(30))
    if ON_REDIS:
        assert len(runs) <= 3
    else:
        assert [kwargs for *_, kwargs, _ in runs] == [{"items": [i]} for i in range(30)]
    assert _judged(app, gx) == list(range(30))
    assert run_worker() == 0 and len(_runs(app)) == len(runs)  # nothing waits any more


@pytest.mark.skipif(not ON_REDIS, reason="batches are gathered in Redis")
def test_a_batch_takes_at_most_batch_size_items_and_queues_the_rest(app, demo, run_worker, monkeypatch):
    monkeypatch.setattr(queue, "BATCH_SIZE", 10)
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    with app.app_context():
        for item in range(25):
            enqueue_batched("test.batched", item, tenant_id=gx)
        enqueue_batched("test.batched", 99, tenant_id=zg)  # another bureau: a batch of its own
        db.session.commit()
    assert _short_queue_count(app) == 2
    assert run_worker() == 4  # gx: 10 + 10 + 5, each job queuing the next; zg: 1
    runs = _runs(app)
    assert sorted(len(kwargs["items"]) for *_, kwargs, _ in runs) == [1, 5, 10, 10]
    assert {(tenant, status) for _, tenant, status, _, _ in runs} == {(gx, "finished"), (zg, "finished")}
    assert _judged(app, gx) == list(range(25)) and _judged(app, zg) == [99]


def test_an_item_of_a_rolled_back_transaction_or_savepoint_never_runs(app, demo, run_worker):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        enqueue_batched("test.batched", 1)
        db.session.rollback()
        enqueue_batched("test.batched", 2)
        with db.session.begin_nested():  # released: the item waits for the outer commit
            enqueue_batched("test.batched", 3)
        try:
            with db.session.begin_nested():
                enqueue_batched("test.batched", 4)
                raise RuntimeError("undo this part")
        except RuntimeError:
            pass
        if ON_REDIS:
            assert _short_queue_count(app) == 0, "an item was handed over before its transaction committed"
        db.session.commit()
        enqueue_batched("test.batched", 5)
        db.session.close()  # closed without a commit: dropped too
    run_worker()
    assert _judged(app, gx) == [2, 3]
    runs = _runs(app)
    assert sorted(i for *_, kwargs, _ in runs for i in kwargs["items"]) == [2, 3]
    if ON_REDIS:
        assert [i for call in CALLS for i in call] == [2, 3]  # the others never reached the task


def test_a_failed_batch_keeps_its_items_and_the_admins_retry_runs_them(app, demo, login, run_worker):
    gx = demo.tenant_id("ganxian")
    FAILING.add(True)
    with app.app_context(), tenant_scope(gx):
        for item in (7, 8, 9):
            enqueue_batched("test.batched", item)
        db.session.commit()
    run_worker()
    failed = _runs(app)
    assert failed and {status for _, _, status, _, _ in failed} == {"failed"}
    assert all("the batch fails on purpose" in error for *_, error in failed)
    assert sorted(i for *_, kwargs, _ in failed for i in kwargs["items"]) == [7, 8, 9]
    assert _judged(app, gx) == []

    FAILING.clear()
    admin = login("gx-admin")
    with support.as_platform(app):
        run_ids = list(db.session.scalars(select(JobRun.id)))
    for run_id in run_ids:
        html = admin.get("/jobs/?status=failed").get_data(as_text=True)
        assert f"/jobs/{run_id}/retry" in html
        response = admin.post(f"/jobs/{run_id}/retry", data={"csrf_token": support.csrf_token_from(html)})
        assert response.status_code == 302
    if ON_REDIS:  # a batch's retry goes to the short queue
        assert _short_queue_count(app) == len(run_ids)
        run_worker()
    runs = _runs(app)
    assert len(runs) == len(failed) and {status for _, _, status, _, _ in runs} == {"finished"}
    assert _judged(app, gx) == [7, 8, 9]


@pytest.mark.skipif(ON_REDIS, reason="inline mode only")
def test_without_redis_each_item_runs_inline_at_once(app, demo):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        assert enqueue_batched("test.batched", 4) is None
        assert CALLS == [[4]]  # inside the caller's transaction, before its commit
        db.session.commit()
    assert _runs(app) == [("test.batched", gx, "finished", {"items": [4]}, "")]
    assert _judged(app, gx) == [4]
    with pytest.raises(KeyError):
        with app.app_context():
            enqueue_batched("test.no_such_job", 1)


@pytest.mark.skipif(not ON_REDIS, reason="a worker takes jobs from Redis")
def test_the_short_worker_runs_the_short_queue_without_forking(app, demo):
    from rq import Queue, SimpleWorker

    from portal.jobs.workers import ShortJobWorker, make_worker, queues_served
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        for item in (1, 2):
            enqueue_batched("test.batched", item)
        db.session.commit()
        long_queue = Queue(app.config["JOB_QUEUE"], connection=queue.redis_connection())
        assert long_queue.count == 0  # batches never wait behind the long jobs
        worker = make_worker(app.config, queue.redis_connection(), short=True)
        assert isinstance(worker, ShortJobWorker) and isinstance(worker, SimpleWorker)
        assert [q.name for q in worker.queues] == [short_queue_name(app.config)]
        assert queues_served(app.config, short=False) == [short_queue_name(app.config), app.config["JOB_QUEUE"]]
    assert _short_queue_count(app) == 1
    result = support.platform_app(app).test_cli_runner().invoke(args=["worker", "--short", "--burst", "--no-schedule"])
    assert result.exit_code == 0, result.output
    assert _short_queue_count(app) == 0
    assert _judged(app, gx) == [1, 2]
    assert [(status, kwargs) for _, _, status, kwargs, _ in _runs(app)] == [("finished", {"items": [1, 2]})]


@pytest.mark.skipif(not ON_REDIS, reason="batches are gathered in Redis")
def test_a_batch_whose_job_was_lost_is_queued_again_by_the_tick(app, demo, run_worker, monkeypatch):
    from portal.jobs import schedule
    monkeypatch.setattr(schedule, "PERIODIC", [])  # the tick's other work is tested in test_jobs.py
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        enqueue_batched("test.batched", 5)
        db.session.commit()
        from rq import Queue
        Queue(short_queue_name(app.config), connection=queue.redis_connection()).empty()  # the job is lost
        assert queue.queue_stranded_batches() == 0  # its marker still says "queued"
        queue.redis_connection().delete(queue._batch_keys(short_queue_name(app.config), "test.batched", gx)[1])
    assert schedule.tick(app) == []
    assert _short_queue_count(app) == 1
    with app.app_context():
        assert queue.queue_stranded_batches() == 0  # queued once
    run_worker()
    assert _judged(app, gx) == [5]


@pytest.mark.skipif(not ON_REDIS, reason="a worker takes jobs from Redis")
def test_the_plain_worker_forks_for_every_job_and_runs_the_short_queue_too(app, demo):
    """One `flask --app wsgi worker` alone still runs the batches (in a forked work horse, which
    drops the connections it inherited before its first query)."""
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        enqueue_batched("test.batched", 6)
        db.session.commit()
    assert _short_queue_count(app) == 1
    result = support.platform_app(app).test_cli_runner().invoke(args=["worker", "--burst", "--no-schedule"])
    assert result.exit_code == 0, result.output
    assert _short_queue_count(app) == 0
    assert _judged(app, gx) == [6]
    assert CALLS == []  # it ran in another process
    assert [(status, kwargs) for _, _, status, kwargs, _ in _runs(app)] == [("finished", {"items": [6]})]
