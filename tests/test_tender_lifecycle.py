"""The tender state machine with its dates, the disclosures it publishes, the clarification
rule, the hourly closing job, and the officer's and contractor's pages."""
import uuid
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text

from portal.core.errors import DomainError
from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from portal.core.workdays import Calendar
from portal.dashboard.agenda import officer_agenda
from portal.disclosures import Disclosure
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.tenders import deadlines, services
from portal.tenders.models import Bid, BudgetLine, Tender
from tests import support

CAL = Calendar()


def at(day, clock=time(10, 0)):
    return datetime.combine(day, clock, tzinfo=LOCAL_TZ)


# --- factories --------------------------------------------------------------------------------

def make_line(amount_fen=100_000_000, name="社会救助专项资金", year=2026):
    line = BudgetLine(year=year, name=name, fund_source="区级财政", amount_fen=amount_fen)
    db.session.add(line)
    db.session.flush()
    return line


def make_tender(line=None, *, budget_fen=50_000_000, method="open_tender", price_weight=10, bond_fen=0,
                documents_from=date(2026, 9, 2), documents_until=date(2026, 9, 9),
                deadline=at(date(2026, 9, 22), time(9, 30)), user_id=None):
    """A complete draft: one lot with two items, criteria worth 100 less the price weight."""
    line = line or make_line()
    data = {"title": "特困人员自理能力评估服务", "method": method, "budget_line_id": line.id, "budget_fen": budget_fen,
            "bid_bond_fen": bond_fen, "price_weight_percent": price_weight, "buyer_contact": "区民政局社会救助股 0797-0000000",
            "description": "", "documents_from": documents_from, "documents_until": documents_until,
            "bid_deadline": deadline}
    tender = services.create_tender(data, SimpleNamespace(id=user_id))
    lot = services.save_lot(tender, None, title="自理能力评估", budget_fen=budget_fen, max_price_fen=budget_fen)
    # The items' quantity × maximum unit price stay within the lot's budget (smaller budgets: cheaper items).
    fits = budget_fen >= 1200 * 30_000 + 120 * 10_000
    services.save_item(lot, None, code="A01", name="自理能力评估", unit="assessment", quantity=1200,
                       max_unit_price_fen=30_000 if fits else budget_fen * 3 // 4 // 1200)
    services.save_item(lot, None, code="A02", name="复检", unit="visit", quantity=120,
                       max_unit_price_fen=10_000 if fits else budget_fen // 5 // 120)
    services.save_criterion(tender, None, kind="technical", name="服务方案", max_points=60)
    services.save_criterion(tender, None, kind="business", name="业绩与人员", max_points=30 + (10 - price_weight))
    return tender


def publish_both(tender, intention_at=at(date(2026, 8, 3)), notice_at=at(date(2026, 9, 2))):
    tender.publish_intention(intention_at, CAL)
    tender.publish_notice(notice_at, CAL)
    db.session.flush()


@pytest.fixture
def gx(app, demo):
    """Run the test body as the ganxian bureau; yields its tenant id."""
    tenant_id = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(tenant_id), force_locale("en"):
        yield tenant_id
        db.session.rollback()


def disclosures(kind):
    return db.session.execute(select(Disclosure).where(Disclosure.kind == kind)).scalars().all()


# --- the state machine --------------------------------------------------------------------------

def test_intention_then_notice_publish_disclosures_and_open_bidding(gx):
    tender = make_tender()
    tender.publish_intention(at(date(2026, 8, 3)), CAL)
    assert tender.status == "intention_published" and tender.intention.published_at == at(date(2026, 8, 3))
    [intention] = disclosures("purchase_intention")
    assert intention.subject_type == "purchase_intention" and intention.subject_id == tender.intention.id

    with pytest.raises(DomainError) as early:  # 29 days after the intention
        tender.publish_notice(at(date(2026, 9, 1)), CAL)
    assert "2026-09-02" in early.value.message
    assert tender.status == "intention_published" and disclosures("tender_notice") == []

    tender.publish_notice(at(date(2026, 9, 2)), CAL)
    assert tender.status == "tendering" and tender.notice_published_at == at(date(2026, 9, 2))
    [notice] = disclosures("tender_notice")
    assert notice.due_on == date(2026, 9, 2) and notice.published_at == at(date(2026, 9, 2)) and not notice.late
    assert tender.number in notice.title and "A01" in notice.body and "0797-0000000" in notice.body
    assert notice.data["lots"][0]["items"][0]["max_unit_price_fen"] == 30_000


def test_state_machine_refuses_wrong_moves_with_a_clear_message(gx):
    tender = make_tender()
    with pytest.raises(DomainError, match="Draft cannot be published"):
        tender.publish_notice(at(date(2026, 9, 2)), CAL)
    with pytest.raises(DomainError, match="cannot be closed for bids"):
        tender.close_bidding(at(date(2026, 9, 23)))
    with pytest.raises(DomainError, match="cannot be awarded"):
        tender.confirm_award(date(2026, 9, 30), CAL)
    with pytest.raises(DomainError, match="cannot be clarified"):
        tender.clarify("补充说明", False, at(date(2026, 9, 3)), CAL)
    publish_both(tender)
    with pytest.raises(DomainError, match="cannot be given a purchase intention"):
        tender.publish_intention(at(date(2026, 9, 3)), CAL)
    with pytest.raises(DomainError, match="cannot be edited"):
        services.save_lot(tender, None, title="second", budget_fen=1, max_price_fen=1)
    with pytest.raises(DomainError, match="not before"):
        tender.close_bidding(at(date(2026, 9, 22), time(9, 29)))
    with pytest.raises(DomainError, match="reason"):
        tender.cancel("  ")
    tender.close_bidding(at(date(2026, 9, 22), time(9, 30)))
    assert tender.status == "evaluation" and tender.opened_at == at(date(2026, 9, 22), time(9, 30))
    tender.confirm_award(date(2026, 9, 30), CAL)
    assert tender.status == "awarded" and tender.challenge_until == date(2026, 10, 20)
    with pytest.raises(DomainError, match="Awarded cannot be cancelled"):
        tender.cancel("改变主意")
    other = make_tender(make_line(name="另一条"))
    other.cancel("需求变化")
    assert other.status == "cancelled" and other.closed_reason == "需求变化"
    with pytest.raises(DomainError, match="Cancelled cannot be cancelled"):
        other.cancel("again")


def test_publishing_checks_the_whole_tender(gx):
    tender = make_tender()
    tender.publish_intention(at(date(2026, 8, 3)), CAL)
    tender.criteria[0].max_points = 50
    with pytest.raises(DomainError, match="must give 90 points"):
        tender.publish_notice(at(date(2026, 9, 2)), CAL)
    tender.criteria[0].max_points = 60
    tender.bid_deadline = at(date(2026, 9, 21), time(9, 30))  # 19 days
    with pytest.raises(DomainError, match="2026-09-22"):
        tender.publish_notice(at(date(2026, 9, 2)), CAL)


@pytest.mark.parametrize("weight, accepted", [(9, False), (10, True), (30, True), (31, False)])
def test_price_weight_for_services_is_10_to_30_percent(gx, weight, accepted):
    if accepted:
        assert make_tender(price_weight=weight).price_weight_percent == weight
    else:
        with pytest.raises(DomainError, match=f"not {weight} %"):
            make_tender(price_weight=weight)


def test_bid_bond_over_2_percent_of_the_budget_is_refused(gx):
    line = make_line()
    with pytest.raises(DomainError, match="20,000.00"):  # 2 % of 1,000,000.00 yuan
        make_tender(line, budget_fen=100_000_000, bond_fen=2_000_001)
    assert make_tender(line, budget_fen=100_000_000, bond_fen=2_000_000).bid_bond_fen == 2_000_000


def test_a_clarification_10_days_before_the_deadline_moves_it_and_every_bid_opening(gx, app):
    from portal.contractors.models import Contractor
    tender = make_tender()
    publish_both(tender)
    contractor = Contractor(name="赣州市阳光社工服务中心", credit_code="91360721TEST00001X", kind="social_work_agency",
                            legal_representative="张三")
    db.session.add(contractor)
    db.session.flush()
    db.session.add(Bid(lot_id=tender.lots[0].id, contractor_id=contractor.id, opens_at=tender.bid_deadline,
                       price_fen=45_000_000))
    db.session.flush()

    small = tender.clarify("更正联系电话", False, at(date(2026, 9, 12)), CAL)
    assert small.new_deadline == small.previous_deadline == at(date(2026, 9, 22), time(9, 30))

    clarification = tender.clarify("调整服务数量", True, at(date(2026, 9, 12), time(16, 0)), CAL)
    # 10 days before the deadline: it moves to 15 days after the clarification, same clock time —
    # 27 September is a Sunday, so Monday 28 September
    assert clarification.previous_deadline == at(date(2026, 9, 22), time(9, 30))
    assert tender.bid_deadline == clarification.new_deadline == at(date(2026, 9, 28), time(9, 30))
    opens = db.session.execute(text("SELECT opens_at FROM bid")).scalars().all()  # sealed: read raw
    assert len(opens) == 1 and str(opens[0]).startswith("2026-09-28 01:30")
    published = disclosures("clarification")
    assert len(published) == 2 and "2026-09-28 09:30" in published[1].body
    assert published[1].due_on == date(2026, 9, 13) and not published[1].late  # 15 days before the new deadline


def test_awarded_result_disclosure_deadlines_come_from_award_deadlines(gx):
    tender = make_tender()
    publish_both(tender)
    tender.close_bidding(at(date(2026, 9, 22), time(9, 30)))
    tender.confirm_award(date(2026, 9, 30), CAL)
    tender.record_result_published(at(date(2026, 9, 30), time(17, 0)), CAL)
    assert tender.challenge_until == date(2026, 10, 16)  # publicity 8 Oct, then 7 working days
    assert tender.contract_sign_by() == date(2026, 10, 30)


# --- the hourly job ------------------------------------------------------------------------------

@pytest.fixture
def own_queue(app, monkeypatch):
    """Test runs may share one Redis: this test's jobs go to a queue of its own."""
    monkeypatch.setitem(app.config, "JOB_QUEUE", f"portal-test-{uuid.uuid4().hex[:12]}")


def _past_tender():
    """A tender whose bid deadline passed some weeks ago (dates relative to today)."""
    today = local_today()
    documents_from = today - timedelta(days=45)
    deadline_day = deadlines.earliest_bid_deadline(documents_from, "open_tender", CAL)
    tender = make_tender(documents_from=documents_from,
                         documents_until=deadlines.documents_available_until(documents_from, CAL),
                         deadline=at(deadline_day, time(9, 30)))
    publish_both(tender, intention_at=at(documents_from - timedelta(days=40)), notice_at=at(documents_from))
    return tender


def test_the_closing_job_moves_a_past_deadline_tender_to_evaluation_exactly_once(app, demo, run_worker, own_queue):
    from portal.disclosures import publish
    from portal.jobs.models import JobRun
    from portal.jobs.queue import enqueue
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        past = _past_tender()
        today = local_today()
        future = make_tender(make_line(name="未来"), documents_from=today,
                             documents_until=deadlines.documents_available_until(today, CAL),
                             deadline=at(deadlines.earliest_bid_deadline(today, "open_tender", CAL), time(9, 30)))
        publish_both(future, intention_at=at(today - timedelta(days=40)), notice_at=at(today, time(0, 5)))
        late = publish("clarification", "迟到的澄清", "正文", None, local_today() - timedelta(days=3), utcnow())
        ids = past.id, future.id, late.id
        db.session.commit()
        first = enqueue("tenders.close_bidding_and_flag_late", tenant_id=gx).id
        db.session.commit()
    run_worker()
    with app.app_context(), tenant_scope(gx):
        past, future, late = db.session.get(Tender, ids[0]), db.session.get(Tender, ids[1]), db.session.get(Disclosure, ids[2])
        # the job opens the bids at the deadline too (87号令 §39): no bid, so the open-tender lot fails
        assert past.status == "failed" and past.opened_at is not None
        assert [lot.status for lot in past.lots] == ["failed"] * len(past.lots)
        assert future.status == "tendering"
        assert late.late_flagged_at is not None
        opened_at, flagged_at = past.opened_at, late.late_flagged_at
        second = enqueue("tenders.close_bidding_and_flag_late", tenant_id=gx).id
        db.session.commit()
        run_ids = first, second
    run_worker()
    with app.app_context(), tenant_scope(gx):
        past, late = db.session.get(Tender, ids[0]), db.session.get(Disclosure, ids[2])
        assert past.status == "failed" and past.opened_at == opened_at  # unchanged by the second run
        assert len(db.session.execute(select(Disclosure).where(Disclosure.kind == "failed_tender")).scalars().all()) \
            == len(past.lots)                                            # one failed-tender notice a lot, once
        assert late.late_flagged_at == flagged_at
        assert [db.session.get(JobRun, r).status for r in run_ids] == ["finished", "finished"]
        from portal.audit.models import AuditEntry
        moves = [e for e in db.session.execute(select(AuditEntry).where(
            AuditEntry.object_type == "Tender", AuditEntry.action == "update")).scalars()
            if (e.after or {}).get("status") == "evaluation"]
        assert len(moves) == 1


def test_the_periodic_schedule_runs_the_closing_job_hourly_per_bureau():
    from portal.jobs.schedule import PERIODIC
    [job] = [p for p in PERIODIC if p.task == "tenders.close_bidding_and_flag_late"]
    assert job.every == "hourly" and job.per_tenant


# --- pages ---------------------------------------------------------------------------------------

def _contractor_manager(app, username="cm-lifecycle"):
    from portal.accounts.models import User
    with app.app_context():
        user = User(username=username, display_name="承接主体经办", role="contractor_manager")
        user.set_password(support.PASSWORD)
        db.session.add(user)
        db.session.commit()


def test_contractor_managers_see_published_tenders_but_never_drafts(app, demo, login):
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        draft = make_tender()
        published = make_tender(make_line(name="已发布"))
        publish_both(published)
        draft_id, draft_number, published_id, published_number = draft.id, draft.number, published.id, published.number
        db.session.commit()
    _contractor_manager(app)
    manager = login("cm-lifecycle", tenant="ganxian")
    assert manager.get(f"/tenders/{draft_id}").status_code == 404
    assert manager.get(f"/tenders/{published_id}").status_code == 200
    listing = manager.get("/tenders/").get_data(as_text=True)
    assert published_number in listing and draft_number not in listing
    assert draft_number not in manager.get("/tenders/?status=draft").get_data(as_text=True)
    assert manager.get(f"/tenders/{draft_id}/edit").status_code == 403
    officer = login("gx-officer")
    assert draft_number in officer.get("/tenders/").get_data(as_text=True)
    assert officer.get(f"/tenders/{draft_id}").status_code == 200
    assert login("zg-officer").get(f"/tenders/{draft_id}").status_code == 404


def _location_id(response):
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def test_officer_drafts_and_publishes_through_the_pages(app, demo, login):
    officer = login("gx-officer")
    officer.set_cookie("lang", "en")
    assert officer.get("/tenders/new").status_code == 302  # no budget line yet: sent to create one
    response = support.form_post(officer, "/tenders/budget-lines/new",
                                 {"year": "2026", "name": "社会救助专项资金", "fund_source": "区级财政", "amount": "1,000,000"})
    assert response.status_code == 302
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        line = db.session.execute(select(BudgetLine)).scalar_one()
        assert line.amount_fen == 100_000_000
        line_id = line.id
    fields = {"title": "家计调查服务", "method": "competitive_consultation", "budget_line_id": str(line_id),
              "intention_id": "0", "budget": "1,200,000", "bid_bond": "0", "price_weight_percent": "20",
              "buyer_contact": "社会救助股", "documents_from": "2026-12-01", "documents_until": "2026-12-08",
              "deadline_day": "2026-12-14", "deadline_time": "09:30"}
    over = support.form_post(officer, "/tenders/new", fields)
    assert over.status_code == 422 and "1,000,000.00" in over.get_data(as_text=True)
    for weight in ("9", "31"):
        refused = support.form_post(officer, "/tenders/new", {**fields, "budget": "300,000", "price_weight_percent": weight})
        assert refused.status_code == 422
    created = support.form_post(officer, "/tenders/new", {**fields, "budget": "300,000"})
    assert created.status_code == 302
    tender_id = _location_id(created)
    assert support.form_post(officer, f"/tenders/{tender_id}/lots/new",
                             {"title": "家计调查", "budget": "300,000", "max_price": "290,000"}).status_code == 302
    with app.app_context(), tenant_scope(gx):
        lot_id = db.session.get(Tender, tender_id).lots[0].id
    assert support.form_post(officer, f"/tenders/{tender_id}/lots/{lot_id}/items/new",
                             {"code": "S01", "name": "入户家计调查", "unit": "household_survey", "quantity": "500",
                              "max_unit_price": "580", "requirements": "每户至少一次邻里走访"}).status_code == 302
    assert support.form_post(officer, f"/tenders/{tender_id}/criteria/new",
                             {"kind": "technical", "name": "调查方案", "max_points": "80"}).status_code == 302
    page = officer.get(f"/tenders/{tender_id}").get_data(as_text=True)
    assert "入户家计调查" in page and "580.00" in page

    assert support.form_post(officer, f"/tenders/{tender_id}/intention", {}).status_code == 302
    confirm = officer.get(f"/tenders/{tender_id}/publish").get_data(as_text=True)
    assert "30 days" in confirm  # published today: the notice must wait
    refused = support.form_post(officer, f"/tenders/{tender_id}/publish", {})
    assert refused.status_code == 422
    with app.app_context(), tenant_scope(gx):
        assert db.session.get(Tender, tender_id).status == "intention_published"
    listing = officer.get("/tenders/?status=intention_published&method=competitive_consultation&year=2026&q=家计")
    assert "家计调查服务" in listing.get_data(as_text=True)
    assert "家计调查服务" not in officer.get("/tenders/?status=tendering").get_data(as_text=True)

    cancelled = support.form_post(officer, f"/tenders/{tender_id}/cancel", {"reason": "预算调整"})
    assert cancelled.status_code == 302
    again = support.form_post(officer, f"/tenders/{tender_id}/cancel", {"reason": "again"})
    assert again.status_code == 422
    with app.app_context(), tenant_scope(gx):
        assert db.session.get(Tender, tender_id).status == "cancelled"


def test_officer_dashboard_counts_what_is_due_and_late(app, demo, login):
    from portal.contractors.models import Contractor
    from portal.tenders.models import Award
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        tender = _past_tender()
        tender.close_bidding(utcnow())
        lot = tender.lots[0]
        contractor = Contractor(name="赣州市明德社工", credit_code="91360721TEST00002X", kind="company",
                                legal_representative="李四")
        db.session.add(contractor)
        db.session.flush()
        bid = Bid(lot_id=lot.id, contractor_id=contractor.id, opens_at=tender.bid_deadline, price_fen=40_000_000)
        db.session.add(bid)
        db.session.flush()
        confirmed = local_today() - timedelta(days=10)
        db.session.add(Award(lot_id=lot.id, bid_id=bid.id, contractor_id=contractor.id, amount_fen=40_000_000,
                             confirmed_on=confirmed, challenge_until=confirmed + timedelta(days=12)))
        number = tender.number
        db.session.commit()
        agenda = officer_agenda()
        [result] = [item for item in agenda if item["kind"] == "result"]
        assert result["late"] and result["due_on"] == deadlines.award_deadlines(confirmed, CAL).publish_by
    officer = login("gx-officer")
    officer.set_cookie("lang", "en")
    home = officer.get("/").get_data(as_text=True)
    assert '<span class="card-value">1</span> <span class="card-title">Procurement steps late</span>' in home
    due = officer.get("/tenders/due")
    assert due.status_code == 200 and number in due.get_data(as_text=True)


def test_officer_edits_a_draft_and_clarifies_an_open_tender_through_the_pages(app, demo, login):
    gx = demo.tenant_id("ganxian")
    today = local_today()
    with app.app_context(), tenant_scope(gx):
        draft = make_tender()
        open_tender = make_tender(make_line(name="进行中"), documents_from=today,
                                  documents_until=deadlines.documents_available_until(today, CAL),
                                  deadline=at(deadlines.earliest_bid_deadline(today, "open_tender", CAL), time(9, 30)))
        publish_both(open_tender, intention_at=at(today - timedelta(days=40)), notice_at=at(today, time(0, 5)))
        draft_id, open_id, old_deadline = draft.id, open_tender.id, open_tender.bid_deadline
        db.session.commit()
    officer = login("gx-officer")
    officer.set_cookie("lang", "en")
    edit = officer.get(f"/tenders/{draft_id}/edit")
    assert edit.status_code == 200 and "特困人员自理能力评估服务" in edit.get_data(as_text=True)
    assert officer.get(f"/tenders/{open_id}/edit").status_code == 422  # published: no longer editable
    response = support.form_post(officer, f"/tenders/{open_id}/clarify", {"body": "服务数量调整为1300人次", "changes_documents": "y"})
    assert response.status_code == 302
    with app.app_context(), tenant_scope(gx):
        tender = db.session.get(Tender, open_id)
        # issued today, at least 20 days before the deadline: more than 15 days, so it stays
        assert tender.bid_deadline == old_deadline and len(tender.clarifications) == 1
    page = officer.get(f"/tenders/{open_id}").get_data(as_text=True)
    assert "服务数量调整为1300人次" in page
