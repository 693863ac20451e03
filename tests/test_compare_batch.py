"""The batched comparison (issue 15, points 2 and 3): one job judges any number of check-outs in
a fixed number of statements, and visits whose comparison never ran are judged by the hourly sweep."""
from datetime import timedelta

import pytest
from sqlalchemy import event, update

from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.jobs.queue import TASKS
from portal.visits import reverify, verification
from portal.visits.models import Visit
from tests import crowd_world
from tests.visit_world import DAY, at, scope

pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def crowd(app, demo):
    return crowd_world.crowd_world(app)


def _day_of_visits(crowd, count, *, hours=0):
    """``count`` visits spread over the three workers and two days, one hour apart per worker."""
    t = crowd_world.templates(crowd)
    visits = []
    for n in range(count):
        worker = crowd_world.WORKERS[n % 3]
        start = at(DAY, 7) + timedelta(hours=n // 3 + hours, minutes=n % 3)
        visits.append(crowd_world.clone(t[worker], start=start, minutes=40, device=f"phone-{worker}"))
    db.session.flush()
    return visits


def _statements(work):
    count = [0]

    def seen(*_args):
        count[0] += 1
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    return count[0]


def test_a_batch_costs_the_same_statements_for_one_visit_and_for_forty(app, crowd):
    with app.app_context(), scope(app):
        one = [v.id for v in _day_of_visits(crowd, 1)]
        db.session.commit()
        single = _statements(lambda: reverify.compare_batch(one, utcnow()))
        db.session.commit()
        many = [v.id for v in _day_of_visits(crowd, 40, hours=2)]
        db.session.commit()
        forty = _statements(lambda: reverify.compare_batch(many, utcnow()))
        db.session.commit()
        assert {db.session.get(Visit, v).status for v in many} == {"verified"}
        assert forty <= single + 4, (single, forty)  # the writes grow by chunks, not by visits


def test_the_hourly_sweep_compares_check_outs_left_pending(app, crowd):
    """A check-out whose batch was lost (Redis or a worker died) stays marked; the sweep judges it
    ten minutes on — also a verified visit whose photo or correction asked for a new comparison —
    and leaves alone a check-out that just arrived."""
    with app.app_context(), scope(app):
        db.session.execute(update(Visit).values(comparison_due=False))  # the world's own comparisons ran
        lost, verified, fresh, done = _day_of_visits(crowd, 4)
        for visit in (lost, verified, fresh):
            visit.comparison_due = True
        for visit in (lost, verified, done):
            visit.checked_out_received_at = utcnow() - timedelta(minutes=30)
        fresh.checked_out_received_at = utcnow() - timedelta(minutes=1)
        verified.status = "verified"
        db.session.commit()
        ids = [v.id for v in (lost, verified, fresh, done)]
        TASKS["supervision.compare_unjudged"]()
        db.session.commit()
        after = [db.session.get(Visit, vid) for vid in ids]
        assert [(v.status, v.comparison_due) for v in after[:3]] == [
            ("verified", False), ("verified", False), ("pending", True)]
        assert after[3].comparison_due is False  # (judged too, as a neighbour of the others)


def test_a_check_out_marks_its_comparison_due_until_it_has_run(app, crowd, monkeypatch):
    """The batch is lost (here: never handed over); the mark stays in the database until a
    comparison runs."""
    monkeypatch.setattr(verification, "enqueue_batched", lambda *args, **kwargs: None)
    with app.app_context(), scope(app):
        (visit,) = _day_of_visits(crowd, 1)
        verification.schedule_comparison(visit)
        db.session.commit()
        assert db.session.get(Visit, visit.id).comparison_due is True
        reverify.compare_batch([visit.id], utcnow())
        db.session.commit()
        assert db.session.get(Visit, visit.id).comparison_due is False


def test_a_visit_changed_meanwhile_is_not_overwritten_but_judged_again(app, crowd, monkeypatch):
    """While a batch judges, a correction accepted elsewhere opens V03 and makes the visit an
    exception: the batch's status (verified, from what it read) must not overwrite it; the visit
    is marked and judged again, and ends an exception with its V03."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("concurrent writers: PostgreSQL (SQLite has one writer at a time)")
    from portal.tenancy.scope import own_transaction
    from portal.visits.models import VisitException
    with app.app_context(), scope(app):
        db.session.execute(update(Visit).values(comparison_due=False))
        (visit,) = _day_of_visits(crowd, 1)
        visit.comparison_due = True
        db.session.commit()
        vid, tenant = visit.id, visit.tenant_id
        original = reverify.Writes.write

        def meanwhile(self):
            with own_transaction(db.engine) as other:  # another request, committed first
                other.execute(VisitException.__table__.insert().values(
                    tenant_id=tenant, visit_id=vid, code="V03", message="too short", details={}, warning=False,
                    status="open", raised_at=utcnow(), response_reason="", response_text="", decision_note=""))
                other.execute(Visit.__table__.update().where(Visit.__table__.c.id == vid).values(status="exception"))
            monkeypatch.setattr(reverify.Writes, "write", original)
            return original(self)
        monkeypatch.setattr(reverify.Writes, "write", meanwhile)
        reverify.compare_batch([vid], utcnow())
        db.session.commit()
        changed = db.session.get(Visit, vid)
        assert (changed.status, changed.comparison_due) == ("exception", True)
        reverify.compare_batch([vid], utcnow())  # the comparison queued again (run here directly)
        db.session.commit()
        judged = db.session.get(Visit, vid)
        assert (judged.status, judged.comparison_due) == ("exception", False)
        assert [e.code for e in judged.exceptions] == ["V03"]
