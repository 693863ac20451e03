"""Work lists and assignments: only the contractor's own active roster works on its contract, only
a worker of the work list is assigned, a contractor sees only the people assigned to its own
contracts (pages and API: anything else is 404), and GET /api/v1/assignments keeps its fixed shape."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from tests import support
from tests.beneficiary_world import (TODAY, assign, care_world, make_contract, number, put_on_work_list, register,
                                     staff_of)

ASSIGNMENT_KEYS = {"beneficiary", "contract_id", "service_items"}
BENEFICIARY_KEYS = {"id", "display_name", "township", "village", "address", "lat", "lon"}
ITEM_KEYS = {"code", "name", "unit", "min_minutes", "max_minutes", "photo_required"}

@pytest.fixture
def english(app):
    """Messages of services called directly come in English (the default language is Chinese)."""
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield



def test_a_worker_not_on_the_contracts_work_list_cannot_be_assigned(app, demo, login):
    from portal.beneficiaries import assignments
    from portal.contracts.models import Assignment, Contract
    contract_id = make_contract(app, "ganxian", "a-manager")
    put_on_work_list(app, "ganxian", contract_id, "a-worker1", from_on=TODAY - timedelta(days=10))
    person = register(app, "ganxian", "刘桂英", number(21))
    with pytest.raises(DomainError) as refused:
        assign(app, "ganxian", contract_id, person, "a-worker2")  # on the roster, not on the work list
    assert list(refused.value.errors) == ["staff_id"]
    with pytest.raises(DomainError) as refused:
        assign(app, "ganxian", contract_id, person, "a-worker1", from_on=TODAY - timedelta(days=20))  # before listed
    assert list(refused.value.errors) == ["staff_id"]
    # By page too: the officer's form refuses it and nothing is written.
    officer = login("gx-officer")
    page = officer.get(f"/contracts/{contract_id}/assignments")
    assert page.status_code == 200
    response = officer.post(f"/contracts/{contract_id}/assignments", data={
        "csrf_token": support.csrf_token_from(page.get_data(as_text=True)), "beneficiary_id": person,
        "staff_id": staff_of(app, "a-worker2"), "from_on": TODAY.isoformat()})
    assert response.status_code == 422
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert db.session.execute(select(Assignment)).first() is None
        # The listed worker can be assigned, from the day they are listed.
        contract = db.session.get(Contract, contract_id)
        assignments.assign(contract, person, staff_of(app, "a-worker1"), TODAY - timedelta(days=10))
        db.session.commit()


def test_only_active_members_of_the_contractors_own_roster_go_on_the_work_list(app, demo, english):
    from portal.contractors.models import StaffMember
    from portal.contracts import assignments
    from portal.contracts.models import Contract
    contract_id = make_contract(app, "ganxian", "a-manager")
    with pytest.raises(DomainError, match="own staff roster"):
        put_on_work_list(app, "ganxian", contract_id, "b-worker1")  # another contractor's worker
    with app.app_context():
        member = db.session.get(StaffMember, staff_of(app, "a-worker2"))
        member.left_on = TODAY - timedelta(days=1)
        db.session.commit()
    with pytest.raises(DomainError, match="own staff roster"):
        put_on_work_list(app, "ganxian", contract_id, "a-worker2")  # left the roster
    put_on_work_list(app, "ganxian", contract_id, "a-worker1")
    with pytest.raises(DomainError, match="already on the work list"):
        put_on_work_list(app, "ganxian", contract_id, "a-worker1", from_on=TODAY)
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert len(assignments.work_list(db.session.get(Contract, contract_id))) == 1


def test_the_contractor_manager_keeps_the_work_list_of_its_own_contract_only(app, demo, login):
    world = care_world(app)
    a_manager = login("a-manager", tenant="ganxian")
    page = a_manager.get(f"/contracts/{world['a_contract']}/assignments")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "刘*英" in html and "刘桂英" not in html  # names masked for the contractor
    assert "钟*生" not in html  # B's person is not on A's contract
    token = support.csrf_token_from(html)
    b_manager = login("b-manager", tenant="ganxian")
    for url in (f"/contracts/{world['a_contract']}/assignments",):
        assert b_manager.get(url).status_code == 404
    response = b_manager.post(f"/contracts/{world['a_contract']}/work-list", data={
        "csrf_token": support.csrf_token_from(b_manager.get(f"/contracts/{world['b_contract']}/assignments")
                                              .get_data(as_text=True)),
        "staff_id": staff_of(app, "b-worker1"), "from_on": TODAY.isoformat()})
    assert response.status_code == 404
    # A's manager may end its worker's entry; assigning people is the bureau's.
    assert a_manager.post(f"/contracts/{world['a_contract']}/assignments", data={
        "csrf_token": token, "beneficiary_id": world["people"]["钟长生"], "staff_id": staff_of(app, "a-worker1"),
        "from_on": TODAY.isoformat()}).status_code == 403


def test_contractor_b_gets_404_for_a_beneficiaries_by_page_and_api(app, demo, login, api_token, client):
    world = care_world(app)
    a_person, b_person = world["people"]["刘桂英"], world["people"]["钟长生"]
    missing = 999999
    for username in ("b-manager", "b-worker1"):
        browser = login(username, tenant="ganxian")
        assert browser.get(f"/beneficiaries/{a_person}").status_code == 404
        assert browser.get(f"/beneficiaries/{missing}").status_code == 404
        listing = browser.get("/beneficiaries/").get_data(as_text=True)
        assert "刘*英" not in listing and "钟*生" in listing
        headers = api_token(username, tenant="ganxian")
        response = client.get(f"/api/v1/beneficiaries/{a_person}", headers=headers)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
        assert client.get(f"/api/v1/beneficiaries/{b_person}", headers=headers).status_code == 200
    # B's worker's own list holds B's person only, none of A's.
    rows = client.get("/api/v1/assignments", headers=api_token("b-worker1", tenant="ganxian")).get_json()
    assert [r["beneficiary"]["id"] for r in rows] == [b_person]
    assert {r["contract_id"] for r in rows} == {world["b_contract"]}
    # A's own people can see theirs (so the 404s above are about the contractor).
    assert login("a-manager", tenant="ganxian").get(f"/beneficiaries/{a_person}").status_code == 200
    assert client.get(f"/api/v1/beneficiaries/{a_person}",
                      headers=api_token("a-worker1", tenant="ganxian")).status_code == 200
    # a-worker2 serves 黄秀兰, not 刘桂英: a worker sees only their own people.
    assert client.get(f"/api/v1/beneficiaries/{a_person}",
                      headers=api_token("a-worker2", tenant="ganxian")).status_code == 404


def test_a_worker_gets_exactly_their_own_current_assignments_in_the_fixed_shape(app, demo, client, api_token):
    from portal.contracts import assignments
    from portal.contracts.models import Assignment, Contract
    world = care_world(app)
    people = world["people"]
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):  # one of a-worker1's ends yesterday
        ended = db.session.execute(select(Assignment).where(Assignment.beneficiary_id == people["陈德福"])).scalar_one()
        assignments.end_assignment(ended, TODAY - timedelta(days=1))
        db.session.commit()
    rows = client.get("/api/v1/assignments", headers=api_token("a-worker1", tenant="ganxian")).get_json()
    assert [r["beneficiary"]["id"] for r in rows] == [people["刘桂英"]]
    [row] = rows
    assert set(row) == ASSIGNMENT_KEYS and set(row["beneficiary"]) == BENEFICIARY_KEYS
    assert row["contract_id"] == world["a_contract"]
    assert row["beneficiary"] == {"id": people["刘桂英"], "display_name": "刘*英", "township": "梅林镇",
                                  "village": "城郊村", "address": "城郊村下坝组15号", "lat": 25.861, "lon": 115.012}
    assert row["service_items"] == [{"code": "CARE-VISIT", "name": "上门照料护理服务", "unit": "visit",
                                     "min_minutes": 30, "max_minutes": 240, "photo_required": True}]
    text = client.get("/api/v1/assignments", headers=api_token("a-worker1", tenant="ganxian")).get_data(as_text=True)
    assert number(11) not in text and number(11)[-4:] not in text and "13979700001" not in text
    assert "刘桂英" not in text
    # a-worker2 sees their one person; a suspended contract's assignments are not current.
    rows = client.get("/api/v1/assignments", headers=api_token("a-worker2", tenant="ganxian")).get_json()
    assert [r["beneficiary"]["id"] for r in rows] == [people["黄秀兰"]]
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        db.session.get(Contract, world["a_contract"]).status = "suspended"
        db.session.commit()
    assert client.get("/api/v1/assignments", headers=api_token("a-worker2", tenant="ganxian")).get_json() == []
    # Bureau users and managers are not field workers.
    assert client.get("/api/v1/assignments", headers=api_token("a-manager", tenant="ganxian")).status_code == 403


def test_the_assignments_endpoint_is_in_the_openapi_document(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    schema = doc["paths"]["/api/v1/assignments"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(schema["items"]["properties"]) == ASSIGNMENT_KEYS
    assert set(schema["items"]["properties"]["beneficiary"]["properties"]) == BENEFICIARY_KEYS
    assert set(schema["items"]["properties"]["service_items"]["items"]["properties"]) == ITEM_KEYS


def test_eligible_on_needs_an_active_person_assigned_that_day(app, demo, english):
    from portal.beneficiaries import services
    from portal.beneficiaries.models import Beneficiary
    world = care_world(app)
    person_id = world["people"]["刘桂英"]
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert services.eligible_on(person_id, world["a_contract"], TODAY) == (True, "")
        ok, reason = services.eligible_on(person_id, world["b_contract"], TODAY)
        assert not ok and "not assigned" in reason
        person = db.session.get(Beneficiary, person_id)
        services.change_status(person, "hospitalised", TODAY - timedelta(days=3))
        db.session.commit()
        ok, reason = services.eligible_on(person_id, world["a_contract"], TODAY)
        assert not ok and "hospital" in reason
        assert services.eligible_on(person_id, world["a_contract"], TODAY - timedelta(days=4)) == (True, "")
        ok, reason = services.eligible_on(person_id, world["a_contract"], TODAY - timedelta(days=400))
        assert not ok and "not yet registered" in reason
    with app.app_context(), tenant_scope(demo.tenant_id("zhanggong")):  # another bureau's person
        assert services.eligible_on(person_id, world["a_contract"], TODAY)[0] is False


def test_demo_registry_is_assigned_to_a_care_contract_with_both_workers(app, client):
    from portal.beneficiaries.models import Beneficiary
    from portal.beneficiaries.services import status_on
    from portal.demo import seed
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import all_tenants
    support.seed_demo(app, history=True)  # portal.demo.seed, built once per run
    with support.platform_app(app).app_context():  # as `flask seed-demo` runs
        with all_tenants():
            tenants = dict(db.session.execute(select(Tenant.code, Tenant.id)).all())
        with tenant_scope(tenants["ganxian"]):
            people = db.session.execute(select(Beneficiary)).scalars().all()
            assert len(people) >= 20
            assert sum(p.category == "tekun" for p in people) > len(people) / 2
            for p in people:
                assert abs(p.lat - 25.86) < 0.05 and abs(p.lon - 115.01) < 0.05
            statuses = sorted(p.status for p in people if p.status != "active")
            assert statuses == ["deceased", "hospitalised"]
            first_of_month = TODAY.replace(day=1)
            for p in people:
                if p.status != "active":
                    assert p.status_since < first_of_month
                    assert status_on(p, first_of_month - timedelta(days=40)) == "active"
        assert seed(support.PASSWORD) == 0  # a second run changes nothing
        db.session.commit()
    ids = set()
    for worker in ("a-worker1", "a-worker2"):
        token = client.post("/api/v1/tokens", json={"username": worker, "password": support.PASSWORD,
                                                    "tenant": "ganxian"}).get_json()["token"]
        rows = client.get("/api/v1/assignments", headers={"Authorization": f"Bearer {token}"}).get_json()
        assert len(rows) >= 10 and all(r["service_items"][0]["code"] == "CARE-VISIT" for r in rows)
        ids |= {r["beneficiary"]["id"] for r in rows}
    assert len(ids) >= 20
    token = client.post("/api/v1/tokens", json={"username": "zg-worker1", "password": support.PASSWORD,
                                                "tenant": "zhanggong"}).get_json()["token"]
    rows = client.get("/api/v1/assignments", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert rows and not ids & {r["beneficiary"]["id"] for r in rows}
