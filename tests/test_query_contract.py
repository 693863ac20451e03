"""One query-parameter contract for every list (issue 13, point 8): page 1 … MAX_PAGE, per_page,
months YYYY-MM of a real month (2000–2099), ids 1 … 2³¹−1 — enforced by portal/core/query.py,
stated in the OpenAPI document, and answered alike by every API list the document describes;
405 answers carry Allow on pages and on the API."""
import re

import pytest
from werkzeug.exceptions import NotFound as HTTPNotFound

from portal.core import query
from portal.core.errors import DomainError

DATE_TIME_NAMES = re.compile(r"^(at|.+_at)$")
BAD = {
    "page": ["0", "-1", str(query.MAX_PAGE + 1), str(10**20), "null", "true", "1.5", "+2", "１"],
    "month": ["0000-00", "2026-13", "2026-00", "2026-1", "1999-12", "2100-01", "2026-01-01", "null"],
    "id": ["0", "-1", str(2**31), str(2**63), str(10**20), "abc", "true", "1e3"],
    "per_page": ["0", "-1", str(query.MAX_PER_PAGE + 1), "null", "2.5"],
}


def _walk_schemas(node, found):
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            found.append((name, prop))
        for value in node.values():
            _walk_schemas(value, found)
    elif isinstance(node, list):
        for value in node:
            _walk_schemas(value, found)
    return found


def _operations(doc):
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def test_the_openapi_document_states_the_contract_on_every_path(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    untyped = [name for name, prop in _walk_schemas(doc["paths"], [])
               if DATE_TIME_NAMES.match(name) and isinstance(prop, dict) and prop.get("format") != "date-time"]
    assert not untyped, f"time fields without format: date-time: {sorted(set(untyped))}"
    problems, seen = [], set()
    for path, method, operation in _operations(doc):
        for parameter in operation.get("parameters", []):
            name, schema = parameter["name"], parameter.get("schema", {})
            seen.add(name)
            if name == "page" and (schema.get("minimum"), schema.get("maximum")) != (1, query.MAX_PAGE):
                problems.append((path, method, name, schema))
            if name == "month" and schema.get("pattern") != query.MONTH_PATTERN:
                problems.append((path, method, name, schema))
            if schema.get("type") == "integer" and (name == "id" or name.endswith("_id")) and (
                    schema.get("minimum"), schema.get("maximum")) != (1, query.MAX_ID):
                problems.append((path, method, name, schema))
        if any(p["in"] == "query" and p["name"] in ("page", "month") for p in operation.get("parameters", [])):
            if "422" not in operation["responses"]:
                problems.append((path, method, "no 422 response"))
    assert not problems, problems
    assert {"page", "month", "contract_id"} <= seen


@pytest.mark.parametrize("text", ["2026-01", "2000-12", "2099-06", "0000-00", "2026-13", "2026-00", "1999-12",
                                  "2100-01", "2026-1", "２０２６-01", "2026-01\n", "2026-011", "2026-01-01"])
def test_the_documented_month_pattern_is_the_month_the_code_takes(text):
    """The pattern (ECMA-262: ``$`` ends the text) and parse_month accept the same months."""
    from portal.core.months import parse_month
    try:
        accepted = parse_month(text) is not None and text == text.strip()
    except DomainError:
        accepted = False
    assert bool(re.fullmatch(query.MONTH_PATTERN.strip("^$"), text)) == accepted


def _good_query(parameters):
    """Valid values for the required query parameters of an operation."""
    samples = {"month": "2026-01", "page": "1"}
    return {p["name"]: samples.get(p["name"], "1") for p in parameters if p["in"] == "query" and p.get("required")}


def test_every_api_list_in_the_document_refuses_bad_query_values_with_a_422_problem(app, client, demo, api_token):
    """Generated from the document: each GET with a page, month or id query parameter, as a role
    it answers, gets every bad value of the contract → 422 application/problem+json naming it."""
    doc = client.get("/api/v1/openapi.json").get_json()
    tokens = [api_token(u) for u in ("gx-finance", "gx-supervisor", "gx-officer")]
    tokens.append(api_token("a-manager", tenant="ganxian"))
    failures, checked = [], set()
    for path, method, operation in _operations(doc):
        parameters = operation.get("parameters", [])
        queried = [p for p in parameters if p["in"] == "query" and (
            p["name"] in ("page", "per_page", "month") or (p["name"].endswith("_id") and p["schema"].get("type") == "integer"))]
        if method != "get" or not queried or re.search(r"\{(?!code\})", path):
            continue
        url = path.replace("{code}", "ganxian")
        good = _good_query(parameters)
        headers = next((h for h in [{}, *tokens] if client.get(url, query_string=good, headers=h).status_code
                        not in (401, 403)), None)
        assert headers is not None, f"no demo user may read {path}"
        for parameter in queried:
            kind = "id" if parameter["name"].endswith("_id") else parameter["name"]
            for value in BAD[kind]:
                response = client.get(url, query_string={**good, parameter["name"]: value}, headers=headers)
                body = response.get_json(silent=True) or {}
                if (response.status_code != 422 or response.mimetype != "application/problem+json"
                        or parameter["name"] not in body.get("errors", {})):
                    failures.append((path, parameter["name"], value, response.status_code, body.get("errors")))
            checked.add((path, parameter["name"]))
    assert not failures, failures
    assert {("/api/v1/settlements", "page"), ("/api/v1/visits", "page"), ("/api/v1/tenders", "page"),
            ("/api/v1/public/{code}/ocds/releases", "page"), ("/api/v1/settlements", "month"),
            ("/api/v1/spot-checks", "month"), ("/api/v1/settlements", "contract_id"),
            ("/api/v1/visits", "per_page")} <= checked


@pytest.mark.parametrize("raw, expected", [(None, 7), ("", 7), ("3", 3), (" 3 ", 3), ("100000", 100000)])
def test_a_page_number_in_bounds_is_taken(app, raw, expected):
    with app.test_request_context("/api/v1/x", query_string={} if raw is None else {"page": raw}):
        assert query.whole_number_arg("page", 1, query.MAX_PAGE, "bad", default=7) == expected


@pytest.mark.parametrize("raw", BAD["page"])
def test_a_bad_page_number_is_a_422_on_the_api_and_a_404_on_a_page(app, raw):
    with app.test_request_context("/api/v1/visits", query_string={"page": raw}):
        with pytest.raises(query.InvalidQuery) as refused:
            query.page_arg()
        assert refused.value.status == 422 and "page" in refused.value.errors
    with app.test_request_context("/tenders/", query_string={"page": raw}):
        with pytest.raises(DomainError) as refused:
            query.page_arg()
        assert refused.value.status == 404


def test_per_page_is_bounded_by_the_contract_and_by_the_setting(app, monkeypatch):
    from portal.core.pagination import page_size
    with app.test_request_context("/api/v1/x", query_string={"per_page": "80"}):
        assert query.per_page_arg() == 80 and page_size(query.per_page_arg()) == 80
        monkeypatch.setitem(app.config, "MAX_PER_PAGE", 50)
        assert page_size(query.per_page_arg()) == 50
    for bad in ("0", "101", "-5", "null"):
        with app.test_request_context("/api/v1/x", query_string={"per_page": bad}):
            with pytest.raises(query.InvalidQuery):
                query.per_page_arg()


def test_an_api_list_takes_per_page(client, api_token, app, demo):
    from tests import settlement_world as sw
    world = sw.care_contract(app)
    for month in (1, 2, 3):
        sw.prepare(app, world, f"2026-{month:02d}")
    headers = api_token("gx-finance")
    body = client.get("/api/v1/settlements?per_page=2", headers=headers).get_json()
    assert (body["per_page"], len(body["items"]), body["total"]) == (2, 2, 3) and "per_page=2" in body["next"]
    refused = client.get("/api/v1/settlements?per_page=500", headers=headers)
    assert refused.status_code == 422 and "per_page" in refused.get_json()["errors"]


@pytest.mark.parametrize("value, matches", [
    ("1", True), ("2147483647", True), ("2147483646", True), ("1999999999", True), ("0", False), ("01", False),
    ("-1", False), ("2147483648", False), ("2147483650", False), ("2200000000", False), (str(2**63), False),
    (str(10**20), False), ("9" * 5000, False), ("١٢", False)])
def test_the_int_converter_takes_ids_of_a_postgresql_integer_only(app, value, matches):
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, args = adapter.match(f"/tenders/{value}", "GET")
    except HTTPNotFound:
        assert not matches
    else:
        assert matches and endpoint == "tenders.detail" and args == {"tender_id": int(value)}


def test_page_links_keep_the_path_and_the_filters(app):
    from portal.core.pagination import page_url
    with app.test_request_context("/public/ganxian/notices", query_string={"q": "养老", "kind": "tender_notice", "page": "3"}):
        assert page_url(4) == "/public/ganxian/notices?q=%E5%85%BB%E8%80%81&kind=tender_notice&page=4"


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/login", {"GET", "POST"}), ("POST", "/audit/", {"GET"}), ("PUT", "/public/", {"GET"}),
    ("DELETE", "/api/v1/me", {"GET"}), ("PATCH", "/api/v1/visits", {"GET", "POST"})])
def test_a_405_says_which_methods_are_allowed(client, method, path, allowed):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers.get("Allow", "").split(",")}, response.headers
    expected = "application/problem+json" if path.startswith("/api/") else "text/html"
    assert response.mimetype == expected


def test_page_links_never_take_the_path_from_the_query(app):
    from portal.core.pagination import page_url
    with app.test_request_context("/public/ganxian/notices", query_string={"code": "elsewhere", "page": "1"}):
        assert page_url(2).startswith("/public/ganxian/notices?")


def test_one_id_bound_for_lookups_and_list_filters():
    from flask import Flask

    from portal.core import query
    assert query.is_id(1) and query.is_id(2**31 - 1)
    assert not any(query.is_id(v) for v in (0, -1, 2**31, True, "5", 5.0, None))
    app = Flask(__name__)
    for raw, expected in (("7", 7), (" 7 ", 7), ("", None), ("abc", None), ("-3", None), ("0", None),
                          (str(2**31), None), ("٣", None), ("2.0", None)):
        with app.test_request_context(f"/x?contract={raw}"):
            assert query.filter_id_arg("contract") == expected, raw
