"""The assessment form of the field-worker web app through a real browser, on a phone viewport:
an assessor records an assessment offline, it waits in the browser, and once the network is back
it reaches the server exactly once and shows on the assessment's page with its class."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from tests.assessment_world import assessment_world, scope
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_foundation_browser import press, sign_in

pytestmark = pytest.mark.browser


def stored_with(app, client_id):
    from portal.assessments.models import Assessment
    with app.app_context(), scope(app):
        return [(a.id, a.care_class, a.not_met, a.source, a.visit_id is not None) for a in db.session.execute(
            select(Assessment).where(Assessment.client_id == client_id)).scalars()]


def test_an_offline_assessment_is_sent_once_and_shows_on_its_page(app, page, live_server):
    world = assessment_world(app)
    person, (lat, lon) = world["people"]["刘桂英"], world["homes"]["刘桂英"]
    context = page.context
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation({"latitude": lat + 0.0001, "longitude": lon, "accuracy": 8})  # about 11 m away
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    posted = []
    page.on("request", lambda request: posted.append(request.post_data or "") if (
        request.method == "POST" and request.url.endswith("/api/v1/assessments")) else None)

    sign_in(page, "b-worker1")
    page.goto("/field/")
    press(page, page.locator("#assessment-form-link"))
    expect(page.locator("h1")).to_have_text("自理能力评估")
    card = page.locator(f"#card-{person}-{world['contract']}")
    expect(card.locator("h2")).to_have_text("刘*英")  # masked names only
    expect(page.locator("main")).not_to_contain_text("刘桂英")
    expect(card.locator("fieldset.indicator")).to_have_count(6)
    expect(card.locator("legend").first).to_have_text("自主吃饭")

    # Offline: three indicators not met, the assessment stays in the browser.
    context.set_offline(True)
    expect(page.locator("#network-state")).to_have_class("network-state is-offline")
    card.locator("button.record-assessment").click()
    expect(card.locator(".card-message")).to_have_text("请先填写全部六项指标。")
    for name, can in (("eating", True), ("dressing", True), ("bed_transfer", False), ("toileting", True),
                      ("indoor_walking", False), ("bathing", False)):
        card.locator(f'label[for="card-{person}-{world["contract"]}-{name}-{"yes" if can else "no"}"]').click()
    expect(card.locator(".class-preview")).to_contain_text("部分丧失生活自理能力")
    card.locator("textarea.assessment-notes").fill("洗澡需要协助")
    card.locator("button.record-assessment").click()
    row = card.locator(".assessment-row")
    expect(row).to_have_attribute("data-state", "queued")
    expect(row.locator(".care-class")).to_have_text("部分丧失生活自理能力")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "1")
    client_id = row.get_attribute("data-client-id")
    assert stored_with(app, client_id) == [] and posted == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "test_assessment_field_offline_queue.png"), full_page=True)

    # Back online: the queue is flushed by the `online` event, and the assessment is stored once.
    context.set_offline(False)
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0", timeout=15_000)
    expect(row).to_have_attribute("data-state", "sent")
    expect(row).to_have_attribute("data-care-class", "partial")
    stored = stored_with(app, client_id)
    assert [s[1:] for s in stored] == [("partial", 3, "web", True)]
    assert sum(client_id in body for body in posted) == 1

    # A reload sends nothing again; the assessment's page shows what was recorded.
    page.reload()
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    expect(card.locator(".assessment-row")).to_have_attribute("data-state", "sent")
    assert sum(client_id in body for body in posted) == 1
    press(page, card.locator("a.open-assessment"))
    expect(page.locator("#care-class")).to_have_text("部分丧失生活自理能力")
    expect(page.locator('tr[data-met="false"]')).to_have_count(3)
    expect(page.locator("#notes")).to_have_text("洗澡需要协助")
    expect(page.locator("h1")).to_contain_text("刘*英")
    assert stored_with(app, client_id) == stored
