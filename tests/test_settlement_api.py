"""GET /api/v1/settlements and /api/v1/settlements/{id} (docs/API.md): who may read, the
shape of a statement, problems for bad queries, 404 for other contractors and bureaus."""
from datetime import date

import pytest

from portal.billing import workflow
from portal.billing.models import Statement
from portal.extensions import db
from tests import settlement_world as sw


@pytest.fixture
def world(app, demo):
    """A's contract with a sent October statement (cap 3 of 5 visits, one spot check not confirmed,
    one violation) and a September draft; B's contract with a sent October statement."""
    world = sw.care_contract(app, monthly_cap=3)
    world["visits"] = sw.add_visits(app, world, "2026-10", 5)
    world["rejected"] = sw.add_visits(app, world, "2026-10", 1, hour=17)
    sw.not_confirmed(app, world, world["rejected"], "2026-10")
    world["violation"] = sw.violation(app, world, date(2026, 10, 3))
    world["october"] = sw.prepare(app, world, "2026-10", by="gx-officer")
    world["september"] = sw.prepare(app, world, "2026-09")
    other = sw.care_contract(app, manager="b-manager")
    world["b_contract"] = other["contract"]
    world["b_october"] = sw.prepare(app, other, "2026-10")
    with app.app_context(), sw.scope(app):
        for statement_id in (world["october"], world["b_october"]):
            workflow.send_to_contractor(db.session.get(Statement, statement_id), sw.user("gx-officer"))
        db.session.commit()
    return world


def test_finance_lists_statements_with_lines_deductions_and_totals(client, api_token, world):
    response = client.get(f"/api/v1/settlements?contract_id={world['contract']}&month=2026-10",
                          headers=api_token("gx-finance"))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["total"], body["page"], body["next"]) == (1, 1, None)
    item = body["items"][0]
    gross, deductions = 3 * sw.PRICE, sw.PRICE * sw.MULTIPLIER + sw.PENALTY
    assert (item["id"], item["month"], item["status"], item["contract_id"]) == (
        world["october"], "2026-10", "sent", world["contract"])
    assert (item["gross_fen"], item["deductions_fen"], item["net_fen"]) == (gross, deductions, max(gross - deductions, 0))
    [line] = item["lines"]
    assert {k: line[k] for k in ("kind", "units", "unit_price_fen", "amount_fen", "verified_units", "monthly_cap",
                                 "quota_left", "disputed")} == {
        "kind": "service", "units": 3, "unit_price_fen": sw.PRICE, "amount_fen": 3 * sw.PRICE, "verified_units": 5,
        "monthly_cap": 3, "quota_left": 1000, "disputed": False}
    assert [(d["kind"], d["amount_fen"]) for d in item["deductions"]] == [
        ("deduction_spot_check", sw.PRICE * sw.MULTIPLIER), ("deduction_violation", sw.PENALTY)]
    assert item["number"] and "visit_ids" not in line
    listed = client.get("/api/v1/settlements", headers=api_token("gx-auditor", tenant="ganxian")).get_json()
    assert listed["total"] == 3


def test_one_statement_names_the_visits_and_violations_behind_each_line(client, api_token, world):
    response = client.get(f"/api/v1/settlements/{world['october']}", headers=api_token("gx-officer"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["lines"][0]["visit_ids"] == world["visits"][:3]
    assert body["lines"][0]["unpaid_visit_ids"] == world["visits"][3:]
    spot, violation = body["deductions"]
    assert (spot["visit_ids"], violation["violation_ids"]) == (world["rejected"], [world["violation"]])


def test_contractor_managers_see_only_their_own_sent_statements(client, api_token, world):
    a_manager = api_token("a-manager", tenant="ganxian")
    b_manager = api_token("b-manager", tenant="ganxian")
    listed = client.get("/api/v1/settlements", headers=a_manager).get_json()
    assert [item["id"] for item in listed["items"]] == [world["october"]]  # not the September draft
    assert client.get(f"/api/v1/settlements/{world['september']}", headers=a_manager).status_code == 404
    assert client.get(f"/api/v1/settlements/{world['october']}", headers=a_manager).status_code == 200
    response = client.get(f"/api/v1/settlements/{world['october']}", headers=b_manager)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    filtered = client.get(f"/api/v1/settlements?contract_id={world['contract']}", headers=b_manager).get_json()
    assert (filtered["items"], filtered["total"]) == ([], 0)
    own = client.get("/api/v1/settlements", headers=b_manager).get_json()
    assert [item["id"] for item in own["items"]] == [world["b_october"]]


def test_other_bureaus_and_other_roles_get_nothing(client, api_token, world):
    url = f"/api/v1/settlements/{world['october']}"
    assert client.get(url, headers=api_token("zg-officer")).status_code == 404
    assert client.get("/api/v1/settlements", headers=api_token("zg-officer")).get_json()["total"] == 0
    assert client.get(url, headers=api_token("city-auditor", tenant="zhanggong")).status_code == 404
    for username in ("gx-supervisor", "a-worker1"):
        kwargs = {"tenant": "ganxian"} if username == "a-worker1" else {}
        assert client.get(url, headers=api_token(username, **kwargs)).status_code == 403
        assert client.get("/api/v1/settlements", headers=api_token(username, **kwargs)).status_code == 403
    assert client.get(url).status_code == 401


@pytest.mark.parametrize("query, field", [
    ("month=2026-13", "month"), ("month=202610", "month"), ("month=%00", "month"),
    ("contract_id=abc", "contract_id"), ("contract_id=-1", "contract_id"), ("page=0", "page"),
    ("page=x", "page"), ("page=99999999999999999999", "page")])
def test_bad_queries_are_problems(client, api_token, world, query, field):
    response = client.get(f"/api/v1/settlements?{query}", headers=api_token("gx-finance"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_huge_ids_are_not_found_or_refused(client, api_token, world):
    headers = api_token("gx-finance")
    assert client.get("/api/v1/settlements/99999999999999999999", headers=headers).status_code == 404
    listed = client.get("/api/v1/settlements?contract_id=99999999999999999999", headers=headers)
    assert listed.status_code == 422 and "contract_id" in listed.get_json()["errors"]


def test_pages_of_twenty(client, api_token, app, demo):
    world = sw.care_contract(app)
    for month in range(1, 12):
        sw.prepare(app, world, f"2026-{month:02d}")
    other = sw.care_contract(app, manager="b-manager")
    for month in range(1, 11):
        sw.prepare(app, other, f"2026-{month:02d}")
    headers = api_token("gx-finance")
    first = client.get("/api/v1/settlements", headers=headers).get_json()
    assert (first["total"], len(first["items"])) == (21, 20)
    assert first["items"][0]["month"] == "2026-11"
    second = client.get(first["next"], headers=headers).get_json()
    assert (len(second["items"]), second["next"]) == (1, None)


def test_settlements_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/settlements"] and "get" in paths["/api/v1/settlements/{statement_id}"]
