"""The assessment form of the field-worker web app through a real browser, on a phone viewport:
an assessor records an assessment with a photo offline, it waits in the browser, and once the
network is back it and its photo reach the server exactly once and it shows on the assessment's
page with its class; the person's card then says so (also after a reload) and asks before a
second assessment the same day. A denied location is said in Chinese, not in the browser's words."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from tests.assessment_world import assessment_world, scope
from tests.test_assessments_photos import photo_count, png
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
    photos_posted = []
    page.on("request", lambda request: photos_posted.append(request.url) if (
        request.method == "POST" and request.url.endswith("/photos")) else None)

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
    photo_input = card.locator(".assessment-form input.photo-input")
    expect(photo_input).to_have_attribute("accept", "image/*")
    expect(photo_input).to_have_attribute("capture", "environment")
    photo_input.set_input_files({"name": "p.png", "mimeType": "image/png", "buffer": png(120)})
    expect(card.locator(".assessment-form .photo-count")).to_have_text("照片：1 张")
    card.locator("button.record-assessment").click()
    row = card.locator(".assessment-row")
    expect(row).to_have_attribute("data-state", "queued")
    expect(row).to_have_attribute("data-photos-pending", "1")
    expect(row.locator(".photos-waiting")).to_have_text("1 张待发送")
    expect(card.locator(".today-note")).to_contain_text("等待发送")  # no empty form again
    expect(card.locator("fieldset.indicator")).to_have_count(0)
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
    expect(row).to_have_attribute("data-photos-pending", "0")
    expect(row).to_have_attribute("data-photos-sent", "1")
    expect(row.locator(".photos-waiting")).to_have_count(0)
    stored = stored_with(app, client_id)
    assert [s[1:] for s in stored] == [("partial", 3, "web", True)]
    assert sum(client_id in body for body in posted) == 1
    assessment_id = stored[0][0]
    assert photo_count(app, assessment_id) == 1 and len(photos_posted) == 1
    shown = page.request.get(f"/api/v1/assessments/{assessment_id}")
    assert shown.ok and len(shown.json()["photos"]) == 1
    expect(card.locator(".today-note")).to_contain_text("已发送到服务器")

    # A reload sends nothing again; the assessment's page shows what was recorded.
    page.reload()
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    expect(card.locator(".assessment-row")).to_have_attribute("data-state", "sent")
    assert sum(client_id in body for body in posted) == 1
    assert len(photos_posted) == 1 and photo_count(app, assessment_id) == 1

    # The card still says the person was assessed today; a second assessment is asked about first.
    expect(card.locator(".today-note")).to_have_count(1)
    expect(card.locator(".today-note")).to_contain_text("部分丧失生活自理能力")
    expect(card.locator("fieldset.indicator")).to_have_count(0)
    card.locator("button.assess-again").click()
    expect(card.locator("fieldset.indicator")).to_have_count(6)
    for name in ("eating", "dressing", "bed_transfer", "toileting", "indoor_walking", "bathing"):
        card.locator(f'label[for="card-{person}-{world["contract"]}-{name}-yes"]').click()
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    card.locator("button.record-assessment").click()
    expect(card.locator(".assessment-row")).to_have_count(1)
    assert len(asked) == 1 and "刘*英" in asked[0] and "今天已评估过" in asked[0]
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    press(page, card.locator("a.open-assessment"))
    expect(page.locator("#care-class")).to_have_text("部分丧失生活自理能力")
    expect(page.locator('tr[data-met="false"]')).to_have_count(3)
    expect(page.locator("#notes")).to_have_text("洗澡需要协助")
    expect(page.locator("h1")).to_contain_text("刘*英")
    assert stored_with(app, client_id) == stored
    # ... and in the person's file (每人一档), where it is the newest entry, with its class
    press(page, page.locator("a#person-file"))
    expect(page.locator("h1")).to_contain_text("刘*英")
    entry = page.locator("#person-file tr.file-assessment").filter(has_text=f"#{stored[0][0]}")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("部分丧失生活自理能力")
    expect(entry).to_contain_text("洗澡需要协助")


def test_a_denied_location_is_said_in_chinese(app, page, live_server):
    world = assessment_world(app)
    person = world["people"]["黄秀兰"]
    page.context.clear_permissions()  # no geolocation: the browser denies it
    page.set_viewport_size({"width": 390, "height": 844})
    page.on("dialog", lambda dialog: dialog.accept())  # (should the server already hold one of today)
    sign_in(page, "b-worker1")
    page.goto("/field/assessments/")
    card = page.locator(f"#card-{person}-{world['contract']}")
    expect(card.locator("h2")).to_have_text("黄*兰")
    page.wait_for_load_state("networkidle")
    if card.locator("button.assess-again").count():
        card.locator("button.assess-again").click()
    for name in ("eating", "dressing", "bed_transfer", "toileting", "indoor_walking", "bathing"):
        card.locator(f'label[for="card-{person}-{world["contract"]}-{name}-yes"]').click()
    card.locator("button.record-assessment").click()
    message = card.locator(".card-message")
    expect(message).to_have_text("本网站的位置权限已被拒绝。请在浏览器的网站设置中允许获取位置后重试。")
    expect(message).not_to_contain_text("Geolocation")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")


def test_a_photo_after_the_submission_is_refused_and_can_be_discarded(app, page, live_server):
    from tests.test_assessments_photos import set_status
    world = assessment_world(app)
    person, (lat, lon) = world["people"]["陈德福"], world["homes"]["陈德福"]
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 5})
    page.set_viewport_size({"width": 390, "height": 844})
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "b-worker1")
    page.goto("/field/assessments/")
    card = page.locator(f"#card-{person}-{world['contract']}")
    expect(card.locator("h2")).to_have_text("陈*福")
    page.wait_for_load_state("networkidle")
    if card.locator("button.assess-again").count():
        card.locator("button.assess-again").click()
    for name in ("eating", "dressing", "bed_transfer", "toileting", "indoor_walking", "bathing"):
        card.locator(f'label[for="card-{person}-{world["contract"]}-{name}-yes"]').click()
    card.locator("button.record-assessment").click()
    row = card.locator(".assessment-row").last
    expect(row).to_have_attribute("data-state", "sent", timeout=15_000)
    assessment_id = int(row.get_attribute("data-assessment-id"))

    set_status(app, assessment_id, "submitted")  # the manager submits it meanwhile
    row.locator("input.photo-input").set_input_files({"name": "p.png", "mimeType": "image/png", "buffer": png(77)})
    expect(row.locator(".photo-problem")).to_contain_text("佐证材料已冻结", timeout=15_000)
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "1")
    assert photo_count(app, assessment_id) == 0
    row.locator("button.discard-photos").click()
    expect(row.locator(".photo-problem")).to_have_count(0)
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    expect(row).to_have_attribute("data-state", "sent")


def test_a_photo_the_server_refuses_is_dropped_and_the_next_one_is_still_sent(app, page, live_server):
    import base64
    world = assessment_world(app)
    person, (lat, lon) = world["people"]["黄秀兰"], world["homes"]["黄秀兰"]
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": lat, "longitude": lon, "accuracy": 5})
    page.set_viewport_size({"width": 390, "height": 844})
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "b-worker1")
    page.goto("/field/assessments/")
    card = page.locator(f"#card-{person}-{world['contract']}")
    page.wait_for_load_state("networkidle")
    if card.locator("button.assess-again").count():
        card.locator("button.assess-again").click()
    for name in ("eating", "dressing", "bed_transfer", "toileting", "indoor_walking", "bathing"):
        card.locator(f'label[for="card-{person}-{world["contract"]}-{name}-yes"]').click()
    card.locator("button.record-assessment").click()
    row = card.locator(".assessment-row").last
    expect(row).to_have_attribute("data-state", "sent", timeout=15_000)
    assessment_id, client_id = int(row.get_attribute("data-assessment-id")), row.get_attribute("data-client-id")

    # Two photos wait in the queue: the first is no image at all (the server answers 415), the second is good.
    good = "data:image/png;base64," + base64.b64encode(png(91)).decode()
    key = page.locator("main").get_attribute("data-queue-key")
    page.evaluate("""([key, clientId, good]) => {
        const state = JSON.parse(localStorage.getItem(key));
        const a = state.assessments.find(x => x.client_id === clientId);
        a.photos = [{key: "bad", data_url: "data:image/jpeg;base64,bm90IGFuIGltYWdl"}, {key: "good", data_url: good}];
        localStorage.setItem(key, JSON.stringify(state));
    }""", [key, client_id, good])
    page.evaluate("window.dispatchEvent(new Event('online'))")  # as when the network comes back: the queue is sent
    expect(row.locator(".photo-refused")).to_have_count(1, timeout=15_000)
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0", timeout=15_000)
    expect(row.locator(".photo-problem")).to_have_count(0)
    assert photo_count(app, assessment_id) == 1  # the good one, though queued behind the refused one
