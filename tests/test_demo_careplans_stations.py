"""The demo's stations, care plans and training (issue 19 point 10; portal/stations/demo.py,
portal/careplans/demo.py): the hub and 20 township stations staffed by B's contract of GX-DEMO-003
with postings; last month's presence with exactly one station short (stations.compliance), its
shortfall deducted on B's approved station statement; care plans in force for the people with a
final self-care class, exactly one of them missed last month (careplans.delivery); two training
sessions with attendance; a second seed run adds nothing."""
from datetime import timedelta

from sqlalchemy import func, select

from portal.core.months import last_day, month_text, previous_month
from portal.core.timeutil import local_today
from portal.extensions import db
from tests import support


def _scope(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id("ganxian"))


def _last_month():
    return previous_month(local_today())


def test_the_demo_has_the_hub_and_twenty_township_stations_with_postings(app):
    from portal.beneficiaries.demo import demo_contract
    from portal.stations.models import Station
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        stations = db.session.scalars(select(Station).order_by(Station.code)).all()
        contract = demo_contract("B", "STATION-MONTH")
        assert contract is not None and contract.status == "active"
        assert contract.award.lot.tender.number == "GX-DEMO-003" and contract.award.supersedes_id is not None
        assert contract.starts_on <= previous_month(_last_month())  # last month is a whole month of it
        [hub] = [s for s in stations if s.kind == "hub"]
        townships = [s for s in stations if s.kind == "township"]
        assert hub.required_staff == 5 and len(townships) == 20
        assert {s.required_staff for s in townships} == {1, 2}
        assert len({s.township for s in townships}) == 20 and all(s.address.startswith("江西省赣州市赣县区") for s in stations)
        assert all(abs(s.lat - 25.86) < 0.3 and abs(s.lon - 115.01) < 0.3 for s in stations)
        assert {s.contract_id for s in stations} == {contract.id}
        day = _last_month()
        staffed = set()
        for station in stations:
            posted = [p for p in station.postings if p.from_on <= day and (p.until_on is None or p.until_on >= day)]
            assert len(posted) >= station.required_staff, station.code
            assert {p.staff.contractor_id for p in posted} == {contract.contractor_id}
            staffed |= {p.staff_id for p in posted}
        assert len(staffed) == sum(s.required_staff for s in stations)  # nobody posted twice


def test_last_month_has_exactly_one_station_short_on_working_days_only(app):
    from portal.stations import compliance
    from portal.stations.demo import SHORT_STATION
    from portal.stations.models import StationCheckIn
    from portal.tenancy.workdays import tenant_calendar
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        month = compliance.stations_month(_last_month())
        assert len(month) == 21
        short = [row for row in month if row.staff_days_missing]
        assert [row.station.code for row in short] == [SHORT_STATION]
        [row] = short
        assert len(row.short_days) == 4 and all(d["present"] == 1 and d["required"] == 2 for d in row.short_days)
        assert row.staff_days_present == row.staff_days_required - 4
        assert all(r.compliance == 1 for r in month if r is not row)
        calendar = tenant_calendar()
        assert row.days and all(calendar.is_working_day(day) for day in row.days)
        checkins = db.session.scalars(select(StationCheckIn).where(
            StationCheckIn.day >= _last_month(), StationCheckIn.day <= last_day(_last_month()))).all()
        assert all(calendar.is_working_day(c.day) for c in checkins)
        outside = [c for c in checkins if c.status != "counted"]
        assert sorted(c.status for c in outside) == ["accepted", "accepted", "rejected"]
        assert all(c.distance_m > 300 and c.decision_reason and c.decided_by_id for c in outside)
        assert all(c.distance_m <= 300 for c in checkins if c.status == "counted")
        # the month before, the contract's first month, is fully staffed (not every station at 0 %)
        before = compliance.stations_month(previous_month(_last_month()))
        assert len(before) == 21 and all(r.days and r.compliance == 1 for r in before)


def test_the_short_station_is_deducted_on_bs_approved_station_statement(app):
    """Needs billing's staffing deduction (``deduction_staffing``, issue 19 point 7): the demo
    prepares the statement through billing's settlement, whatever it computes."""
    from portal.beneficiaries.demo import demo_contract
    from portal.billing.models import Statement
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        contract = demo_contract("B", "STATION-MONTH")
        [statement] = db.session.scalars(select(Statement).where(Statement.contract_id == contract.id)).all()
        assert (statement.month, statement.status) == (month_text(_last_month()), "approved")
        deductions = [line for line in statement.lines if line.kind == "deduction_staffing"]
        assert len(deductions) == 1 and deductions[0].amount_fen > 0


def test_the_demo_care_plans_leave_exactly_one_person_missed_last_month(app):
    from portal.beneficiaries.demo import demo_contract
    from portal.beneficiaries.models import Beneficiary
    from portal.careplans import delivery
    from portal.careplans.demo import SECOND_VERSION
    from portal.careplans.models import CarePlan
    from portal.tenancy.services import settings_for
    from portal.visits.demo import UNCOUNSELLED
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        care = demo_contract("A", "CARE-VISIT")
        last, this = _last_month(), local_today()
        rows = delivery.month_of_plans(last, contract_id=care.id)
        assert len(rows) >= 5
        minimum = settings_for(care.tenant_id)["min_services_per_month"]
        assert all(r.plan.planned_total >= minimum[r.care_class] and r.plan.in_person_per_month >= 1 for r in rows)
        [missed] = delivery.missed(last, contract_id=care.id)
        assert missed.plan.beneficiary.name == UNCOUNSELLED
        assert missed.short_services == {"counselling": 1} and not missed.in_person_short
        assert all(r.delivered == r.planned for r in rows if r.beneficiary_id != missed.beneficiary_id)
        assert set(delivery.plans_in_force(this, contract_id=care.id)) == {r.beneficiary_id for r in rows}
        # one person's plan changed from this month: version 2 with its reason, version 1 superseded
        changed = db.session.scalars(select(CarePlan).join(Beneficiary, Beneficiary.id == CarePlan.beneficiary_id)
                                     .where(Beneficiary.name == SECOND_VERSION).order_by(CarePlan.version)).all()
        assert [(p.version, p.status) for p in changed] == [(1, "superseded"), (2, "approved")]
        assert changed[1].reason and changed[1].effective_from == this.replace(day=1)
        assert delivery.plans_in_force(this, beneficiary_ids=[changed[0].beneficiary_id])[
            changed[0].beneficiary_id].version == 2
        assert db.session.scalar(select(func.count(CarePlan.id)).where(CarePlan.status == "approved")) == len(rows)


def test_the_demo_has_service_logs_and_two_training_sessions_with_attendance(app):
    from portal.beneficiaries.models import CATEGORIES
    from portal.stations.models import Station, StationServiceLog, TrainingSession
    support.seed_demo(app, history=True)
    with app.app_context(), _scope(app):
        logs = db.session.scalars(select(StationServiceLog)).all()
        assert {log.target_group for log in logs} == set(CATEGORIES)
        assert {log.station_id for log in logs} == set(db.session.scalars(select(Station.id)))
        assert all(log.people > 0 and _last_month() <= log.day <= last_day(_last_month()) for log in logs)
        sessions = db.session.scalars(select(TrainingSession).order_by(TrainingSession.mode)).all()
        assert [s.mode for s in sessions] == ["offline", "online"]
        for session in sessions:
            attended = [a.attended for a in session.attendees]
            assert 0 < attended.count(True) < len(attended)
            assert _last_month() <= session.held_on < local_today() + timedelta(days=1)
        contractors = {a.contractor_id for a in sessions[0].attendees}
        assert len(contractors) == 2  # A's care workers and the hub's staff in the offline class


def test_a_second_demo_run_adds_no_station_plan_or_check_in(app):
    from portal.careplans.models import CarePlan, NeedsAssessment
    from portal.demo import seed
    from portal.stations.models import (Station, StationCheckIn, StationPosting, StationServiceLog, TrainingAttendee,
                                        TrainingSession)
    support.seed_demo(app, history=True)
    models = (Station, StationPosting, StationCheckIn, StationServiceLog, TrainingSession, TrainingAttendee,
              CarePlan, NeedsAssessment)
    with support.platform_app(app).app_context():  # the second `flask seed-demo` run, as the platform role
        with _scope(app):
            before = [db.session.scalar(select(func.count()).select_from(m)) for m in models]
        assert seed(support.PASSWORD) == 0
        db.session.commit()
        with _scope(app):
            assert [db.session.scalar(select(func.count()).select_from(m)) for m in models] == before
    assert all(before)
