"""Fault tests (issue 21, item 7): Redis stops while the portal serves pages and records jobs, and
two workers' schedulers race for the periodic jobs. PostgreSQL pass only (real Redis, real RQ
worker). The shared Redis of the test runs is never stopped: a test that stops Redis starts a
throwaway redis-server of its own (``--save ''``: a restart comes back empty, as a Redis without
persistence does) and an app pointed at it."""
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import func, select

from portal.extensions import db, redis_connection
from portal.jobs.models import JobRun
from portal.jobs.handover import hand_over, rq_job_id
from portal.jobs.queue import enqueue, task
from portal.tenancy.models import CalendarOverride
from portal.tenancy.scope import tenant_scope
from tests import support
from tests.conftest import BACKEND

pytestmark = [
    pytest.mark.postgres, pytest.mark.redis, pytest.mark.usefixtures("own_queue"),
    pytest.mark.skipif(BACKEND != "postgresql", reason="needs PostgreSQL, Redis and an RQ worker"),
]
DEADLINE = 20  # seconds: the most any wait below polls for


@task("tests.faults_mark_day")
def mark_day(day):
    """Not idempotent on purpose: a second run of one JobRun would add a second row (and fail on
    the unique day), so the rows count the runs that took effect."""
    from datetime import date
    db.session.add(CalendarOverride(day=date.fromisoformat(day), is_working=True, note="fault test"))


def wait_until(check, what, deadline=DEADLINE):
    """Poll ``check`` until it is true; fail after ``deadline`` seconds."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"gave up after {deadline} s waiting for {what}")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayRedis:
    """A redis-server of this test's own, on a free port, stopped (SIGKILL) and started at will."""

    def __init__(self, workdir):
        self.port, self.workdir, self.process = free_port(), workdir, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url, socket_connect_timeout=1)

        def answers():
            try:
                return client.ping()
            except Exception:
                return False
        wait_until(answers, "the throwaway redis-server to answer")
        client.close()

    def pause(self):
        """SIGSTOP: the server still accepts connections (the kernel does) but answers nothing, as
        a hung Redis (swapping, a stuck disk) does."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        self.process.send_signal(signal.SIGCONT)

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a paused server is killed all the same
            self.process.kill()
            self.process.wait(timeout=DEADLINE)
        self.process = None


@pytest.fixture
def own_redis(tmp_path):
    server = ThrowawayRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@pytest.fixture
def fault_app(app, demo, own_redis, monkeypatch):
    """An app like the suite's, on the throwaway Redis (jobs, rate limits), with a test route that
    requests a job as any page that starts one does."""
    from portal import create_app
    from portal.extensions import FallbackStrategy
    monkeypatch.setattr(FallbackStrategy, "RECHECK_SECONDS", 0.0)  # retry Redis at every count
    config = {key: app.config[key] for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "FAST_PASSWORD_HASHING",
                                              "UPLOAD_DIR", "SERVER_NAME", "BATCH_WINDOW_SECONDS", "JOB_QUEUE")}
    config.update(REDIS_URL=own_redis.url, RATELIMIT_STORAGE_URI=own_redis.url)
    faulty = create_app(config)
    faulty.config["PLATFORM_DATABASE_URI"] = app.config.get("PLATFORM_DATABASE_URI")  # its workers' role
    gx = demo.tenant_id("ganxian")

    @faulty.get("/_fault/request-job/<day>")
    def request_job(day):
        with tenant_scope(gx):
            return {"run": enqueue("tests.faults_mark_day", tenant_id=gx, day=day).id}

    yield faulty
    for each in {faulty, support.platform_app(faulty)}:
        with each.app_context():
            db.session.remove()
            db.engine.dispose()


def worker_side(app):
    """``app`` as its workers run it (support.platform_app): the sweep and the periodic tick see
    every bureau's runs."""
    return support.platform_app(app)


def drain(app):
    """A real RQ worker (non-forking, burst) on ``app``'s Redis: runs what is queued; returns how many."""
    from portal.jobs.workers import ShortJobWorker, queues_served
    app = worker_side(app)
    with app.app_context():
        worker = ShortJobWorker(queues_served(app.config, short=False), connection=redis_connection())
        worker.work(burst=True)
        worker.refresh()
        return worker.successful_job_count + worker.failed_job_count


def runs(app):
    with support.as_platform(app):
        return {r.id: (r.status, r.attempts) for r in db.session.scalars(select(JobRun))}


def marked_days(app, tenant_id):
    with app.app_context(), tenant_scope(tenant_id):
        return sorted(str(d) for d in db.session.scalars(select(CalendarOverride.day)
                                                          .where(CalendarOverride.note == "fault test")))


def test_pages_and_sign_in_are_served_while_redis_is_down(fault_app, own_redis, caplog):
    client = fault_app.test_client()
    assert support.form_post(client, "/login", {"username": "gx-officer", "password": support.PASSWORD}).status_code == 302
    own_redis.kill()

    assert client.get("/contracts/").status_code == 200  # signed in: sessions live in PostgreSQL
    assert fault_app.test_client().get("/public/").status_code == 200
    ready = fault_app.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"] == {"database": "ok", "redis": "error: ConnectionError"}
    # Signing in still works; the throttling counts in the process's memory meanwhile (logged).
    other = fault_app.test_client()
    assert support.form_post(other, "/login", {"username": "gx-admin", "password": support.PASSWORD}).status_code == 302
    assert any("rate-limit storage unreachable" in r.getMessage() for r in caplog.records)

    # Failed sign-ins are still counted: a guesser is throttled, and then even the right password.
    stranger = fault_app.test_client()
    statuses = [support.form_post(stranger, "/login", {"username": "gx-officer", "password": f"guess-{n}"}).status_code
                for n in range(25)]
    assert set(statuses) <= {200, 429} and statuses[0] == 200 and statuses[-1] == 429
    assert support.form_post(stranger, "/login", {"username": "gx-officer", "password": support.PASSWORD}).status_code == 429

    # Redis back (empty): counting goes back to it.
    own_redis.start()
    assert support.form_post(fault_app.test_client(), "/login",
                             {"username": "gx-finance", "password": "wrong"}).status_code == 200
    keys = Redis.from_url(own_redis.url).keys("*login*")
    assert keys, "failed sign-ins are counted in Redis again once it answers"


def test_jobs_requested_while_redis_is_down_run_once_when_it_returns(fault_app, own_redis, demo, caplog):
    from portal.core.timeutil import utcnow
    from portal.jobs.recovery import hand_over_stranded
    gx = demo.tenant_id("ganxian")
    client = fault_app.test_client()
    days = ["2031-03-01", "2031-03-02", "2031-03-03"]
    answer = client.get(f"/_fault/request-job/{days[0]}")  # Redis up: handed over at the commit
    assert answer.status_code == 200
    first = answer.get_json()["run"]
    own_redis.kill()

    requested = []
    for day in days[1:]:
        answer = client.get(f"/_fault/request-job/{day}")
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]  # the commit stands
        requested.append(answer.get_json()["run"])
    assert any("left queued for the sweep" in r.getMessage() for r in caplog.records)
    assert runs(fault_app) == {run_id: ("queued", 0) for run_id in [first, *requested]}  # all recorded

    # Redis comes back without its data (no persistence): the first run's RQ job is gone too.
    own_redis.start()
    with worker_side(fault_app).app_context():
        assert hand_over_stranded() == []  # younger than STALE_AFTER: their hand-over may be under way
        later = utcnow() + timedelta(minutes=2)
        assert sorted(hand_over_stranded(now=later)) == sorted([first, *requested])
        assert hand_over_stranded(now=later) == []  # RQ holds them now: not handed over twice
    assert drain(fault_app) == 3
    assert runs(fault_app) == {run_id: ("finished", 1) for run_id in [first, *requested]}
    assert marked_days(fault_app, gx) == days

    # A run delivered again (a late duplicate hand-over) changes nothing.
    with worker_side(fault_app).app_context():
        hand_over(first, gx)
        assert hand_over_stranded(now=later) == []
    assert drain(fault_app) == 1
    assert runs(fault_app)[first] == ("finished", 1) and marked_days(fault_app, gx) == days


def _far_hour():
    """Some half past an hour decades away, so runs sharing the Redis claim other periods."""
    return (datetime(2040, 1, 1, tzinfo=timezone.utc)
            + timedelta(hours=random.randrange(24 * 365 * 40), minutes=30))


def test_two_workers_schedulers_start_each_occurrence_once(app, demo):
    from portal.jobs.schedule import PERIODIC, tick
    now = _far_hour()
    barrier, started, errors = threading.Barrier(2), [], []

    def scheduler():
        try:
            barrier.wait(timeout=DEADLINE)
            started.append(tick(worker_side(app), now=now))
        except Exception as exc:  # reported below
            errors.append(exc)
    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DEADLINE)
    assert not errors and len(started) == 2
    assert sorted(started[0] + started[1]) == sorted(p.id for p in PERIODIC)  # each claimed by one
    expected = {p.task: 2 if p.per_tenant else 1 for p in PERIODIC}  # two demo bureaus
    with support.as_platform(app):
        counts = dict(db.session.execute(select(JobRun.name, func.count()).group_by(JobRun.name)).all())
    assert counts == expected

    # Redis restarted empty (its claims lost): the JobRun rows still say the occurrence ran.
    with app.app_context():
        redis_connection().delete(*redis_connection().keys("portal:periodic:*"))
    assert tick(worker_side(app), now=now + timedelta(minutes=10)) == []
    with support.as_platform(app):
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == sum(expected.values())


def test_a_tick_while_redis_is_down_fails_and_the_next_one_starts_the_occurrence(fault_app, own_redis):
    from portal.jobs.schedule import PERIODIC, tick
    now = _far_hour()
    own_redis.kill()
    with pytest.raises(RedisError):
        tick(worker_side(fault_app), now=now)  # the worker's loop logs it and ticks again a minute later
    assert runs(fault_app) == {}
    own_redis.start()
    assert tick(worker_side(fault_app), now=now + timedelta(minutes=1)) == [p.id for p in PERIODIC]
    assert tick(worker_side(fault_app), now=now + timedelta(minutes=2)) == []



def bounded(action, deadline=DEADLINE):
    """Run ``action`` in a thread; its result, or a failure if it has not returned within ``deadline``
    seconds (the thread is left to finish once the caller resumes Redis)."""
    outcome = {}

    def call():
        try:
            outcome["value"] = action()
        except Exception as exc:  # reported below
            outcome["error"] = exc
    thread = threading.Thread(target=call, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(timeout=deadline)
    assert not thread.is_alive(), f"still waiting for a hung Redis after {deadline} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"], time.monotonic() - started


def test_a_hung_redis_delays_sign_in_and_job_requests_by_seconds_not_minutes(fault_app, own_redis, monkeypatch, caplog):
    from portal.extensions import FallbackStrategy
    monkeypatch.setattr(FallbackStrategy, "RECHECK_SECONDS", 60.0)  # as in production: not at every count
    client = fault_app.test_client()
    assert support.form_post(client, "/login", {"username": "gx-officer", "password": support.PASSWORD}).status_code == 302
    assert client.get("/_fault/request-job/2031-04-01").status_code == 200  # both clients connected
    own_redis.pause()
    try:
        # The hand-over after the commit times out (socket_timeout); the run stays queued for the sweep.
        answer, took = bounded(lambda: client.get("/_fault/request-job/2031-04-02"))
        assert answer.status_code == 200 and took < 10
        assert any("left queued for the sweep" in r.getMessage() for r in caplog.records)
        # The limiter's storage times out too, and the throttling counts in memory meanwhile.
        answer, took = bounded(lambda: support.form_post(fault_app.test_client(), "/login",
                                                         {"username": "gx-admin", "password": support.PASSWORD}))
        assert answer.status_code == 302 and took < 15
        assert any("rate-limit storage unreachable" in r.getMessage() for r in caplog.records)
        answer, took = bounded(lambda: support.form_post(fault_app.test_client(), "/login",
                                                         {"username": "gx-finance", "password": support.PASSWORD}))
        assert answer.status_code == 302 and took < 3  # counted in memory at once
    finally:
        own_redis.resume()
    assert sorted(s for s, _ in runs(fault_app).values()) == ["queued", "queued"]


def test_a_hand_over_replaces_an_ended_rq_job_and_leaves_a_held_one(fault_app, demo):
    gx = demo.tenant_id("ganxian")
    client = fault_app.test_client()
    run_id = client.get("/_fault/request-job/2031-05-01").get_json()["run"]
    with fault_app.app_context():
        connection = redis_connection()
        key = f"rq:job:{rq_job_id(run_id)}"
        assert hand_over(run_id, gx) is False  # queued already: not queued twice
        assert connection.ttl(key) == -1
    assert drain(fault_app) == 1
    with fault_app.app_context():
        assert connection.ttl(key) > 0  # the finished job's result expires (RQ's result_ttl)
        # Queued again under the same id (a retry, the sweep): a new job, with no expiry of the old one.
        assert hand_over(run_id, gx) is True
        assert connection.ttl(key) == -1 and connection.hget(key, "status") == b"queued"
    assert drain(fault_app) == 1
    assert marked_days(fault_app, gx) == ["2031-05-01"]
