"""Fault tests (issue 21, item 7): the PostgreSQL connection of a batch upload is killed mid-batch
(pg_terminate_backend from the owner's connection after the n-th visit's INSERT). A batch is one
transaction of per-item savepoints (README, visits:batch): the killed request keeps nothing and
answers 503 problem+json with Retry-After, and the phone's retry of the same batch records each
visit once (client_id idempotency). PostgreSQL pass only."""
import pytest
from sqlalchemy import event, func, select, text

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.visits.models import Visit
from tests import support
from tests.beneficiary_world import care_world
from tests.conftest import BACKEND
from tests.test_visits_api import visit_body

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(BACKEND != "postgresql", reason="kills a PostgreSQL backend")]
PROBLEM = "application/problem+json"


@pytest.fixture
def world(app, demo):
    return care_world(app)


def kill_after_inserts(app, table, count):
    """Terminate the app connection that runs the ``count``-th INSERT into ``table``, right after
    it; returns a callable that removes the hook and tells whether it fired."""
    return kill_after(app, f"INSERT INTO {table} ", count)


def kill_after(app, prefix, count):
    """Terminate the app connection that runs the ``count``-th statement starting with ``prefix``."""
    seen, fired = [0], []

    def hook(conn, cursor, statement, parameters, context, executemany):
        if fired or not statement.startswith(prefix):
            return
        seen[0] += 1
        if seen[0] == count:
            pid = conn.connection.dbapi_connection.info.backend_pid
            with support.owner_connection(app) as owner:
                assert owner.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()
            fired.append(pid)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", hook)

    def remove():
        event.remove(engine, "after_cursor_execute", hook)
        return bool(fired)
    return remove


def counts(app, demo):
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        return (db.session.scalar(select(func.count(Visit.id))),
                db.session.scalar(select(func.count(AuditEntry.id))))


@pytest.mark.parametrize("table, nth", [("visit", 3), ("audit_entry", 1)], ids=["mid-items", "at-commit"])
def test_a_batch_whose_connection_is_killed_keeps_nothing_and_its_retry_records_each_visit_once(
        app, demo, world, client, api_token, table, nth):
    headers = api_token("a-worker1", tenant="ganxian")
    own = [world["people"]["刘桂英"], world["people"]["陈德福"]]  # contractor A's people
    batch = [visit_body(own[n % 2]) for n in range(8)]
    before = counts(app, demo)

    remove = kill_after_inserts(app, table, nth)
    try:
        response = client.post("/api/v1/visits:batch", json={"visits": batch}, headers=headers)
    finally:
        assert remove(), "the connection was killed mid-batch"
    assert response.status_code == 503 and response.mimetype == PROBLEM, response.get_data(as_text=True)[:300]
    assert response.headers["Retry-After"] == "5" and response.get_json()["status"] == 503
    assert counts(app, demo) == before  # not the first three visits, nor their audit entries

    retried = client.post("/api/v1/visits:batch", json={"visits": batch}, headers=headers)
    assert retried.status_code == 200
    assert [r["status"] for r in retried.get_json()["results"]] == [201] * 8
    visits_now = counts(app, demo)[0]
    assert visits_now == before[0] + 8

    again = client.post("/api/v1/visits:batch", json={"visits": batch}, headers=headers)
    assert [r["status"] for r in again.get_json()["results"]] == [200] * 8  # faithful replays
    assert counts(app, demo)[0] == visits_now
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # the pool healed



def test_a_page_whose_connection_is_killed_answers_503_and_the_next_request_is_served(app, demo, login):
    officer = login("gx-officer")
    remove = kill_after(app, "SELECT", 3)  # after the session's and the user's reads
    try:
        response = officer.get("/contracts/")
    finally:
        assert remove()
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html" and "X-Frame-Options" in response.headers
    assert officer.get("/contracts/").status_code == 200  # still signed in; the pool reconnected
