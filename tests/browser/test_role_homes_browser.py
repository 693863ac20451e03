"""Each role's home page in a real browser (issue 22 item 1): the cards of its work render, and
axe-core finds no serious or critical violation on it, in the standard and the 关怀版 mode."""
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.test_foundation_browser import press, sign_in
from tests.browser.test_public_a11y import _serious

AXE = Axe()


@pytest.mark.parametrize("username", ["gx-officer", "gx-supervisor", "gx-finance", "gx-auditor"])
def test_each_roles_home_lists_its_work_without_serious_axe_findings(page, live_server, demo, username):
    sign_in(page, username)
    if page.url.endswith("/choose-tenant"):
        page.get_by_label("甘县", exact=False).first.check()
        press(page, page.get_by_role("button").last)
    expect(page.locator("h1")).to_have_text("工作台")
    expect(page.locator("ul.cards li.card").first).to_be_visible()
    assert not _serious(AXE.run(page)), username
    press(page, page.get_by_role("button", name="关怀版", exact=True))
    assert not _serious(AXE.run(page)), username
