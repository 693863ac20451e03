"""Monthly settlement through a real browser: the officer prepares October's statements and sends
A's statement; A's manager confirms it; finance (not the preparer) approves it and sees the final
status, and the budget view shows the settled money."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import support
from tests import settlement_world as sw
from tests.browser.test_foundation_browser import press, sign_in

pytestmark = pytest.mark.browser
MONTH = "2026-10"




def _signed_in(browser, live_server, username, tenant=None):
    page = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    page.set_default_timeout(5_000)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, username)
    if tenant:
        page.locator("select[name=tenant]").select_option(tenant)  # a manager chooses the bureau
        press(page, page.locator("main form button[type=submit]"))
    return page


def test_officer_prepares_and_sends_the_manager_confirms_and_finance_approves(app, page, live_server, demo, browser,
                                                                          run_worker):
    from portal.billing.models import Statement
    from portal.extensions import db
    world = sw.care_contract(app)
    sw.add_visits(app, world, MONTH, 12)  # 12 × 80.00 yuan
    page.on("dialog", lambda dialog: dialog.accept())

    # The officer prepares the month and sends the draft to the contractor.
    sign_in(page, "gx-officer")
    page.goto("/billing/")
    page.locator("#prepare-form input[name=month]").fill(MONTH)
    press(page, page.locator("#prepare-form button[type=submit]"))
    expect(page).to_have_url(re.compile(rf"{live_server.url}/billing/jobs/[0-9a-f-]+$"))
    run_worker()  # PostgreSQL pass: the job waits on Redis; SQLite: it already ran inline
    page.reload()
    expect(page.locator("main progress")).to_have_attribute("value", "100")
    press(page, page.locator(f'main a[href$="/billing/?month={MONTH}"]'))
    page.screenshot(path="test-artifacts/screenshots/settlement-list.png", full_page=True)
    with app.app_context(), sw.scope(app):
        statement = db.session.execute(select(Statement)).scalar_one()
        statement_id, number = statement.id, statement.number
    press(page, page.get_by_role("link", name=number))
    expect(page.locator("#statement-status")).to_have_text(support.zh(app, "Draft"))
    expect(page.locator("#statement-totals")).to_contain_text("960.00")
    press(page, page.locator(f'main a[href$="/billing/{statement_id}/send"]'))
    press(page, page.locator("main form button[type=submit]"))
    expect(page.locator("#statement-status")).to_have_text(support.zh(app, "Sent to the contractor"))

    # A's manager confirms it.
    manager = _signed_in(browser, live_server, "a-manager", tenant="ganxian")
    manager.goto("/billing/")
    press(manager, manager.get_by_role("link", name=number))
    expect(manager.locator("main details").first).to_contain_text("12")
    press(manager, manager.locator(f'main a[href$="/billing/{statement_id}/confirm"]'))
    press(manager, manager.locator("main form button[type=submit]"))
    expect(manager.locator("#statement-status")).to_have_text(support.zh(app, "Confirmed by the contractor"))
    manager.context.close()

    # Finance, who neither prepared nor sent it, approves it.
    finance = _signed_in(browser, live_server, "gx-finance")
    finance.goto(f"/billing/{statement_id}")
    press(finance, finance.locator(f'main a[href$="/billing/{statement_id}/approve"]'))
    press(finance, finance.locator("main form button[type=submit]"))
    expect(finance).to_have_url(f"{live_server.url}/billing/{statement_id}")
    expect(finance.locator("#statement-status")).to_have_text(support.zh(app, "Approved"))
    expect(finance.locator("#statement-history tbody tr")).to_have_count(4)  # prepared, sent, confirmed, approved
    finance.screenshot(path="test-artifacts/screenshots/settlement-approved.png", full_page=True)

    # The print page has no navigation; the budget view counts the approved statement as settled.
    finance.goto(f"/billing/{statement_id}/print")
    expect(finance.locator(".site-nav")).to_have_count(0)
    expect(finance.locator("#statement-status")).to_have_text(support.zh(app, "Approved"))
    finance.emulate_media(media="print")
    expect(finance.locator("main .toolbar")).to_be_hidden()
    finance.screenshot(path="test-artifacts/screenshots/settlement-print.png", full_page=True)
    finance.emulate_media(media="screen")
    finance.goto("/billing/budget")
    expect(finance.locator("main svg.quota-chart").first).to_be_visible()
    expect(finance.locator(f'main tr[data-contract="{world["contract"]}"]')).to_contain_text("960.00")
    finance.screenshot(path="test-artifacts/screenshots/settlement-budget.png", full_page=True)
    finance.context.close()

    assert sw.statement_row(app, statement_id) == ("approved", 96_000, 0, 96_000)
