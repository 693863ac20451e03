"""The procurement officer's path (issue 22 items 2 and 4): 开标 offered once and never after the
bids were opened; each action offered in its stage and, outside it, shown disabled with its reason;
the bid-validity decision pre-set; no to-do the officer cannot act on; each form and list states
its rule with this object's day before anything is typed."""
import re
from datetime import timedelta

from portal.core.money import format_fen
from portal.core.timeutil import format_local, local_today, utcnow
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from tests import support
from tests import tender_world as tw

WHY = re.compile(r'<button type="button" class="button" disabled aria-describedby="([a-z-]+-why)">([^<]+)</button>\s*'
                 r'<span class="why" id="([a-z-]+-why)">([^<]+)</span>')


def _disabled(body):
    """{label: reason} of the disabled actions, each button described by its own reason."""
    found = {}
    for described_by, label, span_id, reason in WHY.findall(body):
        assert described_by == span_id and reason.strip()
        found[label.strip()] = reason.strip()
    return found


def _opened_tender(app, bids=3, valid=None):
    """An open tender past its deadline with ``bids`` bids (validity undecided), not yet opened."""
    ids = tw.make_tender(app, deadline=utcnow() + timedelta(days=1))
    for n in range(bids):
        firm = tw.make_contractor(app, name=f"开标测试机构{n}{ids['tender']}", manager=f"open-{ids['tender']}-{n}")
        tw.add_opened_bid(app, ids["lots"][0], firm["id"], 150_000_00 + n * 1000_00, valid=valid)
    tw.pass_deadline(app, ids["tender"])
    return ids


def test_open_bids_is_offered_until_the_bids_are_opened_and_never_after(app, demo, login):
    ids = _opened_tender(app)
    officer = login("gx-officer")
    url = f"/tenders/{ids['tender']}/evaluation"
    before = officer.get(url).get_data(as_text=True)
    assert f'action="/tenders/{ids["tender"]}/evaluation/open"' in before and "截止投标并开标</button>" in before
    assert support.form_post(officer, f"{url}/open", {}, token_url=url).status_code == 302
    after = officer.get(url).get_data(as_text=True)
    assert "/evaluation/open" not in after                 # no 开标 of any kind once opened
    assert ">开标</button>" not in after and "截止投标并开标</button>" not in after
    assert 'id="opened"' in after and "已于" in after
    # the tender page no longer offers opening either; its way into evaluation is a link
    detail = officer.get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert "/evaluation/open" not in detail and f'href="{url}"' in detail


def test_the_hourly_job_opens_the_bids_so_no_opening_is_left_to_do(app, demo, login):
    from portal.tenders.models import Bid, Tender
    from portal.tenders.services import close_due_bidding
    ids = _opened_tender(app, bids=3)
    with app.test_request_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        assert ids["tender"] in close_due_bidding()
        db.session.commit()
        tender = db.session.get(Tender, ids["tender"])
        assert tender.status == "evaluation" and tender.opened_at is not None
        assert all(bid.valid is None for bid in db.session.query(Bid).filter_by(lot_id=ids["lots"][0]))
    body = login("gx-officer").get(f"/tenders/{ids['tender']}/evaluation").get_data(as_text=True)
    assert "/evaluation/open" not in body and 'id="opened"' in body


def test_validity_is_pre_set_to_valid_and_a_missing_choice_gets_a_chinese_message(app, demo, login):
    ids = _opened_tender(app)
    tw.evaluation_ready(app, ids["tender"])
    officer = login("gx-officer")
    url = f"/tenders/{ids['tender']}/evaluation"
    body = officer.get(url).get_data(as_text=True)
    radios = re.findall(r'<input type="radio" name="decision" value="(valid|invalid)"([^>]*)>', body)
    assert radios and all(("checked" in attrs) == (value == "valid") for value, attrs in radios)
    from portal.tenders.models import Bid
    with app.app_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        bid_id = db.session.query(Bid.id).filter_by(lot_id=ids["lots"][0]).first()[0]
    refused = support.form_post(officer, f"/tenders/bids/{bid_id}/validity", {}, token_url=url, follow_redirects=True)
    assert refused.status_code == 200
    assert "请选择投标有效或无效" in refused.get_data(as_text=True)


def test_actions_outside_their_stage_are_disabled_with_the_reason(app, demo, login):
    ids = tw.make_tender(app, deadline=utcnow() + timedelta(days=5))
    officer = login("gx-officer")
    deadline = format_local(ids["deadline"])
    detail = officer.get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    disabled = _disabled(detail)
    assert "编辑" in disabled                                      # published: no editing
    assert deadline in disabled["开标、评审与定标"]                  # sealed until the deadline
    assert f'href="/tenders/{ids["tender"]}/clarify"' in detail   # in its stage: offered
    overview = officer.get(f"/tenders/{ids['tender']}/evaluation").get_data(as_text=True)
    assert deadline in _disabled(overview)["截止投标并开标"]
    assert "/evaluation/open" not in overview
    # after the deadline the clarification is disabled with the day that passed
    tw.pass_deadline(app, ids["tender"])
    detail = officer.get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert "发布澄清或修改" in _disabled(detail) and f'/tenders/{ids["tender"]}/clarify"' not in detail
    # who may not take an action is not offered it, not even disabled
    supervisor = login("gx-supervisor").get(f"/tenders/{ids['tender']}").get_data(as_text=True)
    assert not _disabled(supervisor)


def test_the_ranking_page_shows_the_award_disabled_until_scored_and_its_days(app, demo, login):
    from portal.tenancy.workdays import tenant_calendar
    from portal.tenders import deadlines
    ids = _opened_tender(app)
    tw.evaluation_ready(app, ids["tender"])
    body = login("gx-officer").get(f"/tenders/lots/{ids['lots'][0]}/ranking").get_data(as_text=True)
    assert "确定中标（成交）供应商并公告结果" in _disabled(body)
    with app.test_request_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        until = deadlines.challenge_until(local_today(), tenant_calendar())
    note = re.search(r'<p class="rule-note" id="rule-note">(.*?)</p>', body, re.S).group(1)
    assert until.isoformat() in note


def test_a_contract_notice_is_no_to_do_but_listed_as_published_by_the_portal(app, demo, login):
    from tests import contract_world as cw
    world = cw.awarded(app, notice_on=local_today() - timedelta(days=3))
    contract_id = cw.signed(app, world, on=local_today())
    officer = login("gx-officer")
    page = officer.get("/disclosures/due").get_data(as_text=True)
    todo = re.search(r'<table id="to-do">(.*?)</table>', page, re.S).group(1)
    automatic = re.search(r'<section aria-labelledby="automatic-heading" id="automatic">(.*?)</section>', page, re.S)
    assert automatic and f'href="/contracts/{contract_id}"' in automatic.group(1)
    assert f"/contracts/{contract_id}" not in todo
    rows = [row for row in re.findall(r"<tr>(.*?)</tr>", todo, re.S) if "<td" in row and "colspan" not in row]
    assert all("<a " in row for row in rows)                        # every to-do leads somewhere
    home = officer.get("/").get_data(as_text=True)
    card = re.search(r'<a href="/disclosures/due"><span class="card-value">(\d+)</span>', home)
    assert card and int(card.group(1)) == len(rows)


def test_forms_and_lists_state_their_rule_with_this_objects_day(app, demo, login):
    from portal.tenancy.workdays import tenant_calendar
    from portal.tenders import deadlines
    from tests import contract_world as cw
    officer = login("gx-officer")

    def note(body):
        found = re.search(r'<(?:p|ul) class="rule-note" id="rule-note">(.*?)</(?:p|ul)>', body, re.S)
        assert found, "no rule note"
        return found.group(1)

    # contract form: signing by day 30 of the award notice, the bond's ceiling, the subcontracting ban
    world = cw.awarded(app, notice_on=local_today() - timedelta(days=4), amount_fen=12_345_600)
    with app.test_request_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        sign_by = deadlines.contract_sign_by(world["notice_on"], tenant_calendar())
    text = note(officer.get(f"/contracts/new/{world['award']}").get_data(as_text=True))
    assert sign_by.isoformat() in text and format_fen(12_345_600 // 10) in text and "转包" in text
    # clarification form: the last day a change may come without moving the deadline
    ids = tw.make_tender(app, deadline=utcnow() + timedelta(days=40))
    with app.test_request_context(), tenant_scope(tw.tenant_id(app, "ganxian")):
        due = deadlines.clarification_due_on(ids["deadline"], tenant_calendar(), "open_tender")
    text = note(officer.get(f"/tenders/{ids['tender']}/clarify").get_data(as_text=True))
    assert due.isoformat() in text and "15" in text
    # the bidder's form: sealed, and refused after the deadline
    firm = tw.make_contractor(app, name=f"规则测试机构{ids['tender']}", manager=f"rule-{ids['tender']}")
    text = note(login(firm["manager"], tenant="ganxian").get(f"/tenders/lots/{ids['lots'][0]}/my-bid").get_data(as_text=True))
    assert format_local(ids["deadline"]) in text and "密封" in text
    # the lists: tenders (the 30-day intention) and disclosures due (publication deadlines)
    assert "30" in note(officer.get("/tenders/").get_data(as_text=True))
    text = note(officer.get("/disclosures/due").get_data(as_text=True))
    assert str(deadlines.INTENTION_LEAD_DAYS) in text and str(deadlines.CONTRACT_PUBLISH_WORKING_DAYS) in text


def test_a_draft_contract_offers_signing_only_when_it_may_be_signed(app, demo, login):
    from portal.tenders.models import Award, Challenge
    from tests import contract_world as cw
    world = cw.awarded(app, notice_on=local_today() - timedelta(days=2))
    contract_id = cw.draft(app, world)
    officer = login("gx-officer")
    body = officer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert f'href="/contracts/{contract_id}/sign"' in body and not _disabled(body)
    with app.app_context(), cw.scope(app):
        db.session.add(Challenge(award=db.session.get(Award, world["award"]), received_at=utcnow(),
                                 challenger="甲社工服务中心", grounds="评分有误", may_change_result=True))
        db.session.commit()
    body = officer.get(f"/contracts/{contract_id}").get_data(as_text=True)
    assert f'href="/contracts/{contract_id}/sign"' not in body
    assert "质疑" in _disabled(body)["签订"]


def test_the_lot_item_and_criterion_forms_state_what_is_left(app, demo, login):
    ids = tw.make_tender(app, status="draft", price_weight=25, lots=((300_000_00, "照料"),))
    officer = login("gx-officer")

    def note(url):
        body = officer.get(url).get_data(as_text=True)
        return re.search(r'<ul class="rule-note" id="rule-note">(.*?)</ul>', body, re.S).group(1)

    text = note(f"/tenders/{ids['tender']}/criteria/new")
    assert "75 分" in text and "合计 75 分" in text                # 100 − 25, the two criteria give 50 + 25
    text = note(f"/tenders/{ids['tender']}/lots/{ids['lots'][0]}/items/new")
    assert format_fen(300_000_00) in text and format_fen(1000 * (300_000_00 // 1000)) in text
    assert "最高限价" in note(f"/tenders/{ids['tender']}/lots/new")
