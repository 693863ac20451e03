"""Visit verification (docs/DOMAIN.md §6): each rule V01–V11 fires just past its threshold and stays
quiet just inside it; comparative rules re-check the neighbours; V01 and cross-contractor V10
open subcontracting violations. Visits are recorded through recording.record_visit, so the
single-visit rules run at check-out and the comparison job through enqueue (inline on SQLite,
a real RQ worker on PostgreSQL: run_worker)."""
import io
import struct
import uuid
import zlib
from datetime import datetime, time, timedelta
from math import degrees

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.core.geo import EARTH_RADIUS_M, haversine_m
from portal.core.timeutil import LOCAL_TZ, local_today
from tests.beneficiary_world import care_world, staff_of

HOME = (25.861, 115.012)  # where care_world's people live
DAY = local_today() - timedelta(days=3)


def north_of(point, metres):
    """A point ``metres`` due north of ``point`` (along a meridian haversine is exact)."""
    return point[0] + degrees(metres / EARTH_RADIUS_M), point[1]


def at(hour, minute=0, day=DAY):
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def png_bytes():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


class Visits:
    """Records visits as a field worker would and reads back what verification made of them."""

    def __init__(self, app, demo, run_worker, world):
        self.app, self.demo, self.run_worker, self.world = app, demo, run_worker, world
        self.tenant = demo.tenant_id("ganxian")

    def scope(self):
        from portal.tenancy.scope import tenant_scope
        return tenant_scope(self.tenant)

    def record(self, worker, person, start, minutes=60, *, place=HOME, out_place=None, device=None,
               now=None, check_out=True, item="CARE-VISIT", out_at=None):
        """Record (and check out) a visit, commit, run the queue; returns the visit id."""
        from portal.accounts.models import User
        from portal.extensions import db
        from portal.visits.recording import record_visit
        end = out_at or start + timedelta(minutes=minutes)
        payload = {"client_id": str(uuid.uuid4()), "beneficiary_id": self.world["people"][person],
                   "service_item": item, "device_id": device or f"phone-{worker}",
                   "check_in": {"at": start.isoformat(), "lat": place[0], "lon": place[1]}}
        if check_out:
            out_place = out_place or place
            payload["check_out"] = {"at": end.isoformat(), "lat": out_place[0], "lon": out_place[1]}
        with self.app.app_context(), self.scope():
            user = db.session.execute(select(User).where(User.username == worker)).scalar_one()
            visit, created = record_visit(payload, user, now or max(end, start) + timedelta(minutes=1))
            assert created
            db.session.commit()
            visit_id = visit.id
        self.run_worker()
        return visit_id

    def add_photo(self, visit_id, now):
        from portal.extensions import db
        from portal.visits.models import Visit
        from portal.visits.recording import add_photo
        with self.app.app_context(), self.scope():
            visit = db.session.get(Visit, visit_id)
            from portal.accounts.models import User
            user = db.session.get(User, visit.worker_user_id)
            add_photo(visit, FileStorage(io.BytesIO(png_bytes()), filename="p.png"), user, now)
            db.session.commit()
        self.run_worker()

    def codes(self, visit_id):
        return set(self.exceptions(visit_id))

    def exceptions(self, visit_id):
        from portal.extensions import db
        from portal.visits.models import VisitException
        with self.app.app_context(), self.scope():
            rows = db.session.scalars(select(VisitException).where(VisitException.visit_id == visit_id)).all()
            return {e.code: {"status": e.status, "warning": e.warning, "details": e.details, "message": e.message}
                    for e in rows}

    def visit(self, visit_id):
        from portal.extensions import db
        from portal.visits.models import Visit
        with self.app.app_context(), self.scope():
            v = db.session.get(Visit, visit_id)
            return {"status": v.status, "distance": v.distance_from_home_m, "verified_at": v.verified_at}

    def status(self, visit_id):
        return self.visit(visit_id)["status"]

    def edit(self, model, row_id, **values):
        from portal.extensions import db
        with self.app.app_context(), self.scope():
            row = db.session.get(model, row_id)
            for key, value in values.items():
                setattr(row, key, value)
            db.session.commit()

    def violations(self, kind):
        from portal.extensions import db
        from portal.violations.models import Violation
        with self.app.app_context(), self.scope():
            return [{"status": v.status, "contract_id": v.contract_id, "evidence": v.evidence, "key": v.dedupe_key}
                    for v in db.session.scalars(select(Violation).where(Violation.kind == kind))]


@pytest.fixture
def visits(app, demo, run_worker):
    """care_world with the care item's daily limit at 1 and no photo required (V11 turns it on)."""
    from portal.contracts.models import ServiceItem
    world = care_world(app)
    helper = Visits(app, demo, run_worker, world)
    from portal.extensions import db
    with app.app_context(), helper.scope():
        item = db.session.scalars(select(ServiceItem).where(ServiceItem.contract_id == world["a_contract"])).one()
        helper.item_id = item.id
    helper.edit(ServiceItem, helper.item_id, daily_limit_per_beneficiary=1, photo_required=False)
    return helper


def set_home(visits, person, point):
    from portal.beneficiaries.models import Beneficiary
    visits.edit(Beneficiary, visits.world["people"][person], lat=point[0], lon=point[1])


def test_haversine_metres_along_a_meridian():
    assert round(haversine_m(*HOME, *north_of(HOME, 1000))) == 1000
    assert haversine_m(*HOME, *HOME) == 0


def test_clean_visit_is_verified_with_its_distance_from_home(visits):
    visit_id = visits.record("a-worker1", "刘桂英", at(9), place=north_of(HOME, 42))
    assert visits.codes(visit_id) == set()
    state = visits.visit(visit_id)
    assert state["status"] == "verified" and state["verified_at"] is not None and state["distance"] == 42


def test_visit_stays_pending_until_check_out(visits):
    from portal.extensions import db
    from portal.visits.models import Visit
    from portal.visits.verification import on_checked_in
    visit_id = visits.record("a-worker1", "刘桂英", at(9), check_out=False, now=at(9, 1), place=north_of(HOME, 120))
    with visits.app.app_context(), visits.scope():
        on_checked_in(db.session.get(Visit, visit_id), at(9, 1))
        db.session.commit()
    assert visits.visit(visit_id)["status"] == "pending" and visits.visit(visit_id)["distance"] == 120
    assert visits.codes(visit_id) == set()


# --- V01 roster ---------------------------------------------------------------------------------

def test_v01_worker_off_the_roster_fires_and_opens_a_violation(visits, app):
    from portal.contractors.models import StaffMember
    visits.edit(StaffMember, staff_of(app, "a-worker1"), left_on=DAY - timedelta(days=1))
    visit_id = visits.record("a-worker1", "刘桂英", at(9))
    assert "V01" in visits.codes(visit_id) and visits.status(visit_id) == "exception"
    [violation] = visits.violations("unlisted_worker")
    assert violation["status"] == "open" and violation["contract_id"] == visits.world["a_contract"]
    assert violation["key"] == f"unlisted_worker:visit:{visit_id}"


def test_v01_worker_on_the_roster_through_the_visit_day_passes(visits, app):
    from portal.contractors.models import StaffMember
    visits.edit(StaffMember, staff_of(app, "a-worker1"), left_on=DAY)
    visit_id = visits.record("a-worker1", "刘桂英", at(9))
    assert "V01" not in visits.codes(visit_id) and visits.status(visit_id) == "verified"
    assert visits.violations("unlisted_worker") == []


# --- V02 geofence -------------------------------------------------------------------------------

@pytest.mark.parametrize("metres, fires", [(299, False), (301, True)])
def test_v02_check_in_against_a_300_m_geofence(visits, metres, fires):
    visit_id = visits.record("a-worker1", "刘桂英", at(9), place=north_of(HOME, metres))
    assert ("V02" in visits.codes(visit_id)) is fires
    assert visits.visit(visit_id)["distance"] == metres
    assert visits.status(visit_id) == ("exception" if fires else "verified")


# --- V03 duration -------------------------------------------------------------------------------

@pytest.mark.parametrize("minutes, fires", [(29, True), (30, False), (240, False), (241, True)])
def test_v03_duration_against_the_item_minimum_and_maximum(visits, minutes, fires):
    visit_id = visits.record("a-worker1", "刘桂英", at(8), minutes=minutes)
    assert ("V03" in visits.codes(visit_id)) is fires


def test_v03_uses_the_corrected_times(visits):
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.visits.models import Visit
    from portal.visits.recording import correct_times
    visit_id = visits.record("a-worker1", "刘桂英", at(9), minutes=40)
    assert visits.status(visit_id) == "verified"
    with visits.app.app_context(), visits.scope():
        supervisor = db.session.execute(select(User).where(User.username == "gx-supervisor")).scalar_one()
        correct_times(db.session.get(Visit, visit_id), reason_code=_a_reason(), user=supervisor, now=at(12),
                      check_out_at=at(9, 20).isoformat())  # a supervisor's correction is in force at once
        db.session.commit()
    visits.run_worker()
    assert "V03" in visits.codes(visit_id) and visits.status(visit_id) == "exception"


def _a_reason():
    from portal.visits.recording import CORRECTION_REASONS
    return sorted(CORRECTION_REASONS)[0]


# --- V04 overlap --------------------------------------------------------------------------------

@pytest.mark.parametrize("overlap, fires", [(1, False), (2, True)])
def test_v04_the_workers_visits_may_touch_by_one_minute(visits, overlap, fires):
    first = visits.record("a-worker1", "刘桂英", at(9), minutes=60)
    second = visits.record("a-worker1", "陈德福", at(10) - timedelta(minutes=overlap), minutes=60)
    for visit_id in (first, second):
        assert ("V04" in visits.codes(visit_id)) is fires
        assert visits.status(visit_id) == ("exception" if fires else "verified")


def test_v04_other_workers_may_overlap(visits):
    first = visits.record("a-worker1", "刘桂英", at(9), minutes=60)
    second = visits.record("a-worker2", "黄秀兰", at(9, 30), minutes=60)
    assert "V04" not in visits.codes(first) | visits.codes(second)


# --- V05 travel ---------------------------------------------------------------------------------

@pytest.mark.parametrize("km, fires", [(79, False), (81, True)])
def test_v05_travel_between_consecutive_visits_at_80_kmh(visits, km, fires):
    far = north_of(HOME, km * 1000)
    set_home(visits, "陈德福", far)
    first = visits.record("a-worker1", "刘桂英", at(8), minutes=60)          # leaves HOME at 09:00
    second = visits.record("a-worker1", "陈德福", at(10), minutes=60, place=far)  # one hour later
    assert ("V05" in visits.codes(second)) is fires
    assert ("V05" in visits.codes(first)) is fires  # both ends of an impossible leg are suspect
    if fires:
        [leg] = visits.exceptions(second)["V05"]["details"]["legs"]
        assert leg["visit"] == first and leg["kmh"] == pytest.approx(81, abs=0.2)


def test_v05_measures_from_the_previous_check_out_place(visits):
    far = north_of(HOME, 100_000)
    set_home(visits, "陈德福", far)
    # The first visit's check-out was already 79 km on the way: 21 km in an hour is fine.
    visits.record("a-worker1", "刘桂英", at(8), minutes=60, out_place=north_of(HOME, 79_000))
    second = visits.record("a-worker1", "陈德福", at(10), minutes=60, place=far)
    assert "V05" not in visits.codes(second)


# --- V06 eligibility ----------------------------------------------------------------------------

def _assignment_of(visits, person):
    from portal.contracts.models import Assignment
    from portal.extensions import db
    with visits.app.app_context(), visits.scope():
        return db.session.scalars(select(Assignment.id).where(
            Assignment.beneficiary_id == visits.world["people"][person])).one()


@pytest.mark.parametrize("until, fires", [(DAY, False), (DAY - timedelta(days=1), True)])
def test_v06_beneficiary_assigned_to_the_contract_that_day(visits, until, fires):
    from portal.contracts.models import Assignment
    visits.edit(Assignment, _assignment_of(visits, "刘桂英"), until_on=until)
    visit_id = visits.record("a-worker1", "刘桂英", at(9))
    assert ("V06" in visits.codes(visit_id)) is fires


def test_v06_hospitalised_beneficiary_is_not_eligible(visits):
    from portal.beneficiaries import services
    from portal.beneficiaries.models import Beneficiary
    from portal.extensions import db
    with visits.app.app_context(), visits.scope():
        person = db.session.get(Beneficiary, visits.world["people"]["陈德福"])
        services.change_status(person, "hospitalised", DAY - timedelta(days=1), note="住院")
        db.session.commit()
    visit_id = visits.record("a-worker1", "陈德福", at(9))
    assert "V06" in visits.codes(visit_id) and visits.status(visit_id) == "exception"
    other = visits.record("a-worker1", "刘桂英", at(14))
    assert "V06" not in visits.codes(other)


# --- V07 daily limit ----------------------------------------------------------------------------

@pytest.mark.parametrize("limit, fires", [(2, False), (1, True)])
def test_v07_daily_limit_per_beneficiary(visits, limit, fires):
    from portal.contracts.models import ServiceItem
    visits.edit(ServiceItem, visits.item_id, daily_limit_per_beneficiary=limit)
    first = visits.record("a-worker1", "刘桂英", at(9), minutes=60)
    second = visits.record("a-worker1", "刘桂英", at(14), minutes=60)
    assert "V07" not in visits.codes(first) and visits.status(first) == "verified"
    assert ("V07" in visits.codes(second)) is fires


def test_v07_a_later_uploaded_earlier_visit_takes_the_days_place(visits):
    afternoon = visits.record("a-worker1", "刘桂英", at(14), minutes=60)
    assert visits.status(afternoon) == "verified"
    morning = visits.record("a-worker1", "刘桂英", at(9), minutes=60)
    assert "V07" not in visits.codes(morning) and visits.status(morning) == "verified"
    assert "V07" in visits.codes(afternoon) and visits.status(afternoon) == "exception"


# --- V08 times ----------------------------------------------------------------------------------

def test_v08_check_in_in_the_future_fires(visits):
    now = at(9)
    visit_id = visits.record("a-worker1", "刘桂英", now + timedelta(hours=1), minutes=60, now=now)
    assert "check_in_in_future" in visits.exceptions(visit_id)["V08"]["details"]["problems"]
    assert visits.status(visit_id) == "exception"


def test_v08_a_clock_a_few_minutes_ahead_is_tolerated(visits):
    now = at(9)
    visit_id = visits.record("a-worker1", "刘桂英", now - timedelta(minutes=30), minutes=34, now=now)
    assert "V08" not in visits.codes(visit_id) and visits.status(visit_id) == "verified"


def test_v08_check_out_before_check_in(visits):
    visit_id = visits.record("a-worker1", "刘桂英", at(10), out_at=at(9), now=at(11))
    assert visits.exceptions(visit_id)["V08"]["details"]["problems"] == ["check_out_before_check_in"]


def test_v08_no_check_out_after_the_day_is_over_by_the_daily_job(visits):
    from portal.extensions import db
    from portal.jobs.queue import enqueue
    yesterday = visits.record("a-worker1", "刘桂英", at(9), check_out=False, now=at(9, 1))
    today = visits.record("a-worker1", "陈德福", at(9, day=local_today()), check_out=False,
                          now=at(9, 1, day=local_today()))
    with visits.app.app_context(), visits.scope():
        enqueue("supervision.flag_missing_check_outs", tenant_id=visits.tenant)
        db.session.commit()
    visits.run_worker()
    assert visits.exceptions(yesterday)["V08"]["details"]["problems"] == ["no_check_out"]
    assert visits.status(yesterday) == "exception"
    assert "V08" not in visits.codes(today) and visits.status(today) == "pending"


def test_daily_job_for_missing_check_outs_is_scheduled_per_bureau():
    from portal.jobs.schedule import PERIODIC
    [job] = [p for p in PERIODIC if p.task == "supervision.flag_missing_check_outs"]
    assert job.every == "daily" and job.per_tenant


# --- V09 late upload ----------------------------------------------------------------------------

@pytest.mark.parametrize("hours, fires", [(71, False), (73, True)])
def test_v09_late_upload_is_a_warning_only(visits, hours, fires):
    visit_id = visits.record("a-worker1", "刘桂英", at(9), minutes=60, now=at(10) + timedelta(hours=hours))
    exceptions = visits.exceptions(visit_id)
    assert ("V09" in exceptions) is fires
    if fires:
        assert exceptions["V09"]["warning"] is True
    assert visits.status(visit_id) == "verified"


# --- V10 shared device --------------------------------------------------------------------------

def test_v10_one_device_two_workers_of_one_contractor(visits):
    first = visits.record("a-worker1", "刘桂英", at(9), device="shared-1")
    second = visits.record("a-worker2", "黄秀兰", at(14), device="shared-1")
    assert "V10" in visits.codes(first) and "V10" in visits.codes(second)
    assert visits.status(first) == "exception"  # the earlier one was re-checked
    assert visits.violations("shared_device") == []  # same organisation: no subcontracting breach


def test_v10_one_worker_or_another_day_passes(visits):
    first = visits.record("a-worker1", "刘桂英", at(9), device="own-1")
    second = visits.record("a-worker1", "陈德福", at(14), device="own-1")
    third = visits.record("a-worker2", "黄秀兰", at(9, day=DAY + timedelta(days=1)), device="own-1")
    assert not {"V10"} & (visits.codes(first) | visits.codes(second) | visits.codes(third))


def test_v10_device_shared_across_contractors_opens_violations(visits):
    first = visits.record("a-worker1", "刘桂英", at(9), device="shared-2")
    other = visits.record("b-worker1", "钟长生", at(14), device="shared-2", item="ADL-ASSESS")
    assert "V10" in visits.codes(first) and "V10" in visits.codes(other)
    found = visits.violations("shared_device")
    assert {v["contract_id"] for v in found} == {visits.world["a_contract"], visits.world["b_contract"]}
    assert all(v["status"] == "open" for v in found)


# --- V11 photo ----------------------------------------------------------------------------------

def test_v11_required_photo_missing_then_uploaded(visits):
    from portal.contracts.models import ServiceItem
    visits.edit(ServiceItem, visits.item_id, photo_required=True)
    visit_id = visits.record("a-worker1", "刘桂英", at(9))
    assert "V11" in visits.codes(visit_id) and visits.status(visit_id) == "exception"
    visits.add_photo(visit_id, at(10, 5))
    assert "V11" not in visits.codes(visit_id) and visits.status(visit_id) == "verified"


def test_v11_item_without_photo_requirement_passes(visits):
    visit_id = visits.record("a-worker1", "刘桂英", at(9))
    assert "V11" not in visits.codes(visit_id)


# --- neighbours, answered exceptions, the API ------------------------------------------------------

def test_later_uploaded_earlier_visit_makes_the_verified_next_visit_overlap(visits, client, api_token):
    later = visits.record("a-worker1", "陈德福", at(10), minutes=60)
    assert visits.status(later) == "verified"
    earlier = visits.record("a-worker1", "刘桂英", at(9, 30), minutes=60)
    assert "V04" in visits.codes(later) and "V04" in visits.codes(earlier)
    body = client.get(f"/api/v1/visits/{later}", headers=api_token("a-worker1")).get_json()
    assert body["status"] == "exception" and "V04" in {e["code"] for e in body["exceptions"]}


def test_later_uploaded_earlier_visit_far_away_makes_the_next_visit_fail_travel(visits):
    later = visits.record("a-worker1", "刘桂英", at(10), minutes=60)
    assert visits.status(later) == "verified"
    far = north_of(HOME, 50_000)
    set_home(visits, "陈德福", far)
    earlier = visits.record("a-worker1", "陈德福", at(9), minutes=50, place=far)  # 50 km in 10 min
    assert "V05" in visits.codes(later) and visits.status(later) == "exception"
    assert "V05" in visits.codes(earlier)


def test_stale_exception_is_removed_when_the_neighbour_is_corrected(visits):
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.visits.models import Visit
    from portal.visits.recording import correct_times
    first = visits.record("a-worker1", "刘桂英", at(9), minutes=60)
    second = visits.record("a-worker1", "陈德福", at(9, 50), minutes=60)
    assert "V04" in visits.codes(second)
    with visits.app.app_context(), visits.scope():
        supervisor = db.session.execute(select(User).where(User.username == "gx-supervisor")).scalar_one()
        correct_times(db.session.get(Visit, first), reason_code=_a_reason(), user=supervisor, now=at(12),
                      check_out_at=at(9, 45).isoformat())  # a contractor's would wait for a decision
        db.session.commit()
    visits.run_worker()
    assert "V04" not in visits.codes(first) | visits.codes(second)
    assert visits.status(first) == visits.status(second) == "verified"


def test_answered_exception_is_kept_when_the_rules_run_again(visits):
    from portal.extensions import db
    from portal.visits.models import VisitException
    from portal.visits.verification import verify_visit
    visit_id = visits.record("a-worker1", "刘桂英", at(9), place=north_of(HOME, 400))
    with visits.app.app_context(), visits.scope():
        row = db.session.scalars(select(VisitException).where(VisitException.visit_id == visit_id)).one()
        row.status, row.response_reason = "answered", "gps_drift"
        db.session.commit()
    set_home(visits, "刘桂英", north_of(HOME, 400))  # V02 would now pass
    with visits.app.app_context(), visits.scope():
        verify_visit(visit_id)
        db.session.commit()
    assert visits.exceptions(visit_id)["V02"]["status"] == "answered"
    assert visits.status(visit_id) == "exception"


def test_rerunning_the_comparison_changes_nothing(visits):
    from portal.audit.models import AuditEntry
    from portal.core.timeutil import utcnow
    from portal.extensions import db
    from portal.visits.models import Visit
    from portal.visits.verification import compare_and_settle
    first = visits.record("a-worker1", "刘桂英", at(9), minutes=60)
    visits.record("a-worker1", "陈德福", at(9, 50), minutes=60, device="phone-x")
    with visits.app.app_context(), visits.scope():
        before = db.session.query(AuditEntry).count()
        compare_and_settle(db.session.get(Visit, first), utcnow())
        db.session.commit()
        assert db.session.query(AuditEntry).count() == before
