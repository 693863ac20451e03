"""The visit's map and the worker's day map in a real browser: drawn, labelled, nothing loaded from
outside, and axe-core finds no serious or critical violation on either page."""
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.beneficiary_world import care_world
from tests.browser.test_foundation_browser import sign_in
from tests.browser.test_public_a11y import _serious
from tests.visit_world import DAY, HOME, at, record, update_visit

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("own_queue")]


def test_the_supervisor_sees_the_visit_and_the_day_on_a_map(app, page, live_server, demo):
    people = care_world(app)["people"]
    first = record(app, people["陈德福"], start=at(DAY, 7))
    visit_id = record(app, people["刘桂英"], start=at(DAY, 10))
    update_visit(app, visit_id, check_in_lat=HOME[0] + 0.004, check_in_lon=HOME[1] + 0.004,
                 check_out_lat=HOME[0], check_out_lon=HOME[1] + 0.0015)
    update_visit(app, first, check_in_lat=HOME[0] - 0.003, check_in_lon=HOME[1] - 0.002)
    external = []
    page.on("request", lambda request: external.append(request.url)
            if not request.url.startswith(live_server.url) and not request.url.startswith("data:") else None)
    sign_in(page, "gx-supervisor")
    page.goto(f"/supervision/visits/{visit_id}")
    figure = page.get_by_role("img", name="本次服务地图：家、签到与签退位置")
    expect(figure).to_be_visible()
    expect(page.locator("#visit-map figcaption")).to_contain_text("签到点距家")
    assert _serious(Axe().run(page)) == []
    page.screenshot(path="test-artifacts/visit-map.png", full_page=True)
    page.get_by_role("link", name="该工作人员当天的服务地图").click()
    expect(page.locator("svg.day-map")).to_be_visible()
    assert page.locator("svg.day-map .map-stop").count() >= 2
    assert _serious(Axe().run(page)) == []
    page.screenshot(path="test-artifacts/day-map.png", full_page=True)
    assert external == []
