"""Unit tests of the verification rules V01–V11 (docs/DOMAIN.md §6), one rule at a time, on
transient model objects: no HTTP, no worker, no database. The three rules that read rows (V01 the
roster, V06 eligibility, V11 the photos) get those rows from a stand-in session; their queries are
covered end to end by test_verification.py and test_v01_never_payable.py."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

import portal.models  # noqa: F401  (every mapper configured: Visit's relationships name other packages)
from portal.beneficiaries.models import Beneficiary
from portal.contractors.models import StaffMember
from portal.contracts.models import ServiceItem
from portal.visits import rules
from portal.visits.models import Visit, VisitCorrection, VisitException

SETTINGS = {"geofence_radius_m": 300, "late_upload_hours": 72, "max_travel_kmh": 80}
HOME = (25.8500, 114.9300)
# 02:00 UTC is 10:00 in Beijing: the visit's day is 2026-03-10 either way.
T0 = datetime(2026, 3, 10, 2, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(hours=3)
METRES_PER_DEGREE_LAT = 111_195  # haversine_m with the mean Earth radius


def north_of(point, metres):
    return point[0] + metres / METRES_PER_DEGREE_LAT, point[1]


def item(**kwargs):
    values = {"id": 7, "code": "S1", "min_minutes": 30, "max_minutes": 120, "daily_limit_per_beneficiary": None,
              "photo_required": False}
    return ServiceItem(**{**values, **kwargs})


def visit(minutes=60, at=T0, place=HOME, out_place=None, **kwargs):
    """A visit of ``minutes`` (None: no check-out) at the beneficiary's home, received at once."""
    values = {"id": 1, "contractor_id": 3, "worker_user_id": 11, "staff_id": None, "device_id": "dev-1",
              "beneficiary_id": 5, "contract_id": 2, "check_in_at": at, "check_in_lat": place[0],
              "check_in_lon": place[1], "received_at": at}
    if minutes is not None:
        end = at + timedelta(minutes=minutes)
        out_place = out_place or place
        values.update(check_out_at=end, check_out_lat=out_place[0], check_out_lon=out_place[1],
                      checked_out_received_at=end)
    values.update(kwargs)
    values.setdefault("service_item", item())
    values.setdefault("beneficiary", Beneficiary(id=5, lat=HOME[0], lon=HOME[1]))
    return Visit(**values)


def slot(v):
    start, end = v.effective_times
    return rules.Slot(v, start, end)


class FakeSession:
    """Stands in for db.session in the rules that read rows: returns the rows it was given."""

    def __init__(self, staff=(), photo=None):
        self.staff, self.photo, self.added, self.deleted = list(staff), photo, [], []

    def scalars(self, _stmt):
        return SimpleNamespace(all=lambda: self.staff)

    def execute(self, _stmt):
        return SimpleNamespace(first=lambda: self.photo)

    def add(self, row):
        self.added.append(row)

    def delete(self, row):
        self.deleted.append(row)


@pytest.fixture
def session(monkeypatch):
    def _use(**rows):
        fake = FakeSession(**rows)
        monkeypatch.setattr(rules, "db", SimpleNamespace(session=fake))
        return fake
    return _use


# --- V01 ---------------------------------------------------------------------------------------

def test_v01_passes_a_worker_on_the_roster_that_day(session):
    session(staff=[StaffMember(joined_on=date(2026, 1, 1), left_on=None)])
    assert rules.v01_unlisted_worker(visit(), SETTINGS, NOW) is None


def test_v01_the_roster_counts_on_the_visit_s_beijing_day(session):
    # 17:00 UTC on the 9th is 01:00 on the 10th in Beijing: joined on the 10th is in time
    session(staff=[StaffMember(joined_on=date(2026, 3, 10), left_on=None)])
    assert rules.v01_unlisted_worker(visit(at=datetime(2026, 3, 9, 17, 0, tzinfo=timezone.utc)), SETTINGS, NOW) is None
    finding = rules.v01_unlisted_worker(visit(at=datetime(2026, 3, 9, 15, 0, tzinfo=timezone.utc)), SETTINGS, NOW)
    assert finding.code == "V01" and finding.details == {"day": "2026-03-09", "on_roster": True}


def test_v01_fires_for_a_worker_who_left_or_was_never_listed(session):
    session(staff=[StaffMember(joined_on=date(2025, 1, 1), left_on=date(2026, 3, 9))])
    finding = rules.v01_unlisted_worker(visit(), SETTINGS, NOW)
    assert (finding.code, finding.warning, finding.details) == ("V01", False, {"day": "2026-03-10", "on_roster": True})
    assert "2026-03-10" in finding.message
    session(staff=[])
    assert rules.v01_unlisted_worker(visit(), SETTINGS, NOW).details["on_roster"] is False


def test_v01_the_last_day_on_the_roster_still_counts(session):
    session(staff=[StaffMember(joined_on=date(2025, 1, 1), left_on=date(2026, 3, 10))])
    assert rules.v01_unlisted_worker(visit(), SETTINGS, NOW) is None


# --- V02 ---------------------------------------------------------------------------------------

def test_v02_inside_the_geofence_passes_and_stores_the_distance():
    v = visit(place=north_of(HOME, 250))
    assert rules.v02_geofence(v, SETTINGS, NOW) is None
    assert v.distance_from_home_m == 250


def test_v02_outside_the_geofence_fires_with_distance_and_radius():
    v = visit(place=north_of(HOME, 450))
    finding = rules.v02_geofence(v, SETTINGS, NOW)
    assert finding.code == "V02" and finding.details == {"distance_m": 450, "radius_m": 300}
    assert v.distance_from_home_m == 450
    assert rules.v02_geofence(visit(place=north_of(HOME, 450)), {**SETTINGS, "geofence_radius_m": 500}, NOW) is None


def test_v02_a_home_without_coordinates_is_not_judged():
    v = visit(place=north_of(HOME, 5000), beneficiary=Beneficiary(id=5, lat=None, lon=None), distance_from_home_m=9)
    assert rules.v02_geofence(v, SETTINGS, NOW) is None
    assert v.distance_from_home_m is None


# --- V03 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("minutes, fires", [(29, True), (30, False), (120, False), (121, True)])
def test_v03_duration_bounds_are_inclusive(minutes, fires):
    finding = rules.v03_duration(visit(minutes=minutes), SETTINGS, NOW)
    assert (finding is not None) is fires
    if fires:
        assert finding.details == {"minutes": float(minutes), "min_minutes": 30, "max_minutes": 120}


def test_v03_open_bounds_and_what_it_leaves_to_v08():
    assert rules.v03_duration(visit(minutes=600, service_item=item(max_minutes=None)), SETTINGS, NOW) is None
    finding = rules.v03_duration(visit(minutes=5, service_item=item(min_minutes=None, max_minutes=4)), SETTINGS, NOW)
    assert "0–4" in finding.message
    assert rules.v03_duration(visit(minutes=None), SETTINGS, NOW) is None       # no check-out: V08's business
    assert rules.v03_duration(visit(minutes=-10), SETTINGS, NOW) is None        # out before in: V08's business
    assert rules.v03_duration(visit(minutes=5, service_item=None), SETTINGS, NOW) is None


def test_v03_counts_the_accepted_correction_not_a_pending_one():
    v = visit(minutes=200)
    v.corrections.append(VisitCorrection(adjusted_check_in_at=T0, adjusted_check_out_at=T0 + timedelta(minutes=90),
                                         status="pending"))
    assert rules.v03_duration(v, SETTINGS, NOW).details["minutes"] == 200.0
    v.corrections[0].status = "accepted"
    assert rules.v03_duration(v, SETTINGS, NOW) is None


# --- V06 ---------------------------------------------------------------------------------------

def test_v06_asks_eligibility_for_the_visit_s_day(monkeypatch):
    asked = []

    def eligible_on(beneficiary_id, contract_id, day):
        asked.append((beneficiary_id, contract_id, day))
        return day != date(2026, 3, 10), "hospitalised"
    monkeypatch.setattr(rules, "eligible_on", eligible_on)  # the registry's answer, as rules reads it
    finding = rules.v06_eligibility(visit(), SETTINGS, NOW)
    assert asked == [(5, 2, date(2026, 3, 10))]
    assert finding.code == "V06" and finding.details == {"day": "2026-03-10", "reason": "hospitalised"}
    assert rules.v06_eligibility(visit(at=T0 + timedelta(days=1)), SETTINGS, NOW) is None


# --- V08 ---------------------------------------------------------------------------------------

def test_v08_a_complete_visit_passes():
    assert rules.v08_times(visit(), SETTINGS, NOW) is None


def test_v08_no_check_out_fires_only_once_the_beijing_day_is_over():
    v = visit(minutes=None)
    assert rules.v08_times(v, SETTINGS, NOW) is None
    # 15:59 UTC is 23:59 the same day in Beijing; 16:00 UTC is the next day
    assert rules.v08_times(v, SETTINGS, datetime(2026, 3, 10, 15, 59, tzinfo=timezone.utc)) is None
    finding = rules.v08_times(v, SETTINGS, datetime(2026, 3, 10, 16, 0, tzinfo=timezone.utc))
    assert finding.details == {"problems": ["no_check_out"]}


def test_v08_times_in_the_future_beyond_the_clock_skew():
    v = visit(received_at=T0 - timedelta(minutes=5), checked_out_received_at=T0 + timedelta(minutes=55))
    assert rules.v08_times(v, SETTINGS, NOW) is None  # exactly the five minutes' tolerance
    v = visit(received_at=T0 - timedelta(minutes=6), checked_out_received_at=T0 + timedelta(minutes=54))
    assert rules.v08_times(v, SETTINGS, NOW).details == {"problems": ["check_in_in_future", "check_out_in_future"]}


def test_v08_check_out_before_check_in_and_received_at_defaults():
    finding = rules.v08_times(visit(minutes=-1), SETTINGS, NOW)
    assert finding.code == "V08" and finding.details == {"problems": ["check_out_before_check_in"]}
    # nothing received yet: "now" stands in for the check-in, the check-in's receipt for the check-out
    v = visit(received_at=None, checked_out_received_at=None)
    assert rules.v08_times(v, SETTINGS, T0 - timedelta(minutes=10)).details == {
        "problems": ["check_in_in_future", "check_out_in_future"]}


# --- V09 ---------------------------------------------------------------------------------------

def test_v09_late_upload_is_a_warning_past_the_limit():
    end = T0 + timedelta(minutes=60)
    assert rules.v09_late_upload(visit(checked_out_received_at=end + timedelta(hours=72)), SETTINGS, NOW) is None
    finding = rules.v09_late_upload(visit(checked_out_received_at=end + timedelta(hours=73, minutes=30)), SETTINGS, NOW)
    assert (finding.code, finding.warning, finding.details) == ("V09", True, {"hours": 73.5, "limit_hours": 72})
    assert rules.v09_late_upload(visit(checked_out_received_at=end + timedelta(hours=5)),
                                 {**SETTINGS, "late_upload_hours": 4}, NOW).details["hours"] == 5.0


def test_v09_falls_back_to_the_check_in_receipt_and_ignores_open_visits():
    late = T0 + timedelta(hours=80)
    assert rules.v09_late_upload(visit(received_at=late, checked_out_received_at=None), SETTINGS, NOW).code == "V09"
    assert rules.v09_late_upload(visit(minutes=None, received_at=late), SETTINGS, NOW) is None


# --- V11 ---------------------------------------------------------------------------------------

def test_v11_a_required_photo(session):
    session(photo=None)
    assert rules.v11_photo(visit(), SETTINGS, NOW) is None  # not required
    finding = rules.v11_photo(visit(service_item=item(photo_required=True)), SETTINGS, NOW)
    assert (finding.code, finding.details) == ("V11", {})
    session(photo=(42,))
    assert rules.v11_photo(visit(service_item=item(photo_required=True)), SETTINGS, NOW) is None


# --- V04 ---------------------------------------------------------------------------------------

def test_v04_touching_by_a_minute_is_allowed_more_is_an_overlap():
    this = slot(visit(id=1, minutes=60))
    touching = slot(visit(id=2, at=T0 + timedelta(minutes=59), minutes=30))
    overlapping = slot(visit(id=3, at=T0 + timedelta(minutes=45), minutes=30))
    assert rules.v04_overlap(this, [this, touching]) is None
    finding = rules.v04_overlap(this, [this, touching, overlapping])
    assert finding.code == "V04" and finding.details == {"visits": [3], "overlap_minutes": 15.0}


def test_v04_reports_every_overlap_and_the_worst_and_skips_open_visits():
    this = slot(visit(id=1, minutes=60))
    others = [slot(visit(id=4, at=T0 + timedelta(minutes=30), minutes=60)),
              slot(visit(id=2, at=T0 - timedelta(minutes=30), minutes=40)),
              slot(visit(id=5, at=T0, minutes=None))]
    assert rules.v04_overlap(this, others).details == {"visits": [2, 4], "overlap_minutes": 30.0}
    assert rules.v04_overlap(slot(visit(id=5, minutes=None)), [this]) is None


# --- V05 ---------------------------------------------------------------------------------------

def test_v05_travel_within_the_speed_limit_passes():
    first = slot(visit(id=1, minutes=60))
    # 20 km in 30 min = 40 km/h
    second = slot(visit(id=2, at=T0 + timedelta(minutes=90), place=north_of(HOME, 20_000)))
    assert rules.v05_travel(second, first, None, SETTINGS) is None


def test_v05_impossible_travel_from_the_previous_and_to_the_next_visit():
    first = slot(visit(id=1, minutes=60))
    second = slot(visit(id=2, at=T0 + timedelta(minutes=70), place=north_of(HOME, 30_000)))  # 30 km in 10 min
    finding = rules.v05_travel(second, first, None, SETTINGS)
    assert finding.details == {"legs": [{"visit": 1, "distance_m": 30_000, "kmh": 180.0}], "limit_kmh": 80}
    assert "180.0 km/h" in finding.message
    assert rules.v05_travel(first, None, second, SETTINGS).details["legs"] == [
        {"visit": 2, "distance_m": 30_000, "kmh": 180.0}]


def test_v05_starts_from_the_check_out_place_and_ignores_gps_noise():
    # the previous visit ended 30 km away: a 200 m move is noise, not travel
    far = north_of(HOME, 30_000)
    first = slot(visit(id=1, minutes=60, place=HOME, out_place=far))
    near = slot(visit(id=2, at=T0 + timedelta(minutes=61), place=north_of(far, 200)))
    assert rules.v05_travel(near, first, None, SETTINGS) is None
    open_first = slot(visit(id=1, minutes=None, place=far))  # no check-out: from the check-in
    assert rules.v05_travel(near, open_first, None, SETTINGS) is None


def test_v05_no_time_between_two_distant_visits():
    first = slot(visit(id=1, minutes=60))
    second = slot(visit(id=2, at=T0 + timedelta(minutes=60), place=north_of(HOME, 5_000)))
    finding = rules.v05_travel(second, first, None, SETTINGS)
    assert finding.details["legs"] == [{"visit": 1, "distance_m": 5_000, "kmh": None}]
    assert "no time between them" in finding.message


# --- V07 ---------------------------------------------------------------------------------------

def test_v07_visits_past_the_daily_limit_in_check_in_order():
    limited = item(daily_limit_per_beneficiary=2)
    day = [slot(visit(id=i, at=T0 + timedelta(hours=i), service_item=limited)) for i in (3, 1, 2)]
    assert [rules.v07_daily_limit(s, day) is None for s in day] == [False, True, True]
    finding = rules.v07_daily_limit(day[0], day)
    assert finding.details == {"day": "2026-03-10", "rank": 3, "limit": 2, "earlier_visits": [1, 2]}


def test_v07_a_visit_left_out_of_the_set_is_still_ranked_and_no_limit_means_none():
    limited = item(daily_limit_per_beneficiary=1)
    earlier = slot(visit(id=1, service_item=limited))
    rejected = slot(visit(id=9, at=T0 + timedelta(hours=2), service_item=limited))
    assert rules.v07_daily_limit(rejected, [earlier]).details["rank"] == 2
    assert rules.v07_daily_limit(slot(visit(id=9)), [earlier]) is None


# --- V10 ---------------------------------------------------------------------------------------

def test_v10_one_device_used_by_another_worker_that_day():
    mine = visit(id=1)
    same_worker = visit(id=2, at=T0 + timedelta(hours=2))
    assert rules.v10_shared_device(slot(mine), [mine, same_worker]) is None
    other = visit(id=3, worker_user_id=12, contractor_id=4, at=T0 + timedelta(hours=4))
    finding = rules.v10_shared_device(slot(mine), [mine, same_worker, other])
    assert finding.details == {"day": "2026-03-10", "other_workers": 1, "contractors": 2, "visits": [2, 3]}


def test_v10_workers_are_told_apart_by_roster_entry_first_and_a_visit_without_device_passes():
    mine = visit(id=1, staff_id=50, worker_user_id=11)
    other_staff_same_account = visit(id=2, staff_id=51, worker_user_id=11)
    assert rules.v10_shared_device(slot(mine), [mine, other_staff_same_account]).details["other_workers"] == 1
    no_device = visit(id=1, device_id=None)
    assert rules.v10_shared_device(slot(no_device), [no_device, visit(id=3, worker_user_id=12)]) is None


# --- findings → exceptions -------------------------------------------------------------------------

def test_apply_opens_refreshes_removes_and_leaves_decided_and_v01_alone(session):
    fake = session()
    v = visit()
    stale = VisitException(code="V03", status="open", message="old", details={}, warning=False)
    decided = VisitException(code="V02", status="accepted", message="kept", details={}, warning=False)
    v01 = VisitException(code="V01", status="open", message="off roster", details={}, warning=False)
    v.exceptions.extend([stale, decided, v01])
    findings = {"V02": rules.Finding("V02", "far"), "V09": rules.Finding("V09", "late", {"hours": 80}, warning=True)}
    rules.apply(v, ("V01", "V02", "V03", "V09"), findings, NOW)
    assert fake.deleted == [stale] and stale not in v.exceptions
    assert decided.message == "kept" and v01 in v.exceptions  # decided; V01 is cleared only by a supervisor
    [opened] = fake.added
    assert (opened.code, opened.status, opened.message, opened.details, opened.warning, opened.raised_at) == (
        "V09", "open", "late", {"hours": 80}, True, NOW)
    rules.apply(v, ("V09",), {"V09": rules.Finding("V09", "later", {"hours": 90}, warning=True)}, NOW)
    assert (opened.message, opened.details) == ("later", {"hours": 90}) and len(fake.added) == 1
