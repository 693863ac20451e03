"""The field app's warnings before a check-in or check-out a rule would flag (issue 22), at phone size
with Playwright's geolocation: a check-in 1.2 km from the home (beyond the bureau's 300 m, rule V02)
is warned about before anything is sent, cancelling sends nothing, going on needs a reason that
travels with the visit, once; a check-out before the item's minimum minutes (V03) likewise; a
checked-in card shows a running timer and a large camera button above 签退; a finished card says
已完成 with its times instead of a big 签到; a denied position is said in Chinese, not in the
browser's English; axe finds nothing serious on the page."""
import json
import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import beneficiary_world as bw
from tests import contract_world as cw
from tests.browser.test_foundation_browser import sign_in
from tests.browser.test_public_a11y import AXE, _serious

pytestmark = pytest.mark.browser

HOME = {"lat": 25.861, "lon": 115.012}  # bw.register's default home
FAR = {"latitude": 25.8718, "longitude": 115.012, "accuracy": 10}  # 0.0108° north: about 1.2 km
NEAR = {"latitude": 25.8611, "longitude": 115.0121, "accuracy": 10}  # about 15 m
TIMED_VISIT = (("CARE-VISIT", "上门照料护理服务", "visit", 30, 240, False),)  # at least 30 minutes
PHONE = {"width": 390, "height": 844}


def timed_world(app):
    """A's care contract whose CARE-VISIT needs 30 minutes, one person assigned to a-worker1."""
    contract = bw.make_contract(app, "ganxian", "a-manager", items=TIMED_VISIT)
    bw.put_on_work_list(app, "ganxian", contract, "a-worker1")
    person = bw.register(app, "ganxian", "刘桂英", bw.number(31), **HOME)
    bw.assign(app, "ganxian", contract, person, "a-worker1")
    return contract, person


def stored_notes(app):
    from portal.extensions import db
    from portal.visits.models import Visit
    with app.app_context(), cw.scope(app):
        return [(v.notes, v.check_out_at is not None) for v in db.session.execute(select(Visit)).scalars()]


def test_far_check_in_and_early_check_out_are_warned_before_sending_and_go_on_only_with_a_reason(
        app, page, live_server, demo):
    contract, person = timed_world(app)
    context = page.context
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation(FAR)
    page.set_viewport_size(PHONE)
    created, checked_out = [], []
    page.on("request", lambda r: created.append(r.post_data or "") if (
        r.method == "POST" and r.url.endswith("/api/v1/visits")) else None)
    page.on("request", lambda r: checked_out.append(r.post_data or "") if (
        r.method == "POST" and r.url.endswith("/check-out")) else None)
    sign_in(page, "a-worker1")
    page.goto("/field/")
    card = page.locator(f"#card-{person}-{contract}")
    dialog = page.locator("#warning-dialog")

    # 1. Far from home: the warning, with the distance and the range, before anything is sent.
    card.locator("button.check-in").click()
    expect(dialog).to_be_visible()
    expect(dialog.locator("#warning-text")).to_contain_text("距服务对象住址约 1.2 公里，超出 300 米范围")
    page.screenshot(path=str(_shot("far_warning")), full_page=True)
    assert created == []
    found = _serious(AXE.run(page))
    assert not found, found
    dialog.locator("#warning-cancel").click()
    expect(dialog).to_have_count(0)
    expect(card.locator(".card-message")).to_have_text("已取消，未作任何记录。")
    expect(card.locator(".visit-row")).to_have_count(0)
    page.wait_for_timeout(500)
    assert created == [] and stored_notes(app) == []

    # 2. Going on needs a reason; chosen and typed, it is sent once with the visit.
    card.locator("button.check-in").click()
    dialog.locator("#warning-proceed").click()
    expect(dialog.locator("#warning-problem")).to_have_text("请先选择或填写原因。")
    assert created == []
    dialog.get_by_label("服务对象不在家，在其他地点服务").check()
    dialog.locator("#warning-other").fill("在村委会服务")
    dialog.locator("#warning-proceed").click()
    expect(dialog).to_have_count(0)
    row = card.locator(".visit-row")
    expect(row).to_have_attribute("data-state", "sent")
    assert len(created) == 1
    notes = json.loads(created[0])["notes"]
    assert "约 1.2 公里" in notes and "服务对象不在家，在其他地点服务" in notes and "在村委会服务" in notes
    assert stored_notes(app) == [(notes, False)]

    # 3. Checked in: a running timer, the big camera button above 签退.
    clock = card.locator(".service-timer .timer-clock")
    expect(clock).to_have_text(re.compile(r"^服务计时 00:0\d$"))
    before = clock.text_content()
    time.sleep(1.3)
    expect(clock).not_to_have_text(before)
    live = card.locator(".service-timer .timer-live")
    expect(live).to_have_attribute("aria-live", "polite")
    expect(live).to_have_text("已服务 0 分钟")  # the live region speaks minutes, not every second
    photo = card.locator("label.photo-big")
    check_out = card.locator("button.check-out")
    expect(photo).to_have_text("拍照")
    photo_box, out_box = photo.bounding_box(), check_out.bounding_box()
    assert photo_box["y"] + photo_box["height"] <= out_box["y"]  # above 签退, not under it
    assert photo_box["width"] >= 300 and photo_box["height"] >= 48
    page.screenshot(path=str(_shot("checked_in")), full_page=True)
    found = _serious(AXE.run(page))
    assert not found, found

    # 4. After a minute or less, checking out is warned about (30 min minimum); cancel sends nothing.
    context.set_geolocation(NEAR)
    check_out.click()
    expect(dialog.locator("#warning-text")).to_contain_text("本次服务已进行 0 分钟，该服务项目最少需要 30 分钟")
    dialog.locator("#warning-cancel").click()
    expect(card.locator("button.check-out")).to_be_visible()
    page.wait_for_timeout(500)
    assert checked_out == []
    card.locator("button.check-out").click()
    dialog.get_by_label("服务对象要求提前结束服务").check()
    dialog.locator("#warning-proceed").click()
    expect(card.locator(".visit-row .visit-times")).to_contain_text("–")
    expect(row).to_have_attribute("data-state", "sent")
    assert len(checked_out) == 1 and len(created) == 1
    note = json.loads(checked_out[0])["note"]
    assert "最少 30 分钟" in note and "服务对象要求提前结束服务" in note
    assert stored_notes(app) == [(notes + "\n" + note, True)]

    # 5. Done for today: 已完成 with the times, no big 签到; another visit only through a confirmed link.
    done = card.locator(".done-panel")
    expect(done.locator(".done-badge")).to_have_text("今日已完成")
    expect(done.locator(".done-times")).to_contain_text("签到")
    expect(card.locator("button.check-in")).to_have_count(0)
    expect(card.locator("button.check-out")).to_have_count(0)
    page.once("dialog", lambda d: d.dismiss())
    card.locator(".again-link").click()
    expect(card.locator("button.check-in")).to_have_count(0)
    page.screenshot(path=str(_shot("done")), full_page=True)
    found = _serious(AXE.run(page))
    assert not found, found
    page.once("dialog", lambda d: d.accept())
    card.locator(".again-link").click()
    expect(card.locator("button.check-in")).to_be_visible()
    assert len(created) == 1
    # the second visit, near the home: no warning at the check-in; once it is done the card says so again
    card.locator("button.check-in").click()
    expect(card.locator(".visit-row")).to_have_count(2)
    expect(dialog).to_have_count(0)
    assert "notes" not in json.loads(created[-1])
    card.locator("button.check-out").click()
    dialog.locator("#warning-other").fill("服务对象外出")
    dialog.locator("#warning-proceed").click()
    expect(done.locator(".done-times")).to_have_count(2)
    expect(card.locator("button.check-in")).to_have_count(0)


def test_a_denied_position_is_said_in_chinese_not_in_the_browsers_english(app, page, live_server, demo):
    contract, person = timed_world(app)
    page.context.clear_permissions()  # no permission granted: getCurrentPosition fails with code 1
    page.set_viewport_size(PHONE)
    sign_in(page, "a-worker1")
    page.goto("/field/")
    card = page.locator(f"#card-{person}-{contract}")
    card.locator("button.check-in").click()
    message = card.locator(".card-message")
    expect(message).to_have_text("本网站的位置权限已被拒绝。请在浏览器的网站设置中允许获取位置后重试。")
    expect(page.locator("main")).not_to_contain_text("denied")
    expect(page.locator("main")).not_to_contain_text("Geolocation")
    assert stored_notes(app) == []


def far_assessment_card(app, page, live_server):
    """b-worker1's assessment card for 刘桂英 on a phone about 1.2 km from her home, the six items
    answered: (world, card, the bodies posted to /api/v1/assessments)."""
    from tests.assessment_world import assessment_world
    world = assessment_world(app)
    person, (lat, lon) = world["people"]["刘桂英"], world["homes"]["刘桂英"]
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": lat + 0.0108, "longitude": lon, "accuracy": 8})  # about 1.2 km
    page.set_viewport_size(PHONE)
    posted = []
    page.on("request", lambda r: posted.append(r.post_data or "") if (
        r.method == "POST" and r.url.endswith("/api/v1/assessments")) else None)
    sign_in(page, "b-worker1")
    page.goto("/field/assessments/")
    key = f"card-{person}-{world['contract']}"
    card = page.locator(f"#{key}")
    for name in ("eating", "dressing", "bed_transfer", "toileting", "indoor_walking", "bathing"):
        card.locator(f'label[for="{key}-{name}-yes"]').click()
    return world, card, posted


def test_an_assessment_far_from_the_home_is_warned_about_and_its_reason_goes_with_its_notes(app, page, live_server):
    from portal.assessments.models import Assessment
    from portal.extensions import db
    from tests.assessment_world import scope
    world, card, posted = far_assessment_card(app, page, live_server)
    card.locator("textarea.assessment-notes").fill("能自理")
    card.locator("button.record-assessment").click()
    dialog = page.locator("#warning-dialog")
    expect(dialog.locator("#warning-text")).to_contain_text("距服务对象住址约 1.2 公里，超出 300 米范围")
    dialog.locator("#warning-cancel").click()
    expect(card.locator(".card-message")).to_have_text("已取消，未作任何记录。")
    expect(card.locator(".assessment-row")).to_have_count(0)
    assert posted == []
    card.locator("button.record-assessment").click()
    dialog.get_by_label("登记的住址已过时").check()
    dialog.locator("#warning-proceed").click()
    expect(card.locator(".assessment-row")).to_have_attribute("data-state", "sent", timeout=15_000)
    assert len(posted) == 1
    notes = json.loads(posted[0])["notes"]
    assert notes.startswith("能自理\n") and "登记的住址已过时" in notes
    with app.app_context(), scope(app):
        client_id = json.loads(posted[0])["client_id"]
        assert [a.notes for a in db.session.execute(
            select(Assessment).where(Assessment.client_id == client_id)).scalars()] == [notes]


def _shot(name):
    from tests.browser.conftest import SCREENSHOTS
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"test_field_warnings_{name}.png"
