"""Procurement through a real browser: an officer publishes a tender notice, a contractor
manager submits a sealed bid, and the bureau cannot see it before the deadline."""
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.browser.test_foundation_browser import press, sign_in
from tests.tender_world import PDF
from tests import support

pytestmark = pytest.mark.browser


def _tender_ready_for_its_notice(app, demo):
    """A tender whose intention went out 40 days ago, with a lawful timetable from today."""
    from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
    from portal.tenancy.workdays import tenant_calendar
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import (BudgetLine, EvaluationCriterion, Lot, LotItem, PurchaseIntention,
                                       Tender)
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        today, calendar = local_today(), tenant_calendar()
        line = BudgetLine(year=today.year, name="社会救助专项资金", fund_source="专项资金", amount_fen=10**10)
        db.session.add(line)
        db.session.flush()
        intention = PurchaseIntention(budget_line_id=line.id, title="特困人员照料护理服务", budget_fen=50_000_000,
                                      expected_month=today.replace(day=1), published_at=utcnow() - timedelta(days=40))
        db.session.add(intention)
        db.session.flush()
        deadline_day = calendar.add_working_days(today + timedelta(days=25), 0)
        tender = Tender(number="GX-BROWSER-1", title="特困人员照料护理服务采购项目", method="open_tender",
                        status="intention_published", budget_line_id=line.id, intention_id=intention.id,
                        budget_fen=50_000_000, price_weight_percent=30, buyer_contact="张科长 0797-4441234",
                        documents_from=today, documents_until=calendar.add_working_days(today, 7),
                        bid_deadline=datetime.combine(deadline_day, time(9, 30), tzinfo=LOCAL_TZ))
        db.session.add(tender)
        db.session.flush()
        lot = Lot(tender_id=tender.id, number=1, title="照料护理服务", budget_fen=50_000_000, max_price_fen=50_000_000)
        db.session.add(lot)
        db.session.flush()
        db.session.add(LotItem(lot_id=lot.id, code="CARE-VISIT", name="上门照料", unit="visit", quantity=5000,
                               max_unit_price_fen=10_000))
        db.session.add(EvaluationCriterion(tender_id=tender.id, kind="technical", name="服务方案", max_points=45))
        db.session.add(EvaluationCriterion(tender_id=tender.id, kind="business", name="资质业绩", max_points=25))
        db.session.commit()
        return tender.id, lot.id


def test_officer_publishes_a_tender_and_a_contractor_submits_a_sealed_bid(app, page, live_server, demo, browser):
    from portal.extensions import db
    from portal.tenders.models import Bid, Tender
    tender_id, lot_id = _tender_ready_for_its_notice(app, demo)
    page.on("dialog", lambda dialog: dialog.accept())

    sign_in(page, "gx-officer")
    page.goto(f"/tenders/{tender_id}")
    press(page, page.locator(f'a[href$="/tenders/{tender_id}/publish"]'))
    expect(page.locator("main .flash-error")).to_have_count(0)  # nothing stops the notice
    press(page, page.locator("main form button[type=submit]"))
    expect(page).to_have_url(f"{live_server.url}/tenders/{tender_id}")
    with support.as_platform(app):
        tender = db.session.get(Tender, tender_id)
        assert tender.status == "tendering" and tender.notice_published_at is not None

    manager = browser.new_context(base_url=live_server.url, locale="zh-CN").new_page()
    manager.on("dialog", lambda dialog: dialog.accept())
    sign_in(manager, "a-manager")
    manager.locator("select[name=tenant]").select_option("ganxian")  # a manager chooses the bureau
    press(manager, manager.locator("main form button[type=submit]"))
    manager.goto(f"/tenders/{tender_id}")
    press(manager, manager.locator(f'a[href$="/tenders/lots/{lot_id}/my-bid"]'))
    manager.locator("input[name=price]").fill("456750.00")  # 5000 visits at 91.35 yuan
    manager.locator("input[name=staff]").first.check()
    manager.locator('input[name="unit_CARE-VISIT"]').fill("91.35")
    manager.locator("input[name=proposal]").set_input_files(
        {"name": "技术方案.pdf", "mimeType": "application/pdf", "buffer": PDF})
    press(manager, manager.locator("main form button[type=submit]").first)
    expect(manager.locator("main")).to_contain_text("456,750.00")
    manager.screenshot(path="test-artifacts/screenshots/contractor-bid-submitted.png", full_page=True)
    manager.context.close()

    with support.as_platform(app):
        # Sealed: outside the contractor nobody can load the bid before the deadline…
        assert db.session.execute(select(Bid).where(Bid.lot_id == lot_id)).first() is None
        # …though the bid is stored, with the price typed in the browser.
    from sqlalchemy import text

    from tests.support import owner_connection
    with owner_connection(app) as conn:
        stored = conn.execute(text("SELECT price_fen, staff_ids FROM bid WHERE lot_id = :l"), {"l": lot_id}).one()
    assert stored.price_fen == 45675000
    # …and the officer's pages show no price.
    page.goto(f"/tenders/{tender_id}")
    expect(page.locator("main")).not_to_contain_text("456,750.00")


# --- the officer's stage bar at phone and desktop size (issue 22 item 4) -------------------------

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_stage_bar_leads_into_opening_once_at_phone_and_desktop_size(app, page, live_server, demo, size):
    """After the deadline the stage bar's next step leads to the opening; 开标 is done once and then
    no longer offered; a tender before its deadline shows its actions disabled with the reason.
    axe finds nothing serious or critical on these pages, in both modes."""
    from axe_playwright_python.sync_playwright import Axe

    from portal.core.timeutil import utcnow
    from tests import tender_world as tw
    from tests.browser.test_public_a11y import _serious
    axe = Axe()
    ids = tw.make_tender(app, deadline=utcnow() + timedelta(days=1))
    for n in range(3):
        firm = tw.make_contractor(app, name=f"阶段栏机构{n}-{ids['tender']}", manager=f"bar-{ids['tender']}-{n}")
        tw.add_opened_bid(app, ids["lots"][0], firm["id"], 150_000_00 + n * 1000_00, valid=None)
    tw.pass_deadline(app, ids["tender"])
    sealed = tw.make_tender(app, deadline=utcnow() + timedelta(days=5))
    page.set_viewport_size(SIZES[size])
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "gx-officer")

    def fits_and_passes_axe(label):
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), label
        assert not _serious(axe.run(page)), label

    page.goto(f"/tenders/{ids['tender']}")
    expect(page.locator('.stage[aria-current="step"]')).to_have_attribute("data-stage", "opening")
    step = page.locator("#next-action a.button")
    expect(step).to_be_visible()
    expect(page.locator("#next-action")).to_contain_text("最早")
    box = step.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[size]["width"]
    fits_and_passes_axe("stage bar")
    page.screenshot(path=f"test-artifacts/screenshots/officer-stage-bar-{size}.png", full_page=True)
    press(page, page.get_by_role("button", name="关怀版", exact=True))
    fits_and_passes_axe("stage bar, 关怀版")
    press(page, page.get_by_role("button", name="标准版", exact=True))

    press(page, step)
    open_button = page.get_by_role("button", name="截止投标并开标", exact=True)
    expect(open_button).to_be_enabled()
    press(page, open_button)
    expect(page.locator("#opened")).to_be_visible()
    expect(page.locator('form[action$="/evaluation/open"]')).to_have_count(0)
    expect(page.locator('input[name=decision][value=valid]').first).to_be_checked()
    fits_and_passes_axe("opened")

    page.goto(f"/tenders/{sealed['tender']}")
    disabled = page.locator("main button[disabled]")
    expect(disabled.first).to_be_visible()
    for index in range(disabled.count()):
        why = disabled.nth(index).get_attribute("aria-describedby")
        expect(page.locator(f"#{why}")).not_to_be_empty()
        expect(disabled.nth(index)).to_be_disabled()
    fits_and_passes_axe("disabled actions")
    page.screenshot(path=f"test-artifacts/screenshots/officer-disabled-actions-{size}.png", full_page=True)
    # the list of notices due states its rules and passes axe too
    page.goto("/disclosures/due")
    expect(page.locator("#rule-note")).to_contain_text("30")
    fits_and_passes_axe("disclosures due")
