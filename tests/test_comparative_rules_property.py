"""The comparative rules never crash on a neighbourhood (issue 13, point 7): over random days of
visits — several workers, shared phones, the same beneficiaries, every status including rejected,
open and overlapping times — the comparison job's work never raises, finds what each visit's own
neighbourhood finds, and gives the same findings when run again. A rejected visit sharing the
phone used to make V07 raise StopIteration (it was in the device's set, not in the item's)."""
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.visits import verification
from portal.visits.neighbourhoods import ComparisonPass
from tests import crowd_world
from tests.visit_world import DAY, HOME, at, scope

pytestmark = pytest.mark.usefixtures("own_queue")

WORKERS = crowd_world.WORKERS
VISIT = st.fixed_dictionaries({
    "worker": st.sampled_from(WORKERS),
    "minute": st.integers(min_value=0, max_value=26 * 60),  # into the next day too
    "minutes": st.one_of(st.none(), st.integers(min_value=-10, max_value=300)),
    "device": st.sampled_from(["phone-1", "phone-2", "phone-3"]),
    "person": st.integers(min_value=0, max_value=1),
    "status": st.sampled_from(["pending", "verified", "exception", "rejected"]),
    "far": st.booleans(),
})


@pytest.fixture
def crowd(app, demo):
    world = crowd_world.crowd_world(app)
    with app.app_context(), scope(app):
        template = crowd_world.templates(world)["a-worker1"]
        template.service_item.daily_limit_per_beneficiary = 1  # V07 in play
        db.session.commit()
    return world


def _add(templates, crowd, spec):
    persons = crowd["persons"][spec["worker"]]
    return crowd_world.clone(templates[spec["worker"]], start=at(DAY, 0) + timedelta(minutes=spec["minute"]),
                             minutes=spec["minutes"], device=spec["device"],
                             person=persons[spec["person"] % len(persons)], status=spec["status"],
                             place=(HOME[0] + 0.3, HOME[1]) if spec["far"] else None)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(specs=st.lists(VISIT, min_size=1, max_size=12))
def test_comparative_rules_never_raise_and_are_deterministic(app, crowd, specs):
    with app.app_context(), scope(app):
        try:
            templates = crowd_world.templates(crowd)
            visits = [_add(templates, crowd, spec) for spec in specs]
            db.session.flush()
            for visit in visits:
                comparison = ComparisonPass(visit)
                assert comparison.affected[0] is visit
                for judged in comparison.affected:
                    found = crowd_world.as_data(crowd_world.set_based_findings(judged, comparison))
                    assert found == crowd_world.as_data(crowd_world.set_based_findings(judged, ComparisonPass(visit)))
                    assert found == crowd_world.as_data(crowd_world.pairwise_findings(judged))
            now = utcnow()
            for visit in visits:  # the job itself, on every visit of the day
                verification.compare_and_settle(visit, now)
            before = {v.id: (v.status, sorted((e.code, e.message) for e in v.exceptions)) for v in visits}
            for visit in reversed(visits):  # again, in another order: nothing changes
                verification.compare_and_settle(visit, now)
            assert {v.id: (v.status, sorted((e.code, e.message) for e in v.exceptions)) for v in visits} == before
            assert all(v.status == "rejected" for v, s in zip(visits, specs) if s["status"] == "rejected")
        finally:
            db.session.rollback()


def test_a_rejected_visit_on_the_same_phone_does_not_stop_the_comparison(app, crowd):
    """The demo's case (a photo added to visit 59): a rejected visit the same day on the same phone."""
    with app.app_context(), scope(app):
        t = crowd_world.templates(crowd)
        person = crowd["persons"]["a-worker1"][0]
        rejected = crowd_world.clone(t["a-worker1"], start=at(DAY, 8), minutes=30, device="phone-a1", person=person,
                                     status="rejected")
        visit = crowd_world.clone(t["a-worker1"], start=at(DAY, 10), minutes=60, device="phone-a1", person=person)
        db.session.flush()
        for judged in (visit, rejected):
            verification.compare_and_settle(judged, utcnow())
        assert visit.status == "verified" and rejected.status == "rejected"
        assert {e.code for e in visit.exceptions} == set()  # the rejected visit counts for no limit
        db.session.commit()
