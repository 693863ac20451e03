"""Fixtures for the whole suite.

`make test` runs the suite twice: on SQLite (PORTAL_TEST_DB=sqlite, jobs inline) and on
PostgreSQL (PORTAL_TEST_DB=postgresql) with a real Redis and a real RQ worker. In the PostgreSQL
pass each run gets a fresh database, migrated by `flask db upgrade` as the owner, and the app
connects as the non-owner role ``portal_app`` so that row-level security applies; what a worker,
the scheduler or a cross-bureau command does in production runs as the platform role
``portal_platform`` (``support.platform_app``: the RQ worker, the demo's seeding, the tests' own
cross-bureau reads under ``support.as_platform``). Under CI=true
an unreachable PostgreSQL or Redis fails the run instead of skipping.
"""
import os
import re
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from tests import support

BACKEND = os.environ.get("PORTAL_TEST_DB", "sqlite")
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Each run takes a Redis database of its own (1–15, by process id) unless told otherwise, so two
# runs on one machine never empty each other's queues and counters.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", f"redis://127.0.0.1:6379/{1 + os.getpid() % 15}")
APP_ROLE = "portal_app"
PLATFORM_ROLE = "portal_platform"
OWN_QUEUE = f"portal-test-{uuid.uuid4().hex[:12]}"


def _fail_or_skip(reason):
    """Under CI a missing server fails the run; elsewhere the PostgreSQL pass is skipped, loudly."""
    if IN_CI:
        pytest.exit(f"required service unavailable under CI=true: {reason}", returncode=3)
    if BACKEND == "postgresql":
        pytest.exit(f"SKIPPING the PostgreSQL pass, server unavailable: {reason}", returncode=0)
    pytest.skip(reason)


def _check_redis():
    from redis import Redis
    try:
        Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        _fail_or_skip(f"Redis at {TEST_REDIS_URL}: {exc}")


@pytest.fixture(scope="session", autouse=True)
def _compiled_catalogues():
    """Compile every .po under portal/translations into its .mo (git-ignored) before any test,
    as `make translations` does (fuzzy entries included), so plain `pytest` works on a fresh clone."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    for po_path in sorted((Path(__file__).resolve().parent.parent / "portal" / "translations").rglob("*.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        mo_path = po_path.with_suffix(".mo")
        tmp_path = mo_path.with_name(f".{mo_path.name}.{os.getpid()}.tmp")
        with tmp_path.open("wb") as mo_file:
            write_mo(mo_file, catalog, use_fuzzy=True)
        os.replace(tmp_path, mo_path)  # atomic: a concurrent run never reads a half-written .mo


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    """A migrated database for this run: {"url": app URL, "owner_url": owner URL, "platform_url":
    the platform role's URL, "backend": …} (on SQLite the three are one)."""
    if BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("db") / "portal.db"
        url = f"sqlite:///{path}"
        support.migrate_to_head(url)
        support.seed_fixture_calendars(url)
        yield {"url": url, "owner_url": url, "platform_url": url, "backend": "sqlite"}
        return
    admin = create_engine(PG_ADMIN_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        _fail_or_skip(f"PostgreSQL at {PG_ADMIN_URL}: {exc}")
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A throwaway database: a commit need not wait for its WAL to reach the disk (a crash loses
        # the last commits, never consistency), and the tests' small queries gain nothing from JIT.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        conn.execute(text(f'ALTER DATABASE "{name}" SET jit = off'))
        for role in (APP_ROLE, PLATFORM_ROLE):
            if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
                conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS'))
    owner_url = re.sub(r"/[^/]+$", f"/{name}", PG_ADMIN_URL)
    app_url = owner_url.replace("://postgres@", f"://{APP_ROLE}@")
    platform_url = owner_url.replace("://postgres@", f"://{PLATFORM_ROLE}@")
    try:
        support.migrate_to_head(app_url, owner_url=owner_url)
        support.seed_fixture_calendars(owner_url)
        yield {"url": app_url, "owner_url": owner_url, "platform_url": platform_url, "backend": "postgresql"}
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def snapshots(database):
    """The database states restored per test (tests/snapshots.py), "empty" taken after migrating."""
    from tests.snapshots import open_snapshots
    states = open_snapshots(database)
    try:
        states.capture("empty")
        yield states
    finally:
        states.close()


@pytest.fixture(scope="session")
def redis_url():
    """The real Redis in the PostgreSQL pass; None (jobs inline) in the SQLite pass."""
    if BACKEND != "postgresql":
        return None
    _check_redis()
    return TEST_REDIS_URL


@pytest.fixture(scope="session")
def app(database, redis_url, snapshots, tmp_path_factory):
    from portal import create_app
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database["url"],
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "FAST_PASSWORD_HASHING": True,
        "BATCH_WINDOW_SECONDS": 0,  # the test worker drains what is there: no waiting for more
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "SERVER_NAME": None,
    }
    application = create_app(config)
    application.config["OWNER_DATABASE_URI"] = database["owner_url"]
    application.config["PLATFORM_DATABASE_URI"] = database["platform_url"]  # tests only: support.platform_app
    application.extensions["test_snapshots"] = snapshots
    return application


@pytest.fixture(autouse=True)
def _clean_state(request, database, redis_url):
    """Every test starts from empty tables, an empty Redis test db and fresh rate limits: after a
    test that used the app, the database is put back to its "empty" snapshot."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    support.release_connections(app)
    states = app.extensions["test_snapshots"]
    if not states.holds("empty"):  # nothing written since: nothing to put back
        states.restore("empty")
    app.extensions["portal_limiter"].reset()
    if redis_url:
        from redis import Redis
        Redis.from_url(redis_url).flushdb()


@pytest.fixture
def demo(app):
    """The people of the demo world of docs/API.md (bureaus, users, contractors) without its
    procurement history, so each test builds the history it needs (seeded once per run, then
    restored from its snapshot)."""
    support.seed_demo(app)
    return support.World(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """login("gx-officer") -> a test client signed in through the real sign-in form."""
    def _login(username, password=support.PASSWORD, tenant=None):
        client = app.test_client()
        response = support.form_post(client, "/login", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        if tenant is not None:
            response = support.form_post(client, "/choose-tenant", {"tenant": tenant})
            assert response.status_code == 302
        return client
    return _login


@pytest.fixture
def api_token(client):
    """api_token("gx-officer") -> the Authorization header of a fresh bearer token."""
    def _token(username, password=support.PASSWORD, tenant=None):
        body = {"username": username, "password": password}
        if tenant:
            body["tenant"] = tenant
        response = client.post("/api/v1/tokens", json=body)
        assert response.status_code == 201, response.get_json()
        return {"Authorization": f"Bearer {response.get_json()['token']}"}
    return _token


@pytest.fixture
def own_queue(app, monkeypatch):
    """A job queue of this run's own: test runs share one Redis, and another run's worker must not
    take (and drop as "vanished") the jobs of this one. Modules that queue jobs use it with
    ``pytestmark = pytest.mark.usefixtures("own_queue")``. (One name for the whole run: the tests
    of a run follow one another and Redis is emptied after each, so no test sees another's jobs,
    and a world built once with its queued jobs can be put back for every test on that queue.)"""
    monkeypatch.setitem(app.config, "JOB_QUEUE", OWN_QUEUE)


@pytest.fixture
def run_worker(app, redis_url):
    """Runs queued jobs: a real non-forking RQ worker (jobs/workers.py ShortJobWorker) in burst mode
    on PostgreSQL+Redis, taking the short (batched) queue and then JOB_QUEUE until both are empty;
    a no-op on SQLite, where jobs already ran inline. Like a production worker it connects as the
    platform role (support.platform_app). Returns how many jobs it ran."""
    def _run():
        if not redis_url:
            return 0
        from portal.jobs.queue import redis_connection
        from portal.jobs.workers import ShortJobWorker, queues_served
        with support.platform_app(app).app_context():
            worker = ShortJobWorker(queues_served(app.config, short=False), connection=redis_connection())
            worker.work(burst=True)
            worker.refresh()  # the counters live in Redis
            return worker.successful_job_count + worker.failed_job_count
    return _run
