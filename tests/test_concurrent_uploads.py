"""Concurrent uploads (issue 13, point 4): twenty field-worker phones posting ``visits:batch`` at the
same moment — half of them replaying another phone's batch — all get an answer (no 500, no
"database is locked" on SQLite), and each client id is stored exactly once."""
import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.visits.models import Visit
from tests.beneficiary_world import care_world
from tests.test_visits_api import visit_body

pytestmark = pytest.mark.usefixtures("own_queue")

THREADS = 20
ITEMS = 5


def _batches(people):
    """Ten distinct batches of five visits (a-worker1's people), each posted by two phones."""
    batches = []
    for b in range(THREADS // 2):
        start = utcnow() - timedelta(days=1, hours=b)
        batches.append([visit_body(people[i % 2], start=start + timedelta(minutes=7 * i), minutes=5,
                                   client_id=str(uuid.uuid4()), device_id=f"phone-{b}")
                        for i in range(ITEMS)])
    return batches


def test_twenty_concurrent_batch_uploads_store_each_client_id_once(app, demo, api_token):
    world = care_world(app)
    people = [world["people"]["刘桂英"], world["people"]["陈德福"]]
    headers = api_token("a-worker1", tenant="ganxian")
    batches = _batches(people)
    barrier = threading.Barrier(THREADS)
    answers, errors = [None] * THREADS, []

    def upload(n):
        client = app.test_client()  # each thread: its own client, app context and session
        try:
            barrier.wait(timeout=30)
            response = client.post("/api/v1/visits:batch", json={"visits": batches[n // 2]}, headers=headers)
            answers[n] = (response.status_code, response.get_json())
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(repr(exc))

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert [a[0] for a in answers] == [200] * THREADS, [a[1] for a in answers if a[0] != 200][:2]
    statuses = Counter(r["status"] for _code, body in answers for r in body["results"])
    # each client id: one 201 (stored) and one 200 (the other phone's replay), nothing else
    assert statuses == {201: THREADS // 2 * ITEMS, 200: THREADS // 2 * ITEMS}

    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        stored = Counter(db.session.scalars(select(Visit.client_id)))
    expected = {item["client_id"] for batch in batches for item in batch}
    assert set(stored) == expected
    assert set(stored.values()) == {1}
    for n in range(0, THREADS, 2):  # both phones of a batch were answered with the same visits
        first, second = answers[n][1]["results"], answers[n + 1][1]["results"]
        assert [r["visit"]["id"] for r in first] == [r["visit"]["id"] for r in second]
