"""Budget lines (committed, held, remaining; overruns refused), the procurement plan with its
phases and milestones, and purchase intentions published as disclosures."""
from datetime import date, time

import pytest
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.disclosures import Disclosure
from portal.extensions import db
from portal.tenders import planning
from portal.tenders.models import Award, Bid, PurchaseIntention
from tests import support
from tests.test_tender_lifecycle import CAL, at, gx, make_line, make_tender, publish_both  # noqa: F401  (gx: fixture)


def test_a_tender_that_would_overrun_its_budget_line_is_refused(gx):
    line = make_line(amount_fen=50_000_000)                        # 500,000.00 yuan
    first = make_tender(line, budget_fen=30_000_000)               # 300,000.00 held
    with pytest.raises(DomainError, match="200,000.00 yuan left"):
        make_tender(line, budget_fen=25_000_000)
    assert planning.remaining_fen(line) == 20_000_000
    first.cancel("需求取消")
    assert make_tender(line, budget_fen=25_000_000).budget_fen == 25_000_000
    assert planning.remaining_fen(line) == 25_000_000


def test_committed_is_the_award_amount_of_tenders_not_cancelled(gx):
    from portal.contractors.models import Contractor
    line = make_line(amount_fen=100_000_000)
    tender = make_tender(line, budget_fen=60_000_000)
    publish_both(tender)
    tender.close_bidding(at(date(2026, 9, 22), time(9, 30)))
    contractor = Contractor(name="赣州市仁爱社工", credit_code="91360721TEST00003X", kind="social_work_agency",
                            legal_representative="王五")
    db.session.add(contractor)
    db.session.flush()
    bid = Bid(lot_id=tender.lots[0].id, contractor_id=contractor.id, opens_at=tender.bid_deadline, price_fen=52_000_000)
    db.session.add(bid)
    db.session.flush()
    db.session.add(Award(lot_id=tender.lots[0].id, bid_id=bid.id, contractor_id=contractor.id, amount_fen=52_000_000,
                         confirmed_on=date(2026, 9, 30), challenge_until=date(2026, 10, 19)))
    db.session.flush()
    # awarded lot: its award amount is committed, its budget no longer held
    assert planning.committed_fen(line) == 52_000_000 and planning.reserved_fen(line) == 0
    tender.confirm_award(date(2026, 9, 30), CAL)
    db.session.flush()
    summary = planning.budget_summary(line)
    assert (summary["committed_fen"], summary["reserved_fen"], summary["remaining_fen"]) == (52_000_000, 0, 48_000_000)
    with pytest.raises(DomainError, match="cannot be lower"):
        planning.save_budget_line(line, year=2026, name=line.name, fund_source=line.fund_source, amount_fen=50_000_000)
    with pytest.raises(DomainError, match="480,000.00 yuan left"):
        make_tender(line, budget_fen=48_000_001)


def test_plan_has_four_phases_in_order_and_milestones_inside_them(gx):
    dates = {"preparation": (date(2026, 1, 1), date(2026, 3, 31)), "pilot": (date(2026, 4, 1), date(2026, 6, 30)),
             "evaluation": (date(2026, 7, 1), date(2026, 9, 30)), "consolidation": (date(2026, 10, 1), date(2026, 12, 31))}
    plan = planning.create_plan(2026, "社会救助服务购买实施方案", dates)
    assert [p.kind for p in plan.phases] == ["preparation", "pilot", "evaluation", "consolidation"]
    pilot = plan.phases[1]
    milestone = planning.add_milestone(pilot, "试点乡镇启动", date(2026, 4, 15))
    with pytest.raises(DomainError, match="within its phase"):
        planning.add_milestone(pilot, "太晚", date(2026, 7, 2))
    assert planning.overdue_milestones(date(2026, 5, 1)) == [milestone]
    planning.complete_milestone(milestone, date(2026, 4, 20))
    assert planning.overdue_milestones(date(2026, 5, 1)) == []
    with pytest.raises(DomainError, match="follow one another"):
        planning.create_plan(2027, "重叠", {**dates, "pilot": (date(2026, 3, 1), date(2026, 6, 30))})


def test_a_purchase_intention_is_published_once_as_a_disclosure_due_30_days_before_its_month(gx):
    line = make_line()
    intention = planning.new_intention(budget_line=line, title="社工站能力提升服务", description="20个乡镇社工站",
                                       budget_fen=80_000_000, expected_month=date(2026, 11, 15))
    assert intention.expected_month == date(2026, 11, 1)
    disclosure = planning.publish_intention(intention, at(date(2026, 9, 1)))
    assert disclosure.kind == "purchase_intention" and disclosure.due_on == date(2026, 10, 2)
    assert "800,000.00" in disclosure.body and "2026-11" in disclosure.body and not disclosure.late
    with pytest.raises(DomainError, match="already published"):
        planning.publish_intention(intention, at(date(2026, 9, 2)))
    # A tender that takes over the published intention moves on without a second disclosure
    tender = make_tender(line, budget_fen=20_000_000)
    tender.intention = intention
    tender.publish_intention(at(date(2026, 9, 3)), CAL)
    assert tender.status == "intention_published"
    assert len(db.session.execute(select(Disclosure).where(Disclosure.kind == "purchase_intention")).all()) == 1
    with pytest.raises(DomainError, match="left"):
        planning.new_intention(budget_line=line, title="太大", description="", budget_fen=100_000_001,
                               expected_month=date(2026, 12, 1))


def test_officer_enters_budget_plan_and_intention_through_the_pages(app, demo, login):
    from portal.tenancy.scope import tenant_scope
    officer = login("gx-officer")
    assert support.form_post(officer, "/tenders/budget-lines/new", {"year": "2026", "name": "社会救助专项资金",
                             "fund_source": "区级财政", "amount": "abc"}).status_code == 200  # not an amount
    assert support.form_post(officer, "/tenders/budget-lines/new", {"year": "2026", "name": "社会救助专项资金",
                             "fund_source": "区级财政", "amount": "1,234,567.89"}).status_code == 302
    page = officer.get("/tenders/budget-lines").get_data(as_text=True)
    assert "1,234,567.89" in page
    plan = {"year": "2026", "title": "实施方案"}
    for kind, (start, end) in {"preparation": ("2026-01-01", "2026-03-31"), "pilot": ("2026-04-01", "2026-06-30"),
                               "evaluation": ("2026-07-01", "2026-09-30"),
                               "consolidation": ("2026-10-01", "2026-12-31")}.items():
        plan[f"{kind}_from"], plan[f"{kind}_to"] = start, end
    assert support.form_post(officer, "/tenders/plan/new", plan).status_code == 302
    gx = demo.tenant_id("ganxian")
    with app.app_context(), tenant_scope(gx):
        line_id = db.session.execute(select(planning.BudgetLine.id)).scalar_one()
    assert support.form_post(officer, "/tenders/intentions/new", {
        "budget_line_id": str(line_id), "title": "家计调查服务", "description": "", "budget": "300,000",
        "expected_month": "2026-12"}).status_code == 302
    with app.app_context(), tenant_scope(gx):
        intention_id = db.session.execute(select(PurchaseIntention.id)).scalar_one()
    response = support.form_post(officer, f"/tenders/intentions/{intention_id}/publish", {}, token_url="/tenders/plan")
    assert response.status_code == 302
    page = officer.get("/tenders/plan").get_data(as_text=True)
    assert "家计调查服务" in page and "2026-11-01" in page  # due 30 days before December
    assert login("zg-officer").get("/tenders/plan").get_data(as_text=True).count("家计调查服务") == 0


def test_an_intention_published_with_its_tender_is_never_late_on_the_day(app, demo):
    """Whatever the day, the intention created when a tender publishes one is due on or after it."""
    from datetime import date, datetime, timedelta, timezone

    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.deadlines import local_date
    from portal.tenders.models import BudgetLine, Tender
    from portal.tenders.planning import create_intention, intention_due_on
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        line = BudgetLine(year=2026, name="x", fund_source="y", amount_fen=10**9)
        db.session.add(line)
        db.session.flush()
        tender = Tender(number="T-1", title="t", method="open_tender", budget_line_id=line.id, budget_fen=100)
        db.session.add(tender)
        db.session.flush()
        for offset in range(0, 62, 3):
            now = datetime(2026, 10, 1, 2, tzinfo=timezone.utc) + timedelta(days=offset)
            intention = create_intention(tender, now)
            assert intention_due_on(intention) >= local_date(now), now
            assert intention.expected_month.day == 1 and intention.expected_month >= date(2026, 10, 31)
        db.session.rollback()
