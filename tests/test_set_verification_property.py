"""The set path agrees with the per-visit path (issue 15, point 2): over random days of visits —
several workers, shared phones, the same beneficiaries, every status, far check-ins, open and
overlapping times — judging the visits one at a time (the request's single-visit rules, then the
comparison job on each visit) leaves exactly the exceptions and statuses that the set path leaves,
whether it judges every rule at once (``reverify``) or runs the batched comparison job after the
requests (``compare_batch``)."""
import uuid
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.visits import reverify, setpass, verification
from portal.tenancy.models import Tenant
from portal.tenancy.services import change_settings
from portal.visits.models import Visit, VisitCorrection
from tests import crowd_world
from tests.test_comparative_rules_property import VISIT, _add, crowd  # noqa: F401  (crowd: the fixture)
from tests.visit_world import scope
from tests import support

pytestmark = pytest.mark.usefixtures("own_queue")


# a visit, the minutes an accepted correction cuts off its start (or none), how many days earlier
# it is placed (10: a stretch of its own, and a neighbour days away), and whether it is
# recorded without a roster entry (the worker is then known by their account alone)
SPEC = st.tuples(VISIT, st.one_of(st.none(), st.integers(min_value=1, max_value=90)),
                 st.sampled_from([0, 0, 0, 10]), st.booleans())


def _visits(crowd, specs, ids):
    """The visits of ``specs`` ((spec, minutes a supervisor's accepted correction cut off the
    start) pairs), flushed."""
    templates = crowd_world.templates(crowd)
    visits = []
    for (spec, cut, *placed), client_id in zip(specs, ids):
        days_back, unrostered = placed or (0, False)
        visit = _add(templates, crowd, spec)
        visit.client_id = client_id
        visit.check_in_at -= timedelta(days=days_back)
        for name in ("check_out_at", "received_at", "checked_out_received_at"):
            if getattr(visit, name) is not None:
                setattr(visit, name, getattr(visit, name) - timedelta(days=days_back))
        if unrostered:
            visit.staff_id = None
        visits.append((visit, cut))
    db.session.flush()
    for visit, cut in visits:
        if cut is not None and visit.check_out_at is not None:
            db.session.add(VisitCorrection(
                visit_id=visit.id, adjusted_check_in_at=visit.check_in_at + timedelta(minutes=cut),
                adjusted_check_out_at=visit.check_out_at, reason_code="device_clock", made_by_id=visit.worker_user_id,
                status="accepted"))
    db.session.flush()
    return [visit for visit, _cut in visits]


def _state(ids):
    """{client id: (status, distance, verified?, [(code, message, details, warning, status)])}, the
    visits named in details by client id (ids differ between runs: sequences never roll back)."""
    db.session.expire_all()
    client = dict(db.session.execute(select(Visit.id, Visit.client_id)).all())

    def named(details):
        details = dict(details)
        for key in ("visits", "earlier_visits"):
            if key in details:
                details[key] = [client[v] for v in details[key]]
        if "legs" in details:
            details["legs"] = [{**leg, "visit": client[leg["visit"]]} for leg in details["legs"]]
        return details
    found = {}
    for visit in db.session.scalars(select(Visit).where(Visit.client_id.in_(ids))):
        found[visit.client_id] = (visit.status, visit.distance_from_home_m, visit.verified_at is not None,
                                  sorted((e.code, e.message, repr(named(e.details)), e.warning, e.status)
                                         for e in visit.exceptions))
    return found


def _same(found, expected):
    differing = {k: (expected.get(k), found.get(k)) for k in set(found) | set(expected) if found.get(k) != expected.get(k)}
    assert not differing, "\n".join(f"{k}:\n  per visit: {e}\n  set:       {f}" for k, (e, f) in differing.items())


def _requests(visits, now):
    """What the check-out requests do: the single-visit rules and a provisional status."""
    for visit in visits:
        if visit.check_out_at is not None and verification.single_rules_apply(visit, now):
            verification.run_single_rules(visit, now)
            verification.settle_status(visit, now, final=False)


def _per_visit(visits, now):
    _requests(visits, now)
    for visit in visits:  # the comparison job on each, nothing deferred
        verification.compare_and_settle(visit, now, cap=len(visits) + 10)
    verification.flag_missing_check_outs(now=now)  # the daily sweep: days over without a check-out
    db.session.flush()


@settings(max_examples=30, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate], suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(specs=st.lists(SPEC, min_size=1, max_size=10))
def test_the_set_path_judges_as_the_per_visit_path(app, crowd, specs):
    ids = [str(uuid.uuid4()) for _spec in specs]
    now = utcnow()
    with app.app_context(), scope(app):
        try:
            _per_visit(_visits(crowd, specs, ids), now)
            expected = _state(ids)
        finally:
            db.session.rollback()
        try:  # every rule at once, as `reverify` does
            visits = _visits(crowd, specs, ids)
            rows = list(setpass.rows_by_ids([v.id for v in visits]).values())
            reverify.judge_rows(rows, now, single=True)
            _same(_state(ids), expected)
            again = reverify.judge_rows(list(setpass.rows_by_ids([v.id for v in visits]).values()), now, single=True)
            assert not again.changed  # a second run changes nothing
        finally:
            db.session.rollback()
        try:  # the requests one by one, then one batched comparison job
            visits = _visits(crowd, specs, ids)
            _requests(visits, now)
            reverify.compare_batch([v.id for v in visits], now)
            verification.flag_missing_check_outs(now=now)
            _same(_state(ids), expected)
        finally:
            db.session.rollback()


def test_a_month_s_reverification_after_a_threshold_change(app, crowd):
    """A wider geofence clears the V02 of a visit checked in 0.3° away; a decided V02 stays."""
    now = utcnow()
    with app.app_context(), scope(app):
        templates = crowd_world.templates(crowd)
        spec = {"worker": "a-worker2", "minute": 600, "minutes": 60, "device": "phone-9", "person": 0,
                "status": "pending", "far": True}
        far, decided = _visits(crowd, [(spec, None, 0, False), ({**spec, "minute": 900}, None, 0, False)],
                               [str(uuid.uuid4()), str(uuid.uuid4())])
        _per_visit([far, decided], now)
        assert "V02" in {e.code for e in far.exceptions}
        v02 = next(e for e in decided.exceptions if e.code == "V02")
        v02.status = "rejected"
        db.session.commit()
        month = far.check_in_at.date().replace(day=1)
        tenant = templates["a-worker2"].tenant_id
        change_settings(db.session.get(Tenant, tenant), {"geofence_radius_m": 100_000})
        db.session.commit()
        dry = reverify.reverify_month(month, now, dry_run=True)
        assert dry.cleared["V02"] >= 1
        db.session.rollback()
        assert "V02" in {e.code for e in db.session.get(Visit, far.id).exceptions}  # dry: nothing written
        outcome = reverify.reverify_month(month, now)
        db.session.commit()
        assert outcome.cleared["V02"] >= 1
        assert "V02" not in {e.code for e in db.session.get(Visit, far.id).exceptions}
        kept = [e for e in db.session.get(Visit, decided.id).exceptions if e.code == "V02"]
        assert [e.status for e in kept] == ["rejected"]
        assert not reverify.reverify_month(month, now).changed


def test_the_reverify_command_prints_what_changed(app, crowd):
    now = utcnow()
    with app.app_context(), scope(app):
        spec = {"worker": "a-worker2", "minute": 600, "minutes": 60, "device": "phone-9", "person": 0,
                "status": "pending", "far": True}
        (far,) = _visits(crowd, [(spec, None, 0, False)], [str(uuid.uuid4())])
        _per_visit([far], now)
        month = far.check_in_at.strftime("%Y-%m")
        change_settings(db.session.get(Tenant, far.tenant_id), {"geofence_radius_m": 100_000})
        db.session.commit()
    runner = support.platform_app(app).test_cli_runner()
    dry = runner.invoke(args=["reverify", "--tenant", "ganxian", "--month", month, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "cleared V02: 1" in dry.output and "dry run" in dry.output
    done = runner.invoke(args=["reverify", "--tenant", "ganxian", "--month", month])
    assert done.exit_code == 0 and "cleared V02: 1" in done.output, done.output
    again = runner.invoke(args=["reverify", "--tenant", "ganxian", "--month", month])
    assert "nothing changed" in again.output, again.output
    assert runner.invoke(args=["reverify", "--tenant", "nowhere", "--month", month]).exit_code != 0
    assert runner.invoke(args=["reverify", "--tenant", "ganxian", "--month", "2026-13"]).exit_code != 0
