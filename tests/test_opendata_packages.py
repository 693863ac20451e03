"""Open-data packages (docs/API.md "Open data"): paging, errors, conditional requests, the bulk
package streamed the same to everyone (signed in or not), and the pieces they are made of."""
import json

import pytest

from tests import tender_world
from tests.ocds_schema import codelist_errors, release_package_errors
from tests.opendata_world import API, pages, publish_intentions, seed_full


# --- paging, errors, caching ---------------------------------------------------------------------

def test_release_pages_hold_100_newest_first_with_absolute_links(app, demo, client):
    publish_intentions(app, 130)
    first = client.get(f"{API}/ganxian/ocds/releases")
    body = first.get_json()
    assert len(body["releases"]) == 100 and "prev" not in body.get("links", {})
    assert body["links"]["next"] == "http://localhost/api/v1/public/ganxian/ocds/releases?page=2"
    dates = [r["id"] for r in body["releases"]]
    assert body["releases"][0]["tender"]["title"] == "困难群众探访关爱服务 130" and len(set(dates)) == 100
    second = client.get(body["links"]["next"]).get_json()
    assert len(second["releases"]) == 30 and "next" not in second["links"]
    assert second["links"]["prev"].endswith("/ocds/releases?page=1")
    for package in (body, second):
        assert release_package_errors(package) == []
    bulk = client.get(f"{API}/ganxian/ocds/bulk").get_json()
    assert len(bulk["releases"]) == 130 and release_package_errors(bulk) == []


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "null", "true", "99999999999"])
def test_a_bad_page_number_is_a_422_problem(app, demo, client, page):
    """The query contract of every list (core/query.py): the same 422 as /settlements."""
    response = client.get(f"{API}/ganxian/ocds/releases?page={page}")
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "page" in response.get_json()["errors"]


def test_unknown_bureau_ocid_or_page_is_a_404_problem(app, demo, client):
    for url in (f"{API}/nowhere/ocds/releases", f"{API}/nowhere/ocds/bulk", f"{API}/nowhere/ocds/records/x",
                f"{API}/ganxian/ocds/records/ocds-zzzzzz-ganxian-t999", f"{API}/ganxian/ocds/releases?page=2"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.mimetype == "application/problem+json" and response.get_json()["status"] == 404


def test_another_bureaus_ocid_is_not_found_here(app, demo, client):
    publish_intentions(app, 1, code="zhanggong")
    [release] = client.get(f"{API}/zhanggong/ocds/releases").get_json()["releases"]
    assert client.get(f"{API}/zhanggong/ocds/records/{release['ocid']}").status_code == 200
    assert client.get(f"{API}/ganxian/ocds/records/{release['ocid']}").status_code == 404
    assert client.get(f"{API}/ganxian/ocds/bulk").get_json()["releases"] == []


def test_conditional_requests_get_304_until_something_new_is_published(app, demo, client):
    publish_intentions(app, 2)
    ocid = client.get(f"{API}/ganxian/ocds/releases").get_json()["releases"][0]["ocid"]
    urls = [f"{API}/ganxian/ocds/releases?page=1", f"{API}/ganxian/ocds/bulk", f"{API}/ganxian/ocds/records/{ocid}"]
    tags = {}
    for url in urls:
        response = client.get(url)
        etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
        assert response.headers["Cache-Control"] == "no-cache"
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
        assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
        assert client.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
        tags[url] = etag
    publish_intentions(app, 1)
    for url in urls[:2]:
        response = client.get(url, headers={"If-None-Match": tags[url]})
        assert response.status_code == 200 and response.headers["ETag"] != tags[url]
    # the record of an untouched process is still the same
    assert client.get(urls[2], headers={"If-None-Match": tags[urls[2]]}).status_code == 304


def test_the_open_data_paths_are_in_the_openapi_document(app, client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"/api/v1/public/{code}/ocds/releases", "/api/v1/public/{code}/ocds/records/{ocid}",
            "/api/v1/public/{code}/ocds/bulk"} <= set(paths)
    assert paths["/api/v1/public/{code}/ocds/bulk"]["get"]["security"] == []


# --- the bulk package, streamed -------------------------------------------------------------------

def _bulk(client, headers=None):
    response = client.get(f"{API}/ganxian/ocds/bulk", headers=headers or {})
    assert response.status_code == 200 and response.is_streamed
    return response.get_data(as_text=True)


def test_the_bulk_package_is_the_same_whole_file_signed_in_by_session_or_token_and_anonymous(
        app, client, login, api_token):
    """The body is written after the request ended: a signed-in user (web session or bearer token,
    a bureau's officer or a contractor's manager) once broke it off in the middle."""
    seed_full(app)
    releases = {r["id"] for page in pages(client, "ganxian") for r in page["releases"]}
    anonymous = _bulk(client)
    bodies = {
        "web session": _bulk(login("gx-officer")),
        "web session of a contractor": _bulk(login("a-manager", tenant="ganxian")),
        "bearer token": _bulk(app.test_client(), api_token("gx-officer")),
        "bearer token of a contractor": _bulk(app.test_client(), api_token("a-manager", tenant="ganxian")),
    }
    package = json.loads(anonymous)  # complete and valid JSON
    assert release_package_errors(package) == []
    assert {r["id"] for r in package["releases"]} == releases and len(package["releases"]) == len(releases) >= 8
    for who, body in bodies.items():
        assert body == anonymous, who


def test_the_bulk_stream_reads_on_its_own_connection_after_the_request_and_its_session(app, demo):
    """Iterated with no application context and the request's session gone, the stream still reads
    the bureau's releases, and only them (on PostgreSQL through row-level security too)."""
    from portal.extensions import db
    from portal.opendata import packages
    publish_intentions(app, 3)
    publish_intentions(app, 2, code="zhanggong")
    ganxian = tender_world.tenant_id(app, "ganxian")
    with app.app_context():
        engine = db.engine
        db.session.remove()
    meta = {"uri": "u", "version": "1.1", "publishedDate": "2026-01-01T00:00:00+08:00", "publisher": {"name": "p"}}
    with app.app_context():  # made in the request (the tenant's proof for row-level security) …
        stream = packages.stream_package(engine, meta, ganxian, 10**9)
    body = "".join(stream)  # … iterated after it
    releases = json.loads(body)["releases"]
    assert len(releases) == 3 and all("-ganxian-" in r["ocid"] for r in releases)
    assert {r["tender"]["title"] for r in releases} == {f"困难群众探访关爱服务 {n}" for n in (1, 2, 3)}
    # a stream left half-read gives its connection back
    with app.app_context():
        stream = packages.stream_package(engine, meta, ganxian, 10**9)
    next(stream), next(stream)
    stream.close()


# --- the pieces -----------------------------------------------------------------------------------

def test_merge_follows_the_ocds_rules():
    from portal.opendata.merge import compile_release
    base = {"ocid": "ocds-x-t1", "initiationType": "tender", "tag": ["tender"]}
    releases = [
        {**base, "id": "b", "date": "2026-02-01T00:00:00+08:00", "tag": ["award"],
         "awards": [{"id": "a1", "status": "active", "suppliers": [{"id": "s1"}]}],
         "tender": {"id": "T", "status": "complete", "submissionMethod": ["written"]}},
        {**base, "id": "a", "date": "2026-01-01T00:00:00+08:00",
         "tender": {"id": "T", "title": "照料", "status": "active", "submissionMethod": ["electronicSubmission"],
                    "items": [{"id": "1", "quantity": 5}], "description": "旧"},
         "awards": [{"id": "a1", "title": "标段1", "status": "pending"}]},
        {**base, "id": "c", "date": "2026-03-01T00:00:00+08:00", "tag": ["award"],
         "awards": [{"id": "a2", "status": "active"}], "tender": {"id": "T", "description": None,
                                                                  "items": [{"id": "2", "quantity": 1}]}},
    ]
    compiled = compile_release(releases)
    assert compiled["tag"] == ["compiled"] and compiled["date"] == "2026-03-01T00:00:00+08:00"
    assert compiled["id"] == "ocds-x-t1-2026-03-01T00:00:00+08:00"
    assert compiled["tender"] == {"id": "T", "title": "照料", "status": "complete", "submissionMethod": ["written"],
                                  "items": [{"id": "1", "quantity": 5}, {"id": "2", "quantity": 1}]}
    assert compiled["awards"] == [{"id": "a1", "title": "标段1", "status": "active", "suppliers": [{"id": "s1"}]},
                                  {"id": "a2", "status": "active"}]


def test_amounts_are_exact_decimal_yuan_with_two_places():
    from decimal import Decimal

    from portal.opendata.jsontext import dumps, to_stored
    from portal.opendata.sections import value
    assert value(108_000_000) == {"amount": Decimal("1080000.00"), "currency": "CNY"}
    assert dumps(value(5)) == '{"amount":0.05,"currency":"CNY"}'
    assert dumps(to_stored({"v": value(900_719_925_474_099), "t": "赣县", "n": [1, None, True]})) == \
        '{"v":{"amount":9007199254740.99,"currency":"CNY"},"t":"赣县","n":[1,null,true]}'


def test_codelist_checks_catch_unknown_codes():
    release = {"ocid": "o", "id": "1", "date": "2026-01-01T00:00:00+08:00", "tag": ["tender"],
               "initiationType": "tender", "parties": [{"id": "p", "roles": ["buyer", "boss"]}],
               "tender": {"id": "t", "documents": [{"id": "d", "documentType": "notice"}]}}
    errors = codelist_errors(release)
    assert len(errors) == 2 and "boss" in errors[0] and "notice" in errors[1]


def test_conditional_helper_works_on_built_responses(app):
    from flask import make_response

    from portal.core.caching import conditional, make_etag
    with app.test_request_context("/"):
        response = conditional(make_response("<p>hello</p>"), None)
        etag = response.get_etag()[0]
        assert response.status_code == 200 and etag
    with app.test_request_context("/", headers={"If-None-Match": f'"{etag}"'}):
        assert conditional(make_response("<p>hello</p>"), None).status_code == 304
        assert conditional(etag) is not None and conditional(make_etag("other")) is None
