"""Planned against delivered from real visits (docs/DOMAIN.md §6 "Care plans", careplans/delivery.py):
visits recorded through the visits API and the recording code, judged by the comparison job; only
verified visits count, each service once per visit, one service's extra never makes up another;
a visit in person is a verified visit the geofence rule found nothing against; the version in
force governs its own months; the missed list; a person planned for since by another contractor
is no longer the old contractor's."""
import io
import uuid
from fractions import Fraction
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from tests.careplan_world import (HOME, LAST_MONTH, THIS_MONTH, WORKERS, _user, approved, careplan_world,
                                  last_month_plan, local, month_row, scope, visit)

pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    return careplan_world(app)


def day(n):
    """The n-th day of the previous month (the visits' month: every day of it is over)."""
    return LAST_MONTH + timedelta(days=n - 1)


def test_a_visit_sent_through_the_api_with_two_services_counts_one_of_each(app, world, client, api_token):
    from portal.visits import verification
    from portal.visits.demo import tiny_jpeg
    person = world["people"]["刘桂英"]
    last_month_plan(app, person, {"daily_watch": 6, "counselling": 6})
    headers = api_token("a-worker1", tenant="ganxian")
    start = local(day(5), 9)
    end = start + timedelta(minutes=60)
    body = {"client_id": str(uuid.uuid4()), "beneficiary_id": person, "service_item": "CARE-VISIT",
            "device_id": "phone-a1", "services": ["daily_watch", "counselling"],
            "check_in": {"at": start.isoformat(), "lat": HOME[0], "lon": HOME[1]}}
    created = client.post("/api/v1/visits", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    visit_id = created.get_json()["id"]
    photo = client.post(f"/api/v1/visits/{visit_id}/photos", headers=headers,
                        data={"file": (io.BytesIO(tiny_jpeg()), "p.jpg")}, content_type="multipart/form-data")
    assert photo.status_code == 201
    out = client.post(f"/api/v1/visits/{visit_id}/check-out", headers=headers,
                      json={"at": end.isoformat(), "lat": HOME[0], "lon": HOME[1]})
    assert out.status_code == 200, out.get_json()
    with app.app_context(), scope(app):
        verification.verify_visit(visit_id)
        db.session.commit()
    assert client.get(f"/api/v1/visits/{visit_id}", headers=headers).get_json()["status"] == "verified"
    row = month_row(app, person, LAST_MONTH)
    assert row["by_service"] == {"counselling": (6, 1), "daily_watch": (6, 1)}
    assert (row["planned"], row["delivered"], row["in_person"], row["missed"]) == (12, 2, 1, True)
    assert row["short"] == {"counselling": 5, "daily_watch": 5}


def test_pending_exception_and_rejected_visits_never_count(app, world):
    from portal.visits import exceptions, recording
    from portal.visits.models import VisitException
    person = world["people"]["陈德福"]
    last_month_plan(app, person, {"daily_watch": 3})
    counted, status = visit(app, world, "陈德福", day(3), 9, ["daily_watch"])
    assert status == "verified"
    no_photo, status = visit(app, world, "陈德福", day(4), 9, ["daily_watch"], photo=False)
    assert status == "exception"  # V11: the required photo is missing
    rejected, status = visit(app, world, "陈德福", day(5), 9, ["daily_watch"], photo=False)
    with app.app_context(), scope(app):
        v11 = db.session.scalars(select(VisitException).where(VisitException.visit_id == rejected)).one()
        exceptions.reject(v11, _user("gx-supervisor"), "未上传照片")
        # a visit still in progress (no check-out): pending
        payload = {"client_id": str(uuid.uuid4()), "beneficiary_id": person, "service_item": "CARE-VISIT",
                   "device_id": "phone-a1", "services": ["daily_watch"],
                   "check_in": {"at": local(day(6), 9).isoformat(), "lat": HOME[0], "lon": HOME[1]}}
        pending, _created = recording.record_visit(payload, _user(WORKERS["陈德福"]), local(day(6), 9, 1))
        db.session.commit()
        assert pending.status == "pending"
    row = month_row(app, person, LAST_MONTH)
    assert row["by_service"] == {"daily_watch": (3, 1)} and row["in_person"] == 1
    assert row["missed"] and counted and no_photo


def test_what_one_service_exceeds_never_makes_up_another(app, world):
    person = world["people"]["陈德福"]
    last_month_plan(app, person, {"daily_watch": 2, "counselling": 1})
    for n in range(4):
        assert visit(app, world, "陈德福", day(3 + n), 10, ["daily_watch"])[1] == "verified"
    row = month_row(app, person, LAST_MONTH)
    assert row["by_service"] == {"counselling": (1, 0), "daily_watch": (2, 4)}
    assert (row["planned"], row["delivered"], row["in_person"]) == (3, 2, 4)
    assert row["short"] == {"counselling": 1} and row["missed"]
    visit(app, world, "陈德福", day(10), 10, ["counselling", "counselling", "unknown_code"])
    row = month_row(app, person, LAST_MONTH)
    assert row["by_service"]["counselling"] == (1, 1)  # the same code twice in one visit counts once
    assert (row["delivered"], row["missed"]) == (3, False)


def _far_visit_accepted(app, world, name, on):
    """A visit checked in 1 km from home (V02), explained by the manager and accepted by a supervisor."""
    from portal.visits import exceptions
    from portal.visits.models import Visit, VisitException
    visit_id, status = visit(app, world, name, on, 14, ["hospital_escort", "daily_watch"], far_m=1000)
    assert status == "exception"
    with app.app_context(), scope(app):
        v02 = db.session.scalars(select(VisitException).where(VisitException.visit_id == visit_id,
                                                              VisitException.code == "V02")).one()
        exceptions.respond(v02, reason="hospital_escort", text="送医陪护，在医院签到", user=_user("a-manager"))
        exceptions.accept(v02, _user("gx-supervisor"), "属实")
        db.session.commit()
        assert db.session.get(Visit, visit_id).status == "verified"
    return visit_id


def test_a_verified_visit_away_from_home_counts_its_services_but_is_no_visit_in_person(app, world):
    person = world["people"]["陈德福"]
    last_month_plan(app, person, {"daily_watch": 1, "hospital_escort": 2})
    _far_visit_accepted(app, world, "陈德福", day(8))
    row = month_row(app, person, LAST_MONTH)
    assert row["by_service"] == {"daily_watch": (1, 1), "hospital_escort": (2, 1)}
    assert row["in_person"] == 0 and row["missed"]
    visit(app, world, "陈德福", day(9), 9, ["hospital_escort"])
    row = month_row(app, person, LAST_MONTH)
    assert (row["delivered"], row["planned"], row["in_person"], row["missed"]) == (3, 3, 1, False)


def test_the_only_visit_being_away_from_home_puts_the_person_on_the_missed_list(app, world):
    from portal.careplans.delivery import missed
    person = world["people"]["陈德福"]
    last_month_plan(app, person, {"daily_watch": 1, "hospital_escort": 2})
    _far_visit_accepted(app, world, "陈德福", day(8))
    visit(app, world, "陈德福", day(12), 14, ["hospital_escort"], far_m=1000)  # not accepted: not counted
    with app.app_context(), scope(app):
        rows = missed(LAST_MONTH)
        assert [(r.beneficiary_id, r.short_services, r.in_person_short) for r in rows] == \
            [(person, {"hospital_escort": 1}, True)]


def test_each_version_governs_its_own_months(app, world):
    person = world["people"]["陈德福"]
    first = last_month_plan(app, person, {"daily_watch": 3})
    visit(app, world, "陈德福", day(3), 9, ["daily_watch"])
    assert month_row(app, person, LAST_MONTH - timedelta(days=1)) is None  # before the first version
    second = approved(app, person, {"daily_watch": 4, "counselling": 2}, reason="增加心理疏导")
    last, this = month_row(app, person, LAST_MONTH), month_row(app, person, THIS_MONTH)
    assert (last["plan"], last["version"], last["planned"], last["delivered"]) == (first, 1, 3, 1)
    assert (this["plan"], this["version"], this["planned"]) == (second, 2, 6)
    with app.app_context(), scope(app):
        from portal.careplans.models import CarePlan
        assert db.session.get(CarePlan, first).status == "superseded"


def test_the_missed_list_names_who_fell_short_and_only_them(app, world):
    from portal.careplans.delivery import missed
    from portal.contracts.models import Contract
    people = world["people"]
    last_month_plan(app, people["刘桂英"], {"daily_watch": 10, "counselling": 2})
    last_month_plan(app, people["陈德福"], {"daily_watch": 3})
    for n in range(3):
        visit(app, world, "陈德福", day(3 + n), 9, ["daily_watch"])
    visit(app, world, "刘桂英", day(3), 11, ["counselling"])
    with app.app_context(), scope(app):
        rows = missed(LAST_MONTH)
        assert [(r.beneficiary_id, r.planned, r.delivered, r.in_person) for r in rows] == \
            [(people["刘桂英"], 12, 1, 1)]
        b_contractor = db.session.get(Contract, world["b_contract"]).contractor_id
        assert missed(LAST_MONTH, contractor_id=b_contractor) == []


def test_a_person_planned_for_by_another_contractor_since_is_not_the_old_ones(app, world):
    """plans_in_force chooses the version in force among all of the person's versions, then narrows."""
    from portal.careplans.delivery import plans_in_force
    from portal.careplans.models import CarePlan
    from portal.contracts.models import Contract
    person = world["people"]["陈德福"]
    old = last_month_plan(app, person, {"daily_watch": 3})
    with app.app_context(), scope(app):
        a_plan = db.session.get(CarePlan, old)
        b_contract = db.session.get(Contract, world["b_contract"])
        newer = CarePlan(beneficiary_id=person, contract_id=b_contract.id, contractor_id=b_contract.contractor_id,
                         needs_assessment_id=a_plan.needs_assessment_id, version=2, care_class="self_care",
                         services={"daily_watch": 5}, in_person_per_month=1, effective_from=THIS_MONTH,
                         reason="转由其他机构服务", status="approved")
        a_plan.status = "superseded"
        db.session.add(newer)
        db.session.commit()
        a_contractor = a_plan.contractor_id
        assert list(plans_in_force(LAST_MONTH, contractor_id=a_contractor)) == [person]
        assert plans_in_force(THIS_MONTH, contractor_id=a_contractor) == {}
        assert plans_in_force(THIS_MONTH, contract_id=world["a_contract"]) == {}
        assert plans_in_force(THIS_MONTH, contractor_id=b_contract.contractor_id)[person].version == 2


def test_the_services_done_may_come_with_the_check_out(app, world, client, api_token):
    """The field web app ticks the services at the check-out (POST …/check-out with "services"): they
    become the visit's; the same check-out again changes nothing; other services are a 409."""
    person = world["people"]["陈德福"]
    headers = api_token("a-worker1", tenant="ganxian")
    start = local(day(7), 9)
    out = {"at": (start + timedelta(minutes=60)).isoformat(), "lat": HOME[0], "lon": HOME[1],
           "services": ["daily_watch", "emotional_comfort"]}
    created = client.post("/api/v1/visits", headers=headers, json={
        "client_id": str(uuid.uuid4()), "beneficiary_id": person, "service_item": "CARE-VISIT", "device_id": "web-1",
        "check_in": {"at": start.isoformat(), "lat": HOME[0], "lon": HOME[1]}})
    visit_id = created.get_json()["id"]
    first = client.post(f"/api/v1/visits/{visit_id}/check-out", headers=headers, json=out)
    assert first.status_code == 200 and first.get_json()["services"] == ["daily_watch", "emotional_comfort"]
    again = client.post(f"/api/v1/visits/{visit_id}/check-out", headers=headers, json=out)
    assert again.status_code == 200 and again.get_json()["services"] == ["daily_watch", "emotional_comfort"]
    other = client.post(f"/api/v1/visits/{visit_id}/check-out", headers=headers, json={**out, "services": ["counselling"]})
    assert other.status_code == 409
    bad = client.post(f"/api/v1/visits/{visit_id}/check-out", headers=headers, json={**out, "services": "x"})
    assert bad.status_code == 422
    # a visit sent with its services: the same at the check-out is fine, others are refused
    second = client.post("/api/v1/visits", headers=headers, json={
        "client_id": str(uuid.uuid4()), "beneficiary_id": person, "service_item": "CARE-VISIT", "device_id": "web-1",
        "services": ["counselling"], "check_in": {"at": local(day(8), 9).isoformat(), "lat": HOME[0], "lon": HOME[1]}})
    second_id = second.get_json()["id"]
    refused = client.post(f"/api/v1/visits/{second_id}/check-out", headers=headers,
                          json={**out, "at": local(day(8), 10).isoformat()})
    assert refused.status_code == 409
    kept = client.post(f"/api/v1/visits/{second_id}/check-out", headers=headers,
                       json={**out, "at": local(day(8), 10).isoformat(), "services": ["counselling"]})
    assert kept.status_code == 200 and kept.get_json()["services"] == ["counselling"]


def test_the_scorecard_share_counts_the_person_months_not_missed(app, world):
    from portal.careplans.scoring import quarter_rate
    from portal.core.months import last_day
    people = world["people"]
    last_month_plan(app, people["陈德福"], {"daily_watch": 3})
    last_month_plan(app, people["刘桂英"], {"daily_watch": 12})
    for n in range(3):
        visit(app, world, "陈德福", day(3 + n), 9, ["daily_watch"])
    with app.app_context(), scope(app):
        assert quarter_rate(world["a_contract"], LAST_MONTH, last_day(LAST_MONTH)) == \
            (Fraction(1, 2), {"person_months": 2, "delivered_in_full": 1, "missed": 1})
        # this month too: nobody served yet, both missed so far
        assert quarter_rate(world["a_contract"], LAST_MONTH, last_day(THIS_MONTH))[1] == \
            {"person_months": 4, "delivered_in_full": 1, "missed": 3}
        assert quarter_rate(world["b_contract"], LAST_MONTH, last_day(THIS_MONTH)) == \
            (None, {"person_months": 0, "delivered_in_full": 0, "missed": 0})


def test_a_month_the_registry_shows_the_person_away_is_not_missed_nor_scored(app, world):
    """In hospital from the 10th with three visits of six before: not missed (the month is excused),
    left out of the scorecard's person-months; the month before the stay still counts."""
    from portal.beneficiaries import services as registry
    from portal.careplans.delivery import missed
    from portal.careplans.scoring import quarter_rate
    from portal.core.months import last_day
    from portal.beneficiaries.models import Beneficiary
    people = world["people"]
    last_month_plan(app, people["陈德福"], {"daily_watch": 6})
    last_month_plan(app, people["刘桂英"], {"daily_watch": 12})
    for n in range(3):
        visit(app, world, "陈德福", day(3 + n), 9, ["daily_watch"])
    with app.app_context(), scope(app):
        assert {row.beneficiary_id for row in missed(LAST_MONTH)} >= {people["陈德福"], people["刘桂英"]}
        registry.change_status(db.session.get(Beneficiary, people["陈德福"]), "hospitalised", day(10),
                               note="住院", by=_user("gx-officer"))
        db.session.commit()
    with app.app_context(), scope(app):
        rows = {row.beneficiary_id: row for row in missed(LAST_MONTH)}
        assert people["陈德福"] not in rows and people["刘桂英"] in rows
        assert quarter_rate(world["a_contract"], LAST_MONTH, last_day(LAST_MONTH))[1] == \
            {"person_months": 1, "delivered_in_full": 0, "missed": 1}
        from portal.careplans.delivery import month_of_plans
        away = {row.beneficiary_id: row.away for row in month_of_plans(LAST_MONTH)}
        assert away[people["陈德福"]] == "hospitalised" and away[people["刘桂英"]] is None


def test_a_plan_governs_nothing_after_the_person_left_the_contract_or_it_ended(app, world):
    """A plan in force last month with no visit: missed while the person is assigned to the care
    contract and it runs; not counted once the assignment ended before the month, nor once the
    contract itself ended before it."""
    from portal.careplans.delivery import missed
    from portal.contracts.models import Assignment, Contract
    person = world["people"]["刘桂英"]
    last_month_plan(app, person, {"daily_watch": 12})
    with app.app_context(), scope(app):
        assert person in {row.beneficiary_id for row in missed(LAST_MONTH)}
        rows = db.session.scalars(select(Assignment).where(Assignment.contract_id == world["a_contract"],
                                                           Assignment.beneficiary_id == person)).all()
        kept = [(row.id, row.from_on, row.until_on) for row in rows]
        for row in rows:
            row.until_on = LAST_MONTH - timedelta(days=1)
            row.from_on = min(row.from_on, row.until_on)
        db.session.commit()
    with app.app_context(), scope(app):
        assert person not in {row.beneficiary_id for row in missed(LAST_MONTH)}
        for row_id, from_on, until_on in kept:
            row = db.session.get(Assignment, row_id)
            row.from_on, row.until_on = from_on, until_on
        contract = db.session.get(Contract, world["a_contract"])
        contract.ends_on = LAST_MONTH - timedelta(days=1)
        db.session.commit()
    with app.app_context(), scope(app):
        assert person not in {row.beneficiary_id for row in missed(LAST_MONTH)}
