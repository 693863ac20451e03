"""Tests generated from the URL map (issue 13, points 1 and 2): whatever routes the packages add,
every one is walked as the demo roles.

- Ids out of range (0, -1, 2³¹, 2⁶³, 10²⁰, a 5,000-digit number) in any argument of any route and
  method: never a 5xx, and 404 wherever the argument is an ``<int:…>`` (the bounded converter);
  the largest id there is (2³¹−1, absent) reaches the views: never a 5xx either.
- Every list that pages through portal.core.pagination (found as it runs, and by its source) is
  shown as each role allowed to see it on page 1, page 2 (its pager links there) and past its
  last page; every GET route takes page=0, -1, 10²⁰, null and true without a 5xx (as each role
  for a list, as the first role it answers for another route), a list refusing them as the query
  contract says (a 422 problem on the API, a notice on a web page).

The demo world gets a page size of one row (MAX_PER_PAGE) so that two rows make a second page."""
import inspect

import pytest
from flask import g, request_finished

from tests import route_walk as walk

HOSTILE_IDS = ("0", "-1", str(2**31), str(2**63), str(10**20), "9" * 5000)
LARGEST_ID = str(2**31 - 1)
HOSTILE_PAGES = ("0", "-1", str(10**20), "null", "true")
# Routing refuses a hostile id before any view runs, the same way for everyone (the URL-map test
# tries every value on every rule): over HTTP the values take turns among three roles; the largest
# real id reaches the views, so more roles try that one.
HOSTILE_ID_ROLES = ("anonymous", "gx-officer", "a-manager")
LARGEST_ID_ROLES = ("anonymous", "platform", "gx-officer", "gx-supervisor", "a-manager", "a-worker1")
# Lists paged by their own rule rather than paginate(), or that need a query parameter the walk does
# not send (a required month), with the test that pages them.
OWN_PAGING = {"opendata_api.releases": "test_opendata.py::test_release_pages_hold_100_newest_first_with_absolute_links"}


@pytest.fixture
def walkers(app, monkeypatch):
    walk.seed_lists(app)
    monkeypatch.setitem(app.config, "MAX_PER_PAGE", 1)
    return walk.clients(app)


def _answer(client, method, path, **query):
    """(status, response) of one request; an exception escaping the app counts as a 500."""
    try:
        response = client.open(path, method=method, query_string=query or None)
    except Exception as exc:  # noqa: BLE001  the walk reports it with the route
        return 500, repr(exc)[:200]
    return response.status_code, response


def _report(failures):
    return f"{len(failures)} failing:\n" + "\n".join(map(str, failures[:80]))


def test_every_int_argument_of_every_route_refuses_ids_out_of_range_when_routing(app):
    """The URL map itself: 0, -1, 2³¹, 2⁶³, 10²⁰ in any <int:…> match no rule of any method (a 404,
    never a 405 listing the methods of a resource that does not exist)."""
    from werkzeug.exceptions import NotFound
    adapter, failures = app.url_map.bind("localhost"), []
    for rule in walk.walked_rules(app):
        if not walk.has_id(rule):
            continue
        for method in walk.methods(rule):
            assert adapter.match(walk.path_for(rule, LARGEST_ID, text="x"), method)[0] == rule.endpoint
            for value in HOSTILE_IDS:
                try:
                    matched = adapter.match(walk.path_for(rule, value, text="x"), method)
                except NotFound:
                    continue
                except Exception as exc:  # noqa: BLE001  listed below
                    matched = type(exc).__name__
                failures.append((method, rule.rule, value[:24], matched))
    assert not failures, _report(failures)


def test_no_route_answers_an_id_out_of_range_with_a_server_error(app, demo):
    walkers = walk.clients(app, ("anonymous", *HOSTILE_ID_ROLES, *LARGEST_ID_ROLES))
    failures, walked = [], 0
    for rule in walk.walked_rules(app):
        if walk.path_for(rule, "1") == walk.path_for(rule, "2"):
            continue  # no argument a hostile value goes into
        for method in walk.methods(rule):
            tries = [(v, HOSTILE_ID_ROLES[i % len(HOSTILE_ID_ROLES)]) for i, v in enumerate(HOSTILE_IDS)]
            tries += [(LARGEST_ID, r) for r in LARGEST_ID_ROLES]
            for value, role in tries:
                status, _ = _answer(walkers[role], method, walk.path_for(rule, value))
                walked += 1
                if status >= 500:
                    failures.append((method, rule.rule, role, value[:24], status))
                elif walk.has_id(rule) and value in HOSTILE_IDS and status != 404:
                    failures.append((method, rule.rule, role, value[:24], f"{status}, not 404"))
    assert walked > 1000
    assert not failures, _report(failures)


def _paginated_in_source(rule, app):
    try:
        source = inspect.getsource(inspect.unwrap(app.view_functions[rule.endpoint]))
    except (OSError, TypeError):
        return False
    return "paginate(" in source or "page_arg(" in source


class _Recorder:
    """The page of the list (g.list_page) each request showed, read as the request finishes."""

    def __init__(self):
        self.page = None

    def __call__(self, sender, response, **extra):
        self.page = g.get("list_page")


def _check_list(client, path, role, page, first, failures):
    """Page 2, and the page past the last, of a list whose page 1 ``first`` showed ``page``."""
    api = path.startswith("/api/")
    record = _check_list.recorder
    if page.pages >= 2:
        if not api and 'rel="next"' not in first.get_data(as_text=True):
            failures.append((path, role, "page 1 of 2+ shows no pager link to the next page"))
        status, second = _answer(client, "GET", path, page="2")
        if status != 200 or record.page is None or record.page.page != 2 or not record.page.items:
            failures.append((path, role, "page 2", status))
        elif not api and 'rel="prev"' not in second.get_data(as_text=True):
            failures.append((path, role, "page 2 shows no pager link back"))
    past = str(max(page.pages, 1) + 1)
    status, response = _answer(client, "GET", path, page=past)
    if status not in (200, 404):
        failures.append((path, role, f"page {past} past the last", status))
    elif status == 200 and api and response.get_json().get("items"):
        failures.append((path, role, f"page {past} past the last lists items"))
    elif status == 200 and not api and 'pager-notice' not in response.get_data(as_text=True):
        failures.append((path, role, f"page {past} past the last says nothing"))


def _check_bad_page(path, role, value, status, response, is_list, failures):
    if status >= 500:
        failures.append((path, role, f"page={value}", status))
    elif is_list and path.startswith("/api/"):
        body = response.get_json(silent=True) or {}
        if status != 422 or "page" not in body.get("errors", {}):
            failures.append((path, role, f"page={value}", status, "not a 422 problem naming page"))
    elif is_list and status == 200 and 'pager-notice' not in response.get_data(as_text=True):
        failures.append((path, role, f"page={value}", "no notice"))


def test_every_list_pages_as_each_role_and_no_page_number_breaks_a_route(app, walkers):
    record = _check_list.recorder = _Recorder()
    failures, lists = [], {}
    get_rules = [r for r in walk.walked_rules(app) if "GET" in r.methods]
    with request_finished.connected_to(record, app):
        for rule in get_rules:
            path, bad_pages_tried = walk.path_for(rule, 1, text="x"), False
            for role, client in walkers.items():
                record.page = None
                status, first = _answer(client, "GET", path, page="1")
                if status >= 500:
                    failures.append((path, role, "page=1", status))
                if status != 200:
                    continue
                page = record.page
                if page is not None:
                    lists.setdefault(rule.endpoint, {})[role] = page.pages
                    _check_list(client, path, role, page, first, failures)
                if page is None and bad_pages_tried:
                    continue  # a route that shows no list: one role tries the bad numbers
                bad_pages_tried = True
                for value in HOSTILE_PAGES:
                    status, response = _answer(client, "GET", path, page=value)
                    _check_bad_page(path, role, value, status, response, page is not None, failures)
    # Every list must have been seen with a second page by some role: a list without enough
    # rows in seed_lists (or one no role could open) fails here instead of passing unseen.
    expected = {r.endpoint for r in get_rules if _paginated_in_source(r, app)} | set(lists)
    unpaged = sorted(e for e in expected - set(OWN_PAGING) if max(lists.get(e, {}).values(), default=0) < 2)
    assert not failures, _report(failures)
    assert not unpaged, f"lists never shown with a second page (add rows in tests/route_walk.py): {unpaged}"
    assert {"audit.index", "beneficiaries.index", "billing.index", "billing_api.list_settlements",
            "visits_api.list_visits", "public.notices"} <= set(lists)
