"""Issue 22 item 2 in a real browser: finance who sent a statement sees its approval disabled —
grey, a not-allowed cursor, the one reason beside it — and the other finance reviewer approves it
through one confirmation (the confirm page, which names the statement and its net amount; no
browser dialog). axe finds no serious or critical violation on either page."""
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests import support
from tests import settlement_world as sw
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_foundation_browser import press, sign_in
from tests.browser.test_public_a11y import _serious

pytestmark = pytest.mark.browser
MONTH = "2026-10"
BLUE = "rgb(11, 79, 156)"  # var(--link): what an enabled button looks like




@pytest.fixture
def confirmed_sent_by_finance(app, demo):
    """October's statement prepared and sent by gx-finance, confirmed by A's manager."""
    from portal.billing import workflow
    from portal.billing.models import Statement
    from portal.extensions import db
    world = sw.care_contract(app)
    sw.add_visits(app, world, MONTH, 3)
    sw.finance_colleague(app)
    statement_id = sw.prepare(app, world, MONTH, by="gx-finance")
    with app.app_context(), sw.scope(app):
        statement = db.session.get(Statement, statement_id)
        workflow.send_to_contractor(statement, sw.user("gx-finance"))
        workflow.confirm(statement, sw.user("a-manager"))
        db.session.commit()
        return {"id": statement_id, "number": statement.number, "net_fen": statement.net_fen}


def test_finance_sees_the_approval_disabled_and_the_colleague_approves_with_one_confirmation(
        app, page, live_server, browser, confirmed_sent_by_finance):
    statement_id, number = confirmed_sent_by_finance["id"], confirmed_sent_by_finance["number"]
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    sign_in(page, "gx-finance")
    page.goto(f"/billing/{statement_id}")
    approve = page.locator("#approve-action")
    expect(approve).to_be_disabled()
    expect(approve).to_have_css("cursor", "not-allowed")
    assert approve.evaluate("e => getComputedStyle(e).backgroundColor") != BLUE
    reason = support.zh(app, "You prepared or sent this statement: another finance reviewer must approve it (four eyes).")
    expect(page.locator("#approve-action-why")).to_have_text(reason)
    expect(page.locator("#approve-action-why")).to_be_visible()
    expect(page.get_by_text(reason)).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "actions-approval-disabled.png"), full_page=True)
    found = _serious(Axe().run(page))
    assert not found, found
    page.context.clear_cookies()

    colleague = page
    sign_in(colleague, "gx-finance2")
    colleague.goto(f"/billing/{statement_id}")
    expect(colleague.locator("#approve-action")).to_have_css("cursor", "pointer")
    press(colleague, colleague.locator("#approve-action"))
    what = colleague.locator("#what-will-happen")
    expect(what).to_contain_text(number)
    expect(what).to_contain_text(MONTH)
    net = confirmed_sent_by_finance["net_fen"]
    expect(what).to_contain_text(f"{net // 100:,}.{net % 100:02d}")
    found = _serious(Axe().run(colleague))
    assert not found, found
    colleague.screenshot(path=str(SCREENSHOTS / "actions-approve-confirm.png"), full_page=True)
    press(colleague, colleague.locator("#step-button"))
    expect(colleague).to_have_url(f"{live_server.url}/billing/{statement_id}")
    expect(colleague.locator("#statement-status")).to_have_text(support.zh(app, "Approved"))
    assert dialogs == []  # the confirm page was the one confirmation
    assert sw.statement_row(app, statement_id)[0] == "approved"


def test_a_question_for_a_new_record_names_what_the_form_holds(app, page, live_server, demo):
    """The blacklist form's question shows the organisation chosen and the dates typed ({field}
    tokens filled in by portal.js); dismissing it records nothing."""
    from sqlalchemy import func, select

    from portal.contractors.models import BlacklistEntry
    from portal.extensions import db
    def entries():
        with app.app_context(), sw.scope(app):
            return db.session.execute(select(func.count()).select_from(BlacklistEntry)).scalar_one()
    before = entries()
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    sign_in(page, "gx-officer")
    page.goto("/contractors/blacklist")
    organisation = page.locator("select[name=contractor]")
    chosen = organisation.locator("option").nth(1)
    name = chosen.inner_text()
    organisation.select_option(chosen.get_attribute("value"))
    page.locator("[name=reason]").fill("提供虚假材料")
    page.locator("input[name=starts_on]").fill("2026-12-01")
    page.locator("input[name=ends_on]").fill("2027-11-30")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("select[name=contractor]")).to_be_visible()
    assert len(asked) == 1, asked
    assert name in asked[0] and "2026-12-01" in asked[0] and "2027-11-30" in asked[0] and "{" not in asked[0]
    assert entries() == before
