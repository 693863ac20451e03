"""Field app, after the warning dialog of issue 22: the keyboard's focus stays on the card (its
action button after 取消, the done panel's link after the check-out, never <body>); a check-out
past the item's maximum minutes (V03) is warned about like an early one and needs a reason; the
big 拍照 label shows a focus outline when its hidden file input has the focus; the worker's notes
of several lines keep their lines on the visit page (.pre-line in portal.css)."""
import json

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import beneficiary_world as bw
from tests import contract_world as cw
from tests.browser.test_foundation_browser import sign_in
from tests.browser.test_field_warnings import HOME, NEAR, PHONE

pytestmark = pytest.mark.browser
BOUNDED_VISIT = (("CARE-VISIT", "上门照料护理服务", "visit", 30, 60, False),)  # 30 to 60 minutes

ACTIVE_ID = "document.activeElement ? document.activeElement.id : ''"
INSIDE = "(key) => !!document.activeElement && document.activeElement !== document.body && " \
         "document.getElementById(key).contains(document.activeElement)"


def bounded_world(app):
    contract = bw.make_contract(app, "ganxian", "a-manager", items=BOUNDED_VISIT)
    bw.put_on_work_list(app, "ganxian", contract, "a-worker1")
    person = bw.register(app, "ganxian", "刘桂英", bw.number(32), **HOME)
    bw.assign(app, "ganxian", contract, person, "a-worker1")
    return contract, person


def test_focus_stays_on_the_card_and_a_too_long_service_is_warned_about(app, page, live_server, demo):
    contract, person = bounded_world(app)
    key = f"card-{person}-{contract}"
    context = page.context
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation(NEAR)
    page.set_viewport_size(PHONE)
    checked_out = []
    page.on("request", lambda r: checked_out.append(r.post_data or "") if (
        r.method == "POST" and r.url.endswith("/check-out")) else None)
    sign_in(page, "a-worker1")
    page.goto("/field/")
    card = page.locator(f"#{key}")
    dialog = page.locator("#warning-dialog")

    # check-in near the home: no dialog; the focus ends on the card's (new) 签退 button
    card.locator("button.check-in").focus()
    card.locator("button.check-in").click()
    expect(card.locator(".visit-row")).to_have_attribute("data-state", "sent")
    expect(card.locator("button.check-out")).to_be_visible()
    assert page.evaluate(ACTIVE_ID) == f"{key}-action"

    # the big camera label shows the focus of its hidden input
    photo_input = card.locator("input.photo-input")
    photo_input.focus()
    assert page.evaluate("(id) => document.activeElement.id === id", photo_input.get_attribute("id"))
    outline = card.locator("label.photo-big").evaluate(
        "l => [getComputedStyle(l).outlineStyle, getComputedStyle(l).outlineWidth]")
    assert outline == ["solid", "3px"], outline

    # too early (30 min minimum): cancelling the dialog leaves the focus on 签退, not <body>
    card.locator("button.check-out").focus()
    card.locator("button.check-out").click()
    expect(dialog.locator("#warning-text")).to_contain_text("最少需要 30 分钟")
    dialog.locator("#warning-cancel").click()
    expect(dialog).to_have_count(0)
    expect(card.locator(".card-message")).to_have_text("已取消，未作任何记录。")
    assert page.evaluate(ACTIVE_ID) == f"{key}-action"
    assert checked_out == []

    # the check-in was three hours ago (60 min maximum): warned about, a reason needed
    queue_key = page.locator("main").get_attribute("data-queue-key")
    page.evaluate("""(k) => { var s = JSON.parse(localStorage.getItem(k));
        s.visits.forEach(v => { v.check_in.at = new Date(Date.now() - 3 * 3600 * 1000).toISOString(); });
        localStorage.setItem(k, JSON.stringify(s)); }""", queue_key)
    page.reload()
    card.locator("button.check-out").focus()
    card.locator("button.check-out").click()
    expect(dialog.locator("#warning-text")).to_contain_text("本次服务已进行 180 分钟，该服务项目最多 60 分钟")
    dialog.locator("#warning-proceed").click()
    expect(dialog.locator("#warning-problem")).to_have_text("请先选择或填写原因。")
    dialog.locator("#warning-other").fill("服务对象临时需要陪同就医")
    dialog.locator("#warning-proceed").click()
    expect(dialog).to_have_count(0)
    expect(card.locator(".done-panel")).to_be_visible()
    expect(card.locator(".visit-row")).to_have_attribute("data-state", "sent")
    assert len(checked_out) == 1
    note = json.loads(checked_out[0])["note"]
    assert "最多 60 分钟" in note and "服务对象临时需要陪同就医" in note
    assert page.evaluate(ACTIVE_ID) == f"{key}-again"
    assert page.evaluate(INSIDE, key)


def test_notes_of_several_lines_keep_their_lines_on_the_visit_pages(app, page, live_server, demo):
    from portal.extensions import db
    from portal.visits.models import Visit
    contract, person = bounded_world(app)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation(NEAR)
    sign_in(page, "a-worker1")
    page.goto("/field/")
    card = page.locator(f"#card-{person}-{contract}")
    card.locator("button.check-in").click()
    card.locator("button.check-out").click()
    page.locator("#warning-other").fill("服务对象外出")
    page.locator("#warning-proceed").click()
    expect(card.locator(".visit-row")).to_have_attribute("data-state", "sent", timeout=15_000)
    # the check-out (with its note) has reached the server before the notes are changed below
    for _ in range(60):
        with app.app_context(), cw.scope(app):
            if db.session.execute(select(Visit.check_out_at).where(Visit.contract_id == contract)).scalar_one():
                break
        page.wait_for_timeout(250)
    with app.app_context(), cw.scope(app):
        visit = db.session.execute(select(Visit).where(Visit.contract_id == contract)).scalars().one()
        assert visit.check_out_at is not None
        visit_id = visit.id
        visit.notes = "第一行\n第二行"
        db.session.commit()
    page.context.clear_cookies()
    sign_in(page, "gx-supervisor")
    page.goto(f"/supervision/visits/{visit_id}")
    notes = page.locator("#visit-notes")
    expect(notes).to_contain_text("第一行")
    assert notes.evaluate("n => getComputedStyle(n).whiteSpace") == "pre-line"
