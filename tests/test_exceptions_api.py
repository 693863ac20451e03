"""The fixed exceptions API (docs/API.md, issue 12 point 7): the contract's manager answers an
exception with a reason code (the codes listed in the 422 for a wrong one), a supervisor accepts or
rejects it; a visit's exceptions carry id, code, message and status; another contractor's or
another bureau's exception is not found; each step only for the role that takes it."""
import pytest

from portal.extensions import db
from portal.visits.exceptions import RESPONSE_REASONS
from tests import support
from tests.beneficiary_world import care_world
from tests.visit_world import exception_id, record, visit_state

PROBLEM = "application/problem+json"
pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    return care_world(app)


@pytest.fixture
def no_photo(app, world):
    """A visit without its required photo: V11 open. Returns (visit id, exception id)."""
    visit_id = record(app, world["people"]["刘桂英"], photo=False)
    return visit_id, exception_id(app, visit_id, "V11")


def test_a_visits_exceptions_carry_id_code_message_and_status(app, client, api_token, no_photo):
    visit_id, v11 = no_photo
    body = client.get(f"/api/v1/visits/{visit_id}", headers=api_token("gx-supervisor")).get_json()
    [shown] = body["exceptions"]
    assert {"id", "code", "message", "status"} <= set(shown)
    assert (shown["id"], shown["code"], shown["status"]) == (v11, "V11", "open") and shown["message"]


def test_the_manager_answers_with_a_listed_reason_code_and_the_supervisor_decides(app, client, api_token, no_photo):
    visit_id, v11 = no_photo
    manager = api_token("a-manager", tenant="ganxian")
    url = f"/api/v1/exceptions/{v11}/answer"
    wrong = client.post(url, json={"reason_code": "because"}, headers=manager)
    assert wrong.status_code == 422 and wrong.mimetype == PROBLEM
    listed = " ".join(wrong.get_json()["errors"]["reason_code"])
    assert all(code in listed for code in RESPONSE_REASONS)
    assert client.post(url, json={"note": "x"}, headers=manager).status_code == 422
    assert client.post(url, data="{", content_type="application/json", headers=manager).status_code == 400
    assert client.post(url, json={"reason_code": "other"}, headers=manager).status_code == 422  # "other" needs a note
    assert visit_state(app, visit_id) == ("exception", {"V11": "open"})
    answered = client.post(url, json={"reason_code": "data_entry_error", "note": "照片未上传"}, headers=manager)
    assert answered.status_code == 200
    body = answered.get_json()
    assert body["status"] == "answered" and body["answer"]["reason_code"] == "data_entry_error" and body["next"]
    assert client.post(url, json={"reason_code": "data_entry_error"}, headers=manager).status_code == 409
    # Only a supervisor decides; the decision is one of accept / reject.
    decision = f"/api/v1/exceptions/{v11}/decision"
    assert client.post(decision, json={"decision": "accept"}, headers=manager).status_code == 403
    assert client.post(decision, json={"decision": "accept"}, headers=api_token("gx-officer")).status_code == 403
    supervisor = api_token("gx-supervisor")
    bad = client.post(decision, json={"decision": "approve"}, headers=supervisor)
    assert bad.status_code == 422 and "accept" in " ".join(bad.get_json()["errors"]["decision"])
    done = client.post(decision, json={"decision": "accept", "note": "核实"}, headers=supervisor)
    assert done.status_code == 200
    assert done.get_json()["status"] == "accepted" and done.get_json()["visit_status"] == "verified"
    assert client.post(decision, json={"decision": "reject"}, headers=supervisor).status_code == 409
    assert visit_state(app, visit_id) == ("verified", {"V11": "accepted"})


def test_another_contractors_or_bureaus_exception_is_not_found(app, client, api_token, login, no_photo):
    from portal.accounts.services import create_user
    visit_id, v11 = no_photo
    other_manager = api_token("b-manager", tenant="ganxian")
    response = client.post(f"/api/v1/exceptions/{v11}/answer", json={"reason_code": "other", "note": "x"},
                           headers=other_manager)
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert client.get(f"/api/v1/exceptions/{v11}", headers=other_manager).status_code == 404
    with support.as_platform(app):
        create_user(username="zg-supervisor", display_name="章贡区监管员", role="supervisor",
                    password=support.PASSWORD, tenant_id=support.World(app).tenant_id("zhanggong"))
        db.session.commit()
    response = client.post(f"/api/v1/exceptions/{v11}/decision", json={"decision": "reject"},
                           headers=api_token("zg-supervisor"))
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert client.post("/api/v1/exceptions/999999999999/decision", json={"decision": "reject"},
                       headers=api_token("gx-supervisor")).status_code == 404
    supervisor = login("gx-supervisor")  # ids no integer column holds are simply not found
    assert supervisor.get("/supervision/exceptions/999999999999").status_code == 404
    assert supervisor.get("/supervision/visits/999999999999").status_code == 404
    assert visit_state(app, visit_id) == ("exception", {"V11": "open"})


def test_the_exception_page_offers_each_step_only_to_who_may_take_it(app, login, no_photo):
    _visit_id, v11 = no_photo
    manager_page = login("a-manager", tenant="ganxian").get(f"/supervision/exceptions/{v11}").get_data(as_text=True)
    assert 'name="reason"' in manager_page and f"/exceptions/{v11}/accept" not in manager_page
    assert 'id="next-move"' in manager_page
    officer_page = login("gx-officer").get(f"/supervision/exceptions/{v11}").get_data(as_text=True)
    assert 'name="reason"' not in officer_page and f"/exceptions/{v11}/accept" not in officer_page
    supervisor_page = login("gx-supervisor").get(f"/supervision/exceptions/{v11}").get_data(as_text=True)
    assert f"/exceptions/{v11}/accept" in supervisor_page and 'name="reason"' not in supervisor_page
    assert "recheck-roster" not in supervisor_page  # only V01 is re-checked against the roster


def test_the_answer_and_decision_endpoints_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/exceptions/{exception_id}/answer", "/api/v1/exceptions/{exception_id}/decision",
                 "/api/v1/visits/{visit_id}/corrections/{correction_id}/decision"):
        assert "post" in paths[path], path
    answer = paths["/api/v1/exceptions/{exception_id}/answer"]["post"]
    assert set(answer["requestBody"]["content"]["application/json"]["schema"]["properties"]["reason_code"]["enum"]) \
        == set(RESPONSE_REASONS)
    assert "409" in paths["/api/v1/exceptions/{exception_id}/decision"]["post"]["responses"]
    visit = paths["/api/v1/visits/{visit_id}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"id", "code", "message", "status"} <= set(visit["properties"]["exceptions"]["items"]["required"])
