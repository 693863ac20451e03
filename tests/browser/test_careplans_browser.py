"""Care plans through a real browser (docs/DOMAIN.md §6 "Care plans"): a supervisor opens the missed
list from the navigation (so far this month, by default), finds a person whose plan was changed
this month and has not been served yet, opens the person's plan with its versions and the reason
for the change, then the person's file, where the plan versions are shown too."""
import pytest
from playwright.sync_api import expect

from portal.core.months import month_text
from tests import support
from tests.browser.test_foundation_browser import press, sign_in
from tests.careplan_world import THIS_MONTH, approved, careplan_world, last_month_plan

pytestmark = pytest.mark.browser




def test_the_supervisor_goes_from_the_missed_list_to_the_plan_and_the_file(app, page, live_server, demo):
    world = careplan_world(app)
    person = world["people"]["陈德福"]
    last_month_plan(app, person, {"daily_watch": 3})
    approved(app, person, {"daily_watch": 4, "counselling": 2}, reason="老人情绪低落，增加心理疏导")

    sign_in(page, "gx-supervisor")
    press(page, page.locator("nav.site-nav").get_by_role("link", name=support.zh(app, "People missed")))
    expect(page.locator("#missed-intro")).to_contain_text(month_text(THIS_MONTH))
    row = page.locator(f"#missed-row-{person}")
    expect(row).to_contain_text("陈德福")
    expect(row.locator(".short-services")).to_have_text("日常看护 尚缺 4 次、心理疏导 尚缺 2 次、探视巡访 尚缺 1 次（已 0/1）")
    expect(row.locator(".in-person")).to_have_text("0/1")
    page.screenshot(path="test-artifacts/screenshots/careplans-missed.png", full_page=True)

    press(page, row.locator("a.person-link"))
    expect(page.locator("h1")).to_have_text(support.zh(app, "Care plan of %(name)s", name="陈德福"))
    expect(page.locator("#version-2 .reason")).to_have_text("老人情绪低落，增加心理疏导")
    expect(page.locator("#version-2 .status")).to_have_text(support.zh(app, "Approved"))
    expect(page.locator("#version-1 .status")).to_have_text(support.zh(app, "Superseded by a later version"))

    press(page, page.locator("#person-file-link"))
    section = page.locator("#care-plan-section")
    expect(section).to_be_visible()
    expect(section.locator("#file-plan-2")).to_contain_text("老人情绪低落，增加心理疏导")
    expect(section.locator("#file-plan-2")).to_contain_text(support.zh(app, "Counselling (心理疏导)"))
    expect(section.locator("#file-plan-1")).to_contain_text(support.zh(app, "First version"))
    page.screenshot(path="test-artifacts/screenshots/careplans-file.png", full_page=True)


def test_the_missed_list_scrolls_sideways_on_a_phone_instead_of_squeezing_its_columns(app, page, live_server, demo):
    """At 390 px the wide table scrolls in its own box (the page itself does not), and no column is
    squeezed to a character or two; the print view is left alone (the rule is for screens)."""
    world = careplan_world(app)
    for name in ("陈德福", "刘桂英"):
        approved(app, world["people"][name], {"daily_watch": 12, "counselling": 2}, in_person=2)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "gx-supervisor")
    page.goto("/care-plans/missed")
    table = page.locator("table#missed")
    expect(table.locator(f"#missed-row-{world['people']['陈德福']}")).to_be_visible()
    sizes = table.evaluate("""t => {
        const scroller = [t, t.parentElement].find(e => getComputedStyle(e).overflowX === "auto");
        const em = parseFloat(getComputedStyle(t).fontSize);
        return {scroll: scroller ? scroller.scrollWidth : 0, client: scroller ? scroller.clientWidth : 0,
                narrowest: Math.min(...[...t.querySelectorAll("th, td")].map(c => c.getBoundingClientRect().width)) / em,
                page: document.documentElement.scrollWidth, viewport: document.documentElement.clientWidth};
    }""")
    assert sizes["scroll"] > sizes["client"] > 0, sizes  # the table scrolls in its own box
    assert sizes["narrowest"] >= 2, sizes  # no column one character wide
    assert sizes["page"] <= sizes["viewport"], sizes  # the page itself does not scroll sideways
    caption = table.locator("caption").bounding_box()
    assert 0 <= caption["x"] < 60, caption  # the caption is at the start, not centred out of sight
    page.screenshot(path="test-artifacts/screenshots/careplans-missed-phone.png", full_page=True)
    page.emulate_media(media="print")
    assert table.evaluate("t => getComputedStyle(t).display") == "table"
    page.emulate_media(media="screen")


def _services_of(app, client_id):
    from sqlalchemy import select

    from portal.extensions import db
    from portal.visits.models import Visit
    from tests.careplan_world import scope
    with app.app_context(), scope(app):
        return [list(v.services or []) for v in db.session.scalars(select(Visit).where(Visit.client_id == client_id))]


def test_the_worker_ticks_the_services_done_at_check_out_online_and_offline(app, page, live_server, demo):
    """The field app's care visit: the catalogue services (Chinese labels) are ticked before the
    check-out and reach the server with it; offline, the one request that carries the visit carries
    them too."""
    from tests.browser.test_field_app import NEAR_HOME, field_world
    contract, people = field_world(app)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(NEAR_HOME)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "a-worker1")
    page.goto("/field/")
    first = page.locator(f"#card-{people['刘桂英']}-{contract}")
    second = page.locator(f"#card-{people['陈德福']}-{contract}")
    expect(first.locator("fieldset.services-done")).to_have_count(0)  # nothing to tick before the check-in

    first.locator("button.check-in").click()
    row = first.locator(".visit-row")
    expect(row).to_have_attribute("data-state", "sent")
    box = first.locator("fieldset.services-done")
    expect(box.locator("label.service-choice")).to_have_count(9)
    box.get_by_label(support.zh(app, "Daily watch (日常看护)")).check()
    box.get_by_label(support.zh(app, "Counselling (心理疏导)")).check()
    box.get_by_label(support.zh(app, "Counselling (心理疏导)")).uncheck()
    box.get_by_label(support.zh(app, "Emotional comfort (精神慰藉)")).check()
    first.locator("button.check-out").click()
    expect(row.locator(".visit-times")).to_contain_text("–")
    expect(row).to_have_attribute("data-state", "sent")
    expect(row.locator(".visit-services")).to_contain_text("日常看护、精神慰藉")
    expect(first.locator("fieldset.services-done")).to_have_count(0)
    assert _services_of(app, row.get_attribute("data-client-id")) == [["daily_watch", "emotional_comfort"]]

    page.context.set_offline(True)
    second.locator("button.check-in").click()
    offline_row = second.locator(".visit-row")
    expect(offline_row).to_have_attribute("data-state", "queued")
    second.locator("fieldset.services-done").get_by_label(support.zh(app, "Personal care (照料护理)")).check()
    second.locator("button.check-out").click()
    expect(offline_row.locator(".visit-services")).to_contain_text("照料护理")
    offline_id = offline_row.get_attribute("data-client-id")
    assert _services_of(app, offline_id) == []
    page.context.set_offline(False)
    expect(offline_row).to_have_attribute("data-state", "sent", timeout=15_000)
    assert _services_of(app, offline_id) == [["personal_care"]]
