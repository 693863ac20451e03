"""The statement workflow by role (issue 12 point 7): each step offered only to someone allowed to
take it, whose move it is, warnings before a finance reviewer sends, confirmation pages that say
what will happen, and POST /api/v1/settlements/{id}/transitions exactly as docs/API.md."""
import pytest
from sqlalchemy import select

from portal.billing.models import Statement
from portal.extensions import db
from tests import settlement_world as sw
from tests import support

MONTH = "2026-10"


@pytest.fixture
def october(app, demo):
    world = sw.care_contract(app)
    world["visits"] = sw.add_visits(app, world, MONTH, 3)
    world["statement"] = sw.prepare(app, world, MONTH)
    return world




def _step(client, statement_id, headers, **body):
    return client.post(f"/api/v1/settlements/{statement_id}/transitions", json=body, headers=headers)


# --- pages ---------------------------------------------------------------------------------------------

def test_finance_who_sent_is_not_offered_approval_and_the_page_says_whose_move_it_is(app, october, login):
    sw.finance_colleague(app)
    statement_id = october["statement"]
    finance = login("gx-finance")
    send = finance.get(f"/billing/{statement_id}/send").get_data(as_text=True)
    assert 'id="send-warning"' in send and "1" in send[send.index('id="send-warning"'):][:400]
    assert support.form_post(finance, f"/billing/{statement_id}/send", {}).status_code == 302
    page = finance.get(f"/billing/{statement_id}").get_data(as_text=True)
    assert support.zh_html(app, "Next: the contractor's manager confirms or disputes it.") in page
    assert support.form_post(login("a-manager", tenant="ganxian"), f"/billing/{statement_id}/confirm",
                             {}).status_code == 302
    page = finance.get(f"/billing/{statement_id}").get_data(as_text=True)
    assert f"/billing/{statement_id}/approve" not in page  # gx-finance sent it
    assert support.zh_html(app, "Next: finance review.") in page  # the disabled approval says why, once
    colleague = login("gx-finance2").get(f"/billing/{statement_id}").get_data(as_text=True)
    assert f"/billing/{statement_id}/approve" in colleague
    confirm = login("gx-finance2").get(f"/billing/{statement_id}/approve").get_data(as_text=True)
    what = confirm[confirm.index('id="what-will-happen"'):][:600]
    assert MONTH in what and "240.00" in what  # amount, month, contract
    assert "HT-" in what


def test_a_bureau_with_one_finance_reviewer_is_warned_before_finance_sends(app, october, login):
    statement_id = october["statement"]
    send = login("gx-finance").get(f"/billing/{statement_id}/send").get_data(as_text=True)
    warning = support.zh_html(app, "You are the only finance reviewer who could approve this statement: if you send it, nobody "
                       "in the bureau can approve it. Let an officer send it instead.")
    assert warning in send
    assert 'id="send-warning"' not in login("gx-officer").get(f"/billing/{statement_id}/send").get_data(as_text=True)
    # the officer sends: the only finance reviewer can still approve
    officer = login("gx-officer")
    assert support.form_post(officer, f"/billing/{statement_id}/send", {}).status_code == 302
    assert support.form_post(login("a-manager", tenant="ganxian"), f"/billing/{statement_id}/confirm",
                             {}).status_code == 302
    assert f"/billing/{statement_id}/approve" in login("gx-finance").get(f"/billing/{statement_id}").get_data(as_text=True)


def test_a_stale_draft_page_offers_one_click_recompute_instead_of_sending(app, october, login):
    statement_id = october["statement"]
    sw.not_confirmed(app, october, october["visits"][:1], MONTH)
    officer = login("gx-officer")
    page = officer.get(f"/billing/{statement_id}").get_data(as_text=True)
    assert 'id="stale-warning"' in page and f"/billing/{statement_id}/recompute" in page
    assert f'href="/billing/{statement_id}/send"' not in page
    refused = support.form_post(officer, f"/billing/{statement_id}/send", {})
    assert refused.status_code == 422 and 'id="recompute-link"' in refused.get_data(as_text=True)
    assert sw.statement_row(app, statement_id)[0] == "draft"
    # one click: the form on the statement page posts the recompute itself
    token = support.csrf_token_from(page)
    assert 'id="recompute-button"' in page
    assert officer.post(f"/billing/{statement_id}/recompute", data={"csrf_token": token}).status_code == 302
    page = officer.get(f"/billing/{statement_id}").get_data(as_text=True)
    assert 'id="stale-warning"' not in page and f"/billing/{statement_id}/send" in page
    assert "a-manager" not in page  # nothing of the contractor's leaks here; sanity of the page


# --- the API -------------------------------------------------------------------------------------------

def test_the_whole_workflow_through_the_transitions_api(app, october, client, api_token):
    sw.finance_colleague(app)
    statement_id = october["statement"]
    officer, manager = api_token("gx-officer"), api_token("a-manager", tenant="ganxian")
    finance, finance2 = api_token("gx-finance"), api_token("gx-finance2")
    response = _step(client, statement_id, officer, action="send")
    assert response.status_code == 200 and response.get_json()["status"] == "sent"
    assert response.get_json()["lines"][0]["visit_ids"] == october["visits"]
    assert _step(client, statement_id, officer, action="send").status_code == 409  # not open now
    assert _step(client, statement_id, officer, action="confirm").status_code == 403  # not the officer's
    assert _step(client, statement_id, manager, action="approve").status_code == 403
    assert _step(client, statement_id, manager, action="confirm").get_json()["status"] == "confirmed"
    assert _step(client, statement_id, finance, action="pay", paid_on="2026-11-20",
                 payment_reference="GK-1").status_code == 409
    assert _step(client, statement_id, finance, action="approve").get_json()["status"] == "approved"
    bad = _step(client, statement_id, finance2, action="pay", paid_on="20-11-2026", payment_reference="GK-1")
    assert bad.status_code == 422 and "paid_on" in bad.get_json()["errors"]
    paid = _step(client, statement_id, finance2, action="pay", paid_on="2026-11-20", payment_reference="GK-1")
    assert paid.status_code == 200 and paid.get_json()["status"] == "paid"


def test_the_preparer_or_sender_gets_403_on_approval(app, october, client, api_token):
    statement_id = october["statement"]
    finance = api_token("gx-finance")
    assert _step(client, statement_id, finance, action="send").status_code == 200
    assert _step(client, statement_id, api_token("a-manager", tenant="ganxian"), action="confirm").status_code == 200
    refused = _step(client, statement_id, finance, action="approve")
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    assert sw.statement_row(app, statement_id)[0] == "confirmed"


def test_a_stale_draft_is_409_with_its_code_and_recompute_fixes_it(app, october, client, api_token):
    statement_id = october["statement"]
    sw.not_confirmed(app, october, october["visits"][:1], MONTH)
    officer = api_token("gx-officer")
    stale = _step(client, statement_id, officer, action="send")
    assert stale.status_code == 409 and stale.get_json()["code"] == "stale_statement"
    assert sw.statement_row(app, statement_id)[0] == "draft"
    recomputed = _step(client, statement_id, officer, action="recompute")
    assert recomputed.status_code == 200
    assert october["visits"][0] not in recomputed.get_json()["lines"][0]["visit_ids"]
    assert _step(client, statement_id, officer, action="send").status_code == 200


def test_a_dispute_through_the_api_needs_a_note(app, october, client, api_token):
    statement_id = october["statement"]
    _step(client, statement_id, api_token("gx-officer"), action="send")
    manager = api_token("a-manager", tenant="ganxian")
    assert _step(client, statement_id, manager, action="dispute").status_code == 422
    disputed = _step(client, statement_id, manager, action="dispute", note="少算两次")
    assert disputed.status_code == 200 and disputed.get_json()["dispute_reason"] == "少算两次"


@pytest.mark.parametrize("body, status", [
    ({"action": "fly"}, 422), ({}, 422), ({"action": "send", "extra": 1}, 422), ({"action": 5}, 422),
    ({"action": "pay", "payment_reference": "x" * 101}, 422)])
def test_bad_bodies_are_problems_and_change_nothing(app, october, client, api_token, body, status):
    response = _step(client, october["statement"], api_token("gx-officer"), **body)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert sw.statement_row(app, october["statement"])[0] == "draft"


def test_malformed_json_wrong_type_other_tenant_and_other_contractor(app, october, client, api_token):
    statement_id = october["statement"]
    officer = api_token("gx-officer")
    url = f"/api/v1/settlements/{statement_id}/transitions"
    assert client.post(url, data="{nope", headers={**officer, "Content-Type": "application/json"}).status_code == 400
    assert client.post(url, data="action=send", headers={**officer,
                       "Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    assert _step(client, statement_id, api_token("zg-officer"), action="send").status_code == 404
    _step(client, statement_id, officer, action="send")
    assert _step(client, statement_id, api_token("b-manager", tenant="ganxian"), action="confirm").status_code == 404
    assert _step(client, 10**12, officer, action="send").status_code == 404
    with app.app_context(), sw.scope(app):
        assert db.session.execute(select(Statement.status)).scalar_one() == "sent"


def test_transitions_are_in_the_openapi_document(client):
    document = client.get("/api/v1/openapi.json").get_json()
    post = document["paths"]["/api/v1/settlements/{statement_id}/transitions"]["post"]
    assert set(post["responses"]) >= {"200", "400", "403", "404", "409", "422"}
    actions = post["requestBody"]["content"]["application/json"]["schema"]["properties"]["action"]["enum"]
    assert {"send", "confirm", "dispute", "approve", "pay"} <= set(actions)


def test_a_bureau_with_one_finance_reviewer_never_gets_stuck(app, demo, login):
    """Finance prepared the draft; the officer is warned before sending, sends anyway, the
    contractor confirms: the page says nobody can approve and offers the officer a recompute, after
    which the only finance reviewer approves."""
    world = sw.care_contract(app)
    sw.add_visits(app, world, MONTH, 2)
    statement_id = sw.prepare(app, world, MONTH, by="gx-finance")
    officer, manager = login("gx-officer"), login("a-manager", tenant="ganxian")
    warning = support.zh_html(app, "Nobody in the bureau could approve this statement once sent: it was prepared by the only "
                       "finance reviewer. Recompute it first (you become its preparer), then send it.")
    assert warning in officer.get(f"/billing/{statement_id}/send").get_data(as_text=True)
    assert support.form_post(officer, f"/billing/{statement_id}/send", {}).status_code == 302
    assert support.form_post(manager, f"/billing/{statement_id}/confirm", {}).status_code == 302
    page = officer.get(f"/billing/{statement_id}").get_data(as_text=True)
    assert f"/billing/{statement_id}/recompute" in page and 'id="next-move"' in page
    assert f"/billing/{statement_id}/approve" not in login("gx-finance").get(f"/billing/{statement_id}").get_data(
        as_text=True)
    assert support.form_post(officer, f"/billing/{statement_id}/recompute", {}).status_code == 302
    assert support.form_post(officer, f"/billing/{statement_id}/send", {}).status_code == 302
    assert support.form_post(manager, f"/billing/{statement_id}/confirm", {}).status_code == 302
    assert support.form_post(login("gx-finance"), f"/billing/{statement_id}/approve", {}).status_code == 302
    assert sw.statement_row(app, statement_id)[0] == "approved"
