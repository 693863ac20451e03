"""Contracts through a real browser: an officer creates a contract from the awarded tender,
signs it and sees its contract notice scheduled, with its due date."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests import contract_world as cw
from tests import support
from tests.browser.test_foundation_browser import press, sign_in

pytestmark = pytest.mark.browser


def test_officer_creates_a_contract_from_the_award_signs_it_and_sees_the_notice_scheduled(app, page, live_server,
                                                                                          demo):
    from portal.contracts.models import Contract
    from portal.core.timeutil import local_today
    from portal.extensions import db
    world = cw.awarded(app, amount_fen=10_800_000, quantity=1200, unit_prices={"CARE-VISIT": 9000})
    page.on("dialog", lambda dialog: dialog.accept())

    sign_in(page, "gx-officer")
    page.goto("/contracts/")
    press(page, page.locator(f'a[href$="/contracts/new/{world["award"]}"]'))
    expect(page.locator("input[name='items-0-unit_price']")).to_have_value("90.00")  # from the winning bid
    expect(page.locator("main .clause")).to_contain_text("转包")
    page.locator("input[name='items-0-min_minutes']").fill("30")
    page.locator("input[name='items-0-max_minutes']").fill("240")
    page.locator("input[name='items-0-photo_required']").check()
    press(page, page.locator("main form button[type=submit]"))
    expect(page).to_have_url(re.compile(rf"{live_server.url}/contracts/\d+$"))
    expect(page.locator("#contract-status")).to_have_text("草稿")
    expect(page.locator("main svg.quota-chart")).to_be_visible()

    press(page, page.locator('main a[href$="/sign"]'))
    press(page, page.locator("main form button[type=submit]"))
    expect(page.locator("#contract-status")).to_have_text("已签订")
    due = support.fixture_calendar().add_working_days(local_today(), 2)
    expect(page.locator("#contract-deadlines")).to_contain_text(due.isoformat())
    expect(page.locator("#contract-deadlines")).to_contain_text("合同公告")

    with app.app_context(), cw.scope(app):
        contract = db.session.execute(select(Contract)).scalar_one()
        assert (contract.status, contract.signed_on, contract.notice_due_on) == ("signed", local_today(), due)
        assert contract.amount_fen == 10_800_000 and contract.items[0].photo_required
