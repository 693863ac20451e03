"""The whole story across roles in one browser run (issue 22 item 9): an officer publishes a tender
(its purchase intention out 40 days before) → contractor A's manager submits a sealed bid → after
the deadline the officer opens the bids, records the committee's scores and confirms the award (the
award notice goes out) → the officer drafts the contract with its service item, signs and
activates it → a field worker on a phone is warned before checking in far from the home (V02),
goes on with a reason that the supervisor later reads, and makes a second visit offline, sent once
back online → the manager answers the exception and the supervisor accepts it → the supervisor
draws the month's spot-check sample and records a call-back → finance prepares and sends the
month's statement, the manager confirms it, finance who sent it sees its approval disabled with the
reason and a second finance user approves it through the confirm page alone (four eyes) → the public notices and the OCDS releases tell the story without private data.

What a test cannot wait for is set in the database: the intention published 40 days ago, the bid
deadline passed (with two other bids and the committee), the contract's visits moved into last
month (a statement and a spot-check sample are only for a month that has ended), and the hourly job
that publishes the contract notice run once. Every page the test visits is checked by axe-core
(public pages in the standard view and in 关怀版); the serious or critical findings are gathered
and asserted once at the end, by page. A screenshot of each step goes to test-artifacts/story/."""
import json
import re
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from tests import beneficiary_world as bw
from tests import settlement_world as sw
from tests import support
from tests import tender_world as tw
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_foundation_browser import press, sign_in
from tests.browser.test_public_a11y import _serious
from tests.browser.test_tender_browser import _tender_ready_for_its_notice
from tests.tender_world import PDF

pytestmark = pytest.mark.browser

STORY = SCREENSHOTS.parent / "story"
AXE = Axe()
HOME = {"lat": 25.861, "lon": 115.012}
AT_HOME = {"latitude": 25.8612, "longitude": 115.0121, "accuracy": 12}
FAR_AWAY = {"latitude": 25.8700, "longitude": 115.0120, "accuracy": 15}  # about 1 km north of the home
PEOPLE = (("刘桂英", 31), ("陈德福", 32))
FAR_REASON, FAR_DETAIL = "服务对象不在家，在其他地点服务", "老人在村委会门口等候"  # the worker's reason for going on
# the people served, their address, phone and coordinates, the field worker's name, the losing bids' prices
PRIVATE = ("刘桂英", "陈德福", "城郊村下坝组15号", "13979700001", "25.861", "115.012", "陈晓红")


class Story:
    """Numbered steps: a screenshot of each, and axe's serious or critical findings by page."""

    def __init__(self, browser, live_server, problems):
        self.browser, self.live_server, self.problems = browser, live_server, problems
        self.step, self.findings, self.contexts, self.checked, self.dialogs = 0, {}, [], [], []
        STORY.mkdir(parents=True, exist_ok=True)

    def person(self, username, tenant=None, phone=False):
        context = self.browser.new_context(base_url=self.live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                           viewport={"width": 390, "height": 844} if phone else
                                           {"width": 1280, "height": 800})
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: (self.dialogs.append((username, dialog.message)), dialog.accept()))
        # the other people's pages are watched like the page fixture's: a script error fails the test
        page.on("pageerror", lambda error: self.problems.append(f"{username or 'public'}: JavaScript error: {error}"))
        page.on("console", lambda message: self.problems.append(f"{username or 'public'}: console error: {message.text}")
                if message.type == "error" and not message.text.startswith("Failed to load resource") else None)
        if username:
            sign_in(page, username)
            if tenant:
                page.locator("select[name=tenant]").select_option(tenant)  # a manager chooses the bureau
                press(page, page.locator("main form button[type=submit]"))
        return page

    def look(self, page, name):
        """Axe on the page as it is now, and the step's screenshot."""
        self.step += 1
        page.evaluate("0")  # a round trip: console events already sent are dispatched
        expect(page.locator("h1")).not_to_have_text(re.compile("页面不存在|无权访问|出错"))
        label = f"{self.step:02d}-{name}"
        results = AXE.run(page)
        self.checked.append((label, len(results.response["passes"])))
        found = _serious(results)
        if found:
            self.findings[f"{label} ({page.url.replace(self.live_server.url, '')})"] = found
        page.screenshot(path=str(STORY / f"{label}.png"), full_page=True)

    def close(self):
        for context in self.contexts:
            context.close()


def _in_ganxian(app):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(support.World(app).tenant_id("ganxian"))


def _add_committee(app, tender_id):
    """Five experts (87号令 §47), as the officer would type them one by one."""
    from portal.extensions import db
    from portal.tenders import evaluation
    from portal.tenders.models import Tender
    with app.app_context(), _in_ganxian(app):
        tender = db.session.get(Tender, tender_id)
        for name in tw.COMMITTEE:
            evaluation.add_expert(tender, name)
        db.session.commit()


def _second_finance_user(app):
    """A second finance reviewer of 赣县区 (four eyes: who prepared or sent may not approve)."""
    from portal.accounts.models import User
    from portal.extensions import db
    with app.app_context():
        first = db.session.execute(select(User).where(User.username == "gx-finance")).scalar_one()
        second = User(username="gx-finance2", display_name="财务复核二", role=first.role, tenant_id=first.tenant_id)
        second.set_password(support.PASSWORD)
        db.session.add(second)
        db.session.commit()


def _into_last_month(app, contract_id):
    """The contract's visits happened today; move them (and the contract's start) into last month,
    as if the story had taken a month — statements and spot-check samples are for ended months."""
    from portal.contracts.models import Contract
    from portal.core.timeutil import local_today
    from portal.extensions import db
    from portal.visits.models import Visit
    today = local_today()
    shift = timedelta(days=today.day + 5)  # the same time of day, in last month
    with app.app_context(), _in_ganxian(app):
        contract = db.session.get(Contract, contract_id)
        contract.starts_on = (today - shift).replace(day=1)
        visits = db.session.execute(select(Visit).where(Visit.contract_id == contract_id)).scalars().all()
        moved = [(visit, ("check_in_at", "check_out_at", "received_at", "verified_at")) for visit in visits]
        moved += [(found, ("raised_at", "responded_at", "decided_at")) for visit in visits for found in visit.exceptions]
        for row, names in moved:
            for name in names:
                if getattr(row, name) is not None:
                    setattr(row, name, getattr(row, name) - shift)
        db.session.commit()
        return (today - shift).strftime("%Y-%m")


def _publish_scheduled_contract_notices(app):
    """What the hourly job does: publish the contract notices that are scheduled."""
    from portal.contracts import services
    from portal.extensions import db
    with app.app_context(), _in_ganxian(app):
        published, _ = services.publish_due_notices()
        db.session.commit()
        return published


def _notices(app):
    """The bureau's published tender, award and contract notices: {kind: id}."""
    from portal.disclosures import Disclosure
    from portal.extensions import db
    with app.app_context(), _in_ganxian(app):
        rows = db.session.execute(select(Disclosure).where(Disclosure.published_at.is_not(None))
                                  .order_by(Disclosure.id)).scalars().all()
        return {row.kind: row.id for row in rows
                if row.kind in ("tender_notice", "award_result", "contract_notice")}


def test_the_whole_story_from_tender_to_approved_statement_and_public_notices(app, page, live_server, demo, browser,
                                                                             run_worker, browser_problems):
    from portal.billing.models import Statement
    from portal.contracts.models import Contract
    from portal.extensions import db
    from portal.visits.models import Visit, VisitException
    story = Story(browser, live_server, browser_problems)
    try:
        _play(app, page, live_server, browser, run_worker, story)
    finally:
        story.close()
    with support.as_platform(app):
        contract = db.session.execute(select(Contract)).scalar_one()
        visits = db.session.execute(select(Visit).where(Visit.contract_id == contract.id)).scalars().all()
        assert sorted(v.status for v in visits) == ["verified", "verified"]
        assert [e.status for e in db.session.execute(select(VisitException)).scalars()] == ["accepted"]
        statement = db.session.execute(select(Statement).where(Statement.contract_id == contract.id)).scalar_one()
    # both visits paid at the bid's 90.00 yuan, the far check-in's once its exception was accepted
    assert sw.statement_row(app, statement.id) == ("approved", 18_000, 0, 18_000)
    assert len(story.checked) == story.step and all(passes for _, passes in story.checked)  # axe ran on every step
    assert not story.findings, "axe found serious or critical violations:\n" + json.dumps(
        story.findings, ensure_ascii=False, indent=1)


def _play(app, officer, live_server, browser, run_worker, story):  # noqa: C901 — one story, told in order
    from portal.billing.models import Statement
    from portal.extensions import db
    from portal.spotchecks.models import SpotCheck
    from portal.visits.models import Visit, VisitException
    url = live_server.url
    officer.on("dialog", lambda dialog: dialog.accept())
    officer.context.set_default_timeout(10_000)
    _second_finance_user(app)

    # 1. Tender: the intention went out 40 days ago; the officer publishes the tender notice.
    tender_id, lot_id = _tender_ready_for_its_notice(app, support.World(app))
    sign_in(officer, "gx-officer")
    story.look(officer, "officer-home")
    officer.goto(f"/tenders/{tender_id}")
    story.look(officer, "tender-draft")
    press(officer, officer.locator(f'a[href$="/tenders/{tender_id}/publish"]'))
    story.look(officer, "tender-publish-confirm")
    press(officer, officer.locator("main form button[type=submit]"))
    expect(officer).to_have_url(f"{url}/tenders/{tender_id}")
    story.look(officer, "tender-published")

    # 2. Bid: A's manager submits a sealed bid.
    manager = story.person("a-manager", tenant="ganxian")
    story.look(manager, "manager-home")
    manager.goto(f"/tenders/{tender_id}")
    story.look(manager, "manager-tender")
    press(manager, manager.locator(f'a[href$="/tenders/lots/{lot_id}/my-bid"]'))
    manager.locator("input[name=price]").fill("450000.00")  # 5000 visits at 90.00 yuan
    manager.locator("input[name=staff]").first.check()
    manager.locator('input[name="unit_CARE-VISIT"]').fill("90.00")
    manager.locator("input[name=proposal]").set_input_files(
        {"name": "技术方案.pdf", "mimeType": "application/pdf", "buffer": PDF})
    story.look(manager, "bid-form")
    press(manager, manager.locator("main form button[type=submit]").first)
    expect(manager.locator("main")).to_contain_text("450,000.00")
    story.look(manager, "bid-submitted")
    officer.reload()  # sealed: the bureau sees no price before the deadline
    expect(officer.locator("main")).not_to_contain_text("450,000.00")

    # 3. Evaluation: two other bids, the deadline passes; the officer opens, scores and awards.
    others = [tw.add_opened_bid(app, lot_id, bw.contractor_of(app, name), price)
              for name, price in (("d-manager", 48_000_000), ("e-manager", 49_000_000))]
    tw.pass_deadline(app, tender_id)
    officer.goto(f"/tenders/{tender_id}/evaluation")
    story.look(officer, "evaluation-before-opening")
    press(officer, officer.locator(f'form[action$="/tenders/{tender_id}/evaluation/open"] button'))
    expect(officer.locator("main")).to_contain_text("450,000.00")
    _add_committee(app, tender_id)
    officer.reload()
    own = officer.locator("main tbody tr", has_text="阳光")
    own.locator("input[value=valid]").check()
    press(officer, own.locator("button[type=submit]"))
    story.look(officer, "evaluation-opened")
    officer.goto(f"/tenders/lots/{lot_id}/scores")
    marks = {"阳光": ("44", "24"), "同心": ("40", "20"), "和美": ("38", "20")}  # of 45 and 25
    for row_text, (technical, business) in marks.items():
        row = officer.locator("main table tbody tr", has_text=row_text)
        for cell in row.locator("input[name^='t-']").all():
            cell.fill(technical)
        for cell in row.locator("input[name^='b-']").all():
            cell.fill(business)
    story.look(officer, "scores")
    press(officer, officer.get_by_role("button", name="保存评分"))
    expect(officer.locator("main .flash-error")).to_have_count(0)
    officer.goto(f"/tenders/lots/{lot_id}/ranking")
    expect(officer.locator("main tbody tr").first).to_contain_text("阳光")  # A first of the three bids
    expect(officer.locator("main tbody tr")).to_have_count(len(others) + 1)
    story.look(officer, "ranking")
    press(officer, officer.locator(f'form[action$="/tenders/lots/{lot_id}/award"] button'))
    expect(officer).to_have_url(re.compile(r"/tenders/awards/\d+$"))
    award_id = int(officer.url.rsplit("/", 1)[1])
    story.look(officer, "award-notice")

    # 4. Contract: drafted from the award with its service item, signed and put in force.
    officer.goto("/contracts/")
    story.look(officer, "contracts-awaiting")
    press(officer, officer.locator(f'a[href$="/contracts/new/{award_id}"]'))
    officer.locator("input[name='items-0-min_minutes']").fill("0")
    officer.locator("input[name='items-0-max_minutes']").fill("240")
    photo = officer.locator("input[name='items-0-photo_required']")
    if photo.is_checked():
        photo.uncheck()
    story.look(officer, "contract-form")
    press(officer, officer.locator("main form button[type=submit]"))
    expect(officer).to_have_url(re.compile(rf"{url}/contracts/\d+$"))
    contract_id = int(officer.url.rsplit("/", 1)[1])
    press(officer, officer.locator('main a[href$="/sign"]'))
    story.look(officer, "contract-sign-confirm")
    press(officer, officer.locator("main form button[type=submit]"))
    expect(officer.locator("#contract-status")).to_have_text("已签订")
    press(officer, officer.locator('main a[href$="/activate"]'))
    press(officer, officer.locator("main form button[type=submit]"))
    expect(officer.locator("main .flash-error")).to_have_count(0)
    story.look(officer, "contract-in-force")
    assert _publish_scheduled_contract_notices(app) == [contract_id]

    # The people the worker serves (registered and assigned at the bureau, not the story's subject).
    bw.put_on_work_list(app, "ganxian", contract_id, "a-worker1")
    people = {name: bw.register(app, "ganxian", name, bw.number(seq), **HOME) for name, seq in PEOPLE}
    for person in people.values():
        bw.assign(app, "ganxian", contract_id, person, "a-worker1")

    # 5. Visits on a phone: the first checked in 1 km from the home, the second made offline.
    worker = story.person(None, phone=True)
    worker.context.grant_permissions(["geolocation"], origin=url)
    worker.context.set_geolocation(FAR_AWAY)
    sign_in(worker, "a-worker1")
    expect(worker).to_have_url(re.compile(r"/field/$"))
    story.look(worker, "field-app")
    first = worker.locator(f"#card-{people['刘桂英']}-{contract_id}")
    second = worker.locator(f"#card-{people['陈德福']}-{contract_id}")
    first.locator("button.check-in").click()
    # warned before anything is sent; the worker chooses a reason, adds a word and goes on
    warning = worker.locator("#warning-dialog")
    expect(warning.locator("#warning-text")).to_contain_text("距服务对象住址约 1.0 公里，超出 300 米范围")
    row = first.locator(".visit-row")
    expect(row).to_have_count(0)
    story.look(worker, "field-far-warning")
    with support.as_platform(app):
        assert db.session.execute(select(Visit)).scalars().all() == []
    warning.get_by_label(FAR_REASON).check()
    warning.locator("#warning-other").fill(FAR_DETAIL)
    warning.locator("#warning-proceed").click()
    expect(warning).to_have_count(0)
    expect(row).to_have_attribute("data-state", "sent")
    worker.context.set_geolocation(AT_HOME)
    first.locator("button.check-out").click()
    expect(row.locator(".visit-times")).to_contain_text("–")
    expect(row).to_have_attribute("data-state", "sent")
    run_worker()
    story.look(worker, "field-first-visit")
    worker.context.set_offline(True)
    expect(worker.locator("#network-state")).to_have_class(re.compile(r"\bis-offline\b"))
    second.locator("button.check-in").click()
    offline_row = second.locator(".visit-row")
    expect(offline_row).to_have_attribute("data-state", "queued")
    second.locator("button.check-out").click()
    expect(worker.locator("#queue-count")).to_have_attribute("data-count", "1")
    story.look(worker, "field-offline-queued")
    with support.as_platform(app):
        assert len(db.session.execute(select(Visit)).scalars().all()) == 1  # the offline visit is on the phone
    worker.context.set_offline(False)
    expect(worker.locator("#queue-count")).to_have_attribute("data-count", "0", timeout=15_000)
    expect(offline_row).to_have_attribute("data-state", "sent")
    run_worker()
    expect(offline_row).to_have_attribute("data-status", "verified", timeout=30_000)
    story.look(worker, "field-back-online")
    with support.as_platform(app):
        visits = db.session.execute(select(Visit).order_by(Visit.id)).scalars().all()
        assert len(visits) == 2  # sent once
        flagged = db.session.execute(select(VisitException)).scalar_one()
        assert flagged.code == "V02" and flagged.visit_id == visits[0].id
        assert FAR_REASON in visits[0].notes and FAR_DETAIL in visits[0].notes and not visits[1].notes
        exception_id = flagged.id

    # 6. The exception: answered by A's manager, accepted by the supervisor.
    manager.goto("/supervision/exceptions")
    story.look(manager, "manager-exceptions")
    manager.goto(f"/supervision/exceptions/{exception_id}")
    manager.locator("select[name=reason]").select_option(index=1)
    manager.locator("textarea[name=text]").fill("老人当天在村委会门口等候，签到后一同步行回家服务。")
    story.look(manager, "exception-answer")
    press(manager, manager.locator(f'form[action$="/exceptions/{exception_id}/answer"] button[type=submit]'))
    expect(manager.locator("main .flash-error")).to_have_count(0)
    supervisor = story.person("gx-supervisor")
    story.look(supervisor, "supervisor-home")
    supervisor.goto(f"/supervision/exceptions/{exception_id}")
    # the worker's reason for checking in far away reaches the supervisor with the distance
    notes = supervisor.locator("#visit-notes")
    expect(notes).to_contain_text("签到时距住址约 1.0 公里（范围 300 米）")
    expect(notes).to_contain_text(FAR_REASON)
    expect(notes).to_contain_text(FAR_DETAIL)
    story.look(supervisor, "exception-answered")
    press(supervisor, supervisor.locator(f'main a[href$="/exceptions/{exception_id}/accept"]'))
    supervisor.locator("textarea[name=note]").fill("村委会证明属实。")
    story.look(supervisor, "exception-decide")
    press(supervisor, supervisor.locator("main form button[type=submit]"))
    with support.as_platform(app):
        assert db.session.get(VisitException, exception_id).status == "accepted"

    # 7. A month later: the spot-check sample of the month, and a call-back recorded.
    month = _into_last_month(app, contract_id)
    supervisor.goto(f"/supervision/spot-checks/?month={month}")
    supervisor.locator("input[name=month]").fill(month)
    press(supervisor, supervisor.locator('form[action$="/spot-checks/draw"] button[type=submit]'))
    run_worker()
    supervisor.goto(f"/supervision/spot-checks/?month={month}")
    story.look(supervisor, "spot-checks")
    with support.as_platform(app):
        check_id = db.session.execute(select(SpotCheck.id).order_by(SpotCheck.id)).scalars().first()
    assert check_id is not None
    supervisor.goto(f"/supervision/spot-checks/{check_id}")
    supervisor.locator("input[name=method][value=phone]").check()
    supervisor.locator("input[name=outcome][value=confirmed]").check()
    supervisor.locator("select[name=satisfaction]").select_option("5")
    story.look(supervisor, "spot-check-form")
    press(supervisor, supervisor.locator("main form button[type=submit]").last)
    expect(supervisor.locator("main .flash-error")).to_have_count(0)
    story.look(supervisor, "spot-check-recorded")

    # 8. The month's statement: finance prepares and sends, the manager confirms, a second finance
    # user approves (four eyes).
    finance = story.person("gx-finance")
    story.look(finance, "finance-home")
    finance.goto("/billing/")
    finance.locator("#prepare-form input[name=month]").fill(month)
    press(finance, finance.locator("#prepare-form button[type=submit]"))
    run_worker()
    finance.reload()
    expect(finance.locator("main progress")).to_have_attribute("value", "100")
    story.look(finance, "billing-job")
    with support.as_platform(app):
        statement = db.session.execute(select(Statement).where(Statement.contract_id == contract_id)).scalar_one()
        statement_id = statement.id
    finance.goto(f"/billing/{statement_id}")
    story.look(finance, "statement-draft")
    press(finance, finance.locator(f'main a[href$="/billing/{statement_id}/send"]'))
    story.look(finance, "statement-send-confirm")
    press(finance, finance.locator("main form button[type=submit]"))
    expect(finance).to_have_url(f"{url}/billing/{statement_id}")
    expect(finance.locator(f'main a[href$="/billing/{statement_id}/approve"]')).to_have_count(0)
    with support.as_platform(app):
        assert db.session.get(Statement, statement_id).status == "sent"
    manager.goto(f"/billing/{statement_id}")
    story.look(manager, "statement-sent")
    press(manager, manager.locator(f'main a[href$="/billing/{statement_id}/confirm"]'))
    press(manager, manager.locator("main form button[type=submit]"))
    with support.as_platform(app):
        assert db.session.get(Statement, statement_id).status == "confirmed"
    # who sent it is shown the approval disabled, with the one reason (four eyes), and no way to it
    four_eyes = support.zh(app, "You prepared or sent this statement: another finance reviewer must approve it (four eyes).")
    finance.reload()
    approve = finance.locator("#approve-action")
    expect(approve).to_be_disabled()
    expect(finance.locator("#approve-action-why")).to_have_text(four_eyes)
    expect(finance.get_by_text(four_eyes)).to_have_count(1)
    expect(finance.locator(f'main a[href$="/billing/{statement_id}/approve"]')).to_have_count(0)
    story.look(finance, "statement-approve-disabled")
    with support.as_platform(app):
        assert db.session.get(Statement, statement_id).status == "confirmed"
    second_finance = story.person("gx-finance2")
    second_finance.goto(f"/billing/{statement_id}")
    story.look(second_finance, "statement-confirmed")
    press(second_finance, second_finance.locator(f'main a[href$="/billing/{statement_id}/approve"]'))
    expect(second_finance.locator("#what-will-happen")).to_contain_text(month)
    story.look(second_finance, "statement-approve-confirm")
    press(second_finance, second_finance.locator("main form button[type=submit]"))
    expect(second_finance).to_have_url(f"{url}/billing/{statement_id}")
    expect(second_finance.locator("#statement-history tbody tr")).to_have_count(4)
    story.look(second_finance, "statement-approved")
    # the confirm pages were the one confirmation: finance was never asked again by the browser
    assert not [asked for who, asked in story.dialogs if who in ("gx-finance", "gx-finance2")], story.dialogs

    # 9. The public: the tender, award and contract notices and the open data, nothing private.
    notices = _notices(app)
    assert set(notices) == {"tender_notice", "award_result", "contract_notice"}, notices
    public = story.person(None)
    pages = {"public-home": "/public/ganxian/", "public-notices": "/public/ganxian/notices"}
    pages.update({f"public-{kind}": f"/public/ganxian/notices/{ident}" for kind, ident in notices.items()})
    for care in (False, True):
        public.goto(f"/public/?care={'1' if care else '0'}")
        for name, path in pages.items():
            response = public.goto(path)
            assert response.status == 200, path
            text = public.locator("main").inner_text()
            assert not [word for word in PRIVATE if word in text], (path, text)
            if name != "public-home":
                assert "特困人员照料护理服务" in text, path
            if name in ("public-award_result", "public-contract_notice"):
                assert "赣州市阳光社会工作服务中心" in text and "450,000.00" in text, path
            story.look(public, f"{name}-{'care' if care else 'standard'}")
    releases = public.request.get("/api/v1/public/ganxian/ocds/releases")
    assert releases.status == 200
    body = releases.text()
    assert "GX-BROWSER-1" in body or "特困人员照料护理服务采购项目" in body
    assert not [word for word in PRIVATE if word in body]
    tags = {tag for release in releases.json()["releases"] for tag in release.get("tag", [])}
    assert {"tender", "award", "contract"} <= tags, tags
