"""The cost of verifying a visit is bounded whatever the number of overlapping visits of its worker
(issue 13, point 5): the comparison loads the neighbourhoods of the visit and of every visit it
affects in one set-based pass, reading with a fixed number of SQL statements, and finds what the pairwise
way (each visit's neighbourhood queried for it alone) found. Timing is for bench/overlap.py."""
from datetime import timedelta

import pytest
from sqlalchemy import event

from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.visits import verification
from portal.visits.neighbourhoods import ComparisonPass
from tests import crowd_world
from tests.visit_world import DAY, HOME, at, scope

pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def crowd(app, demo):
    return crowd_world.crowd_world(app)


class Statements:
    """Counts the SQL statements sent while it is active, leaving out the audit trail's (one
    entry per changed row, by design: what is counted is the work of judging). An executemany
    counts once."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        if not any(part in statement for part in ("audit_entry", "set_config", "current_setting", "pg_advisory")):
            self.seen.append(statement)

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    @property
    def count(self):
        return len(self.seen)

    @property
    def reads(self):
        return sum(1 for s in self.seen if s.lstrip().upper().startswith("SELECT"))

    @property
    def writes(self):
        return sum(1 for s in self.seen if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")))


def _overlapping_day(app, crowd, n, day, device):
    """``n`` pending visits of a-worker1 all overlapping 09:00–10:00 on ``day`` (one phone, the two
    people in turn), then one more visit checked out over them. Returns the statements of the
    comparison, the statements of a second (idempotent) one, the statuses of the affected visits,
    how many visits the new one overlaps and how many were judged."""
    with app.app_context(), scope(app):
        template = crowd_world.templates(crowd)["a-worker1"]
        people = crowd["persons"]["a-worker1"]
        for i in range(n):
            crowd_world.clone(template, start=at(day, 8, 0) + timedelta(seconds=20 * i), minutes=150,
                              device=device, person=people[i % 2])
        visit = crowd_world.clone(template, start=at(day, 9), minutes=60, device=device, person=people[0])
        db.session.flush()
        verification.run_single_rules(visit, utcnow())
        everyone = n + 10  # no cap: the whole set-based pass in one job
        with Statements(db.engine) as first:
            verification.compare_and_settle(visit, utcnow(), cap=everyone)
        db.session.commit()
        with Statements(db.engine) as second:
            comparison = verification.compare_and_settle(visit, utcnow(), cap=everyone)
        statuses = {v.status for v in comparison.affected if v.check_in_at.date() >= day - timedelta(days=1)}
        v04 = {e.code: e for e in visit.exceptions}["V04"].details["visits"]
        db.session.commit()
        return first, second, statuses, len(v04), len(comparison.affected)


def test_statements_per_comparison_do_not_grow_with_overlapping_visits(app, crowd):
    few = _overlapping_day(app, crowd, 10, DAY - timedelta(days=10), "phone-few")
    many = _overlapping_day(app, crowd, 200, DAY, "phone-many")
    assert few[3] == 10 and many[3] == 200  # the visit overlaps them all …
    assert few[4] >= 11 and many[4] >= 201  # … and every one of them was judged again
    assert few[2] == many[2] == {"exception"}
    # Reading — where the pairwise way grew with the square of the overlapping visits — is fixed:
    assert few[0].reads == many[0].reads, "reads of the comparison grew with the overlapping visits"
    # writing is one statement per row that changes (each neighbour's new V04), the statuses in one:
    assert many[0].writes <= many[4] + 2
    # and a repeated comparison, which changes nothing, sends the same few statements whatever n:
    assert few[1].count == many[1].count and many[1].writes == 0
    assert many[1].reads <= 14


def test_the_set_based_pass_finds_what_the_pairwise_way_found(app, crowd):
    far = (HOME[0] + 0.2, HOME[1])  # ~22 km north: V05 between close visits
    with app.app_context(), scope(app):
        t = crowd_world.templates(crowd)
        p = crowd["persons"]
        t["a-worker1"].service_item.daily_limit_per_beneficiary = 1  # V07
        day = [
            crowd_world.clone(t["a-worker1"], start=at(DAY, 8), minutes=60, device="phone-a1", person=p["a-worker1"][0]),
            crowd_world.clone(t["a-worker1"], start=at(DAY, 8, 30), minutes=45, device="phone-a1", person=p["a-worker1"][0]),
            crowd_world.clone(t["a-worker1"], start=at(DAY, 9, 20), minutes=30, device="phone-a1", person=p["a-worker1"][1],
                              place=far),
            crowd_world.clone(t["a-worker1"], start=at(DAY, 11), minutes=None, device="phone-a1", person=p["a-worker1"][1]),
            crowd_world.clone(t["a-worker1"], start=at(DAY, 13), minutes=30, device="phone-a1", person=p["a-worker1"][0],
                              status="rejected"),
            crowd_world.clone(t["a-worker2"], start=at(DAY, 14), minutes=30, device="phone-a1", person=p["a-worker2"][0]),
            crowd_world.clone(t["b-worker1"], start=at(DAY, 15), minutes=30, device="phone-a1", person=p["b-worker1"][0]),
            crowd_world.clone(t["a-worker1"], start=at(DAY + timedelta(days=1), 8), minutes=30, device="phone-x",
                              person=p["a-worker1"][0]),
        ]
        db.session.flush()
        for visit in day:
            comparison = ComparisonPass(visit)
            for judged in comparison.affected:
                assert crowd_world.as_data(crowd_world.set_based_findings(judged, comparison)) == \
                    crowd_world.as_data(crowd_world.pairwise_findings(judged)), (visit.id, judged.id)
        fired = {code for visit in day for code, f in crowd_world.pairwise_findings(visit).items() if f}
        assert fired == {"V04", "V05", "V07", "V10"}  # the case exercises every comparative rule
        db.session.rollback()


def test_a_comparison_judges_the_nearest_neighbours_and_queues_the_rest(app, crowd, run_worker, monkeypatch):
    """Beyond NEIGHBOURS_PER_JOB the neighbours are judged by supervision.judge_visits jobs: on a
    worker with Redis, by the in-process scheduler in development — not in the check-out request."""
    from sqlalchemy import select

    from portal.jobs import schedule
    from portal.jobs.models import JobRun
    from portal.visits.models import Visit
    monkeypatch.setitem(app.config, "INLINE_SCHEDULER", True)  # as under `make run` (ignored with Redis)
    cap, n = verification.NEIGHBOURS_PER_JOB, 80
    with app.app_context(), scope(app):
        template = crowd_world.templates(crowd)["a-worker1"]
        people = crowd["persons"]["a-worker1"]
        crowd_ids = []
        for i in range(n):
            crowd_ids.append(crowd_world.clone(template, start=at(DAY, 8) + timedelta(seconds=20 * i), minutes=150,
                                               device="phone-a1", person=people[i % 2]))
        visit = crowd_world.clone(template, start=at(DAY, 9), minutes=60, device="phone-a1", person=people[0])
        db.session.flush()
        crowd_ids = [v.id for v in crowd_ids]
        verification.run_single_rules(visit, utcnow())
        comparison = verification.compare_and_settle(visit, utcnow())
        db.session.commit()
        order = [v.id for v in comparison.by_priority()]
        assert order[0] == visit.id
        judged_now = set(order[1:1 + cap])
        statuses = dict(db.session.execute(select(Visit.id, Visit.status).where(Visit.id.in_(crowd_ids))).all())
        assert {i for i, s in statuses.items() if s != "pending"} == judged_now & set(crowd_ids)
        assert len(judged_now & set(crowd_ids)) >= cap - 2  # the nearest ones (besides the day's previous/next)
        deferred = db.session.scalars(select(JobRun).where(JobRun.name == "supervision.judge_visits")).all()
        assert sorted(len(r.kwargs["visit_ids"]) for r in deferred) == sorted(
            [cap] * ((len(order) - 1 - cap) // cap) + ([(len(order) - 1 - cap) % cap] if (len(order) - 1 - cap) % cap else []))
        assert {r.status for r in deferred} == {"queued"}
    if run_worker() == 0:  # inline: the scheduler's tick runs them
        assert schedule.run_queued(app) == len(deferred)
    with app.app_context(), scope(app):
        statuses = dict(db.session.execute(select(Visit.id, Visit.status).where(Visit.id.in_(crowd_ids))).all())
        assert set(statuses.values()) == {"exception"}
        farthest = db.session.get(Visit, order[-1])
        v04 = {e.code: e for e in farthest.exceptions}["V04"].details["visits"]
        assert visit.id in v04 and len(v04) == n  # it overlaps all the others, the new visit among them
        assert {r.status for r in db.session.scalars(select(JobRun).where(
            JobRun.name == "supervision.judge_visits"))} == {"finished"}
