"""The public feedback form in 关怀版 (care mode) in a real browser (issue 20, docs/DOMAIN.md §9
"Public feedback"): the sender fills it in and sends it, reads the tracking number, and looks the
feedback up with it; axe-core finds no serious or critical violation on the form, the page with
the tracking number and the state page. Screenshots go under test-artifacts/screenshots/public/."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import support
from tests.browser.test_public_a11y import ARTIFACTS, AXE, _serious, _set_care

pytestmark = pytest.mark.browser

TEXT = "希望上门服务时间能提前告知。"
CONTACT = "王先生 13955554444"


def _check(page, name):
    """The page is in care mode, large type, and axe finds nothing serious; a screenshot kept."""
    expect(page.locator("body")).to_have_class(re.compile(r"\bcare-mode\b"))
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 20
    expect(page.locator("h1")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / f"feedback-{name}-care.png"), full_page=True)
    found = _serious(AXE.run(page))
    assert not found, (name, found)


def test_feedback_in_care_mode_is_sent_tracked_and_looked_up_without_serious_axe_findings(app, page, live_server):
    from portal.extensions import db
    from portal.feedback.models import FeedbackItem
    from portal.tenancy.scope import tenant_scope
    support.seed_demo(app, history=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    _set_care(page, True)
    assert page.goto("/public/ganxian/feedback").status == 200
    _check(page, "form")
    page.locator("#topic").select_option("contractor")
    contractor = page.locator("#contractor option").nth(1)
    contractor_name = contractor.inner_text()
    page.locator("#contractor").select_option(contractor.get_attribute("value"))
    page.locator("#text").fill(TEXT)
    page.locator("#contact").fill(CONTACT)
    page.locator("#consent").check()
    with page.expect_navigation():
        page.get_by_role("button", name="提交意见").click()
    expect(page).to_have_url(re.compile(r"/public/ganxian/feedback/received$"))
    number = page.locator("#tracking-number").inner_text()
    assert re.fullmatch(r"FK[A-Z2-7]{10}", number)
    _check(page, "received")
    with page.expect_navigation():
        page.locator(f"main a[href$='/feedback/{number}']").click()
    expect(page.locator("#feedback-state")).to_contain_text(number)
    expect(page.locator("#feedback-state")).not_to_contain_text("答复时间")  # not answered yet
    assert CONTACT not in page.content() and TEXT not in page.content()
    _check(page, "state")
    with app.app_context(), tenant_scope(support.World(app).tenant_id("ganxian")):
        item = db.session.execute(select(FeedbackItem).where(FeedbackItem.tracking_number == number)).scalar_one()
        assert item.topic == "contractor" and item.contractor.name == contractor_name and item.consent_to_publish
        assert item.text == TEXT
