"""The contracts of the demo world (docs/API.md): in ganxian, A's care contract (lot 1 of
GX-DEMO-001, CARE-VISIT), B's assessment contract (lot 2, ADL-ASSESS), D's household-survey
contract (GX-DEMO-002, HH-SURVEY) and B's station contract (GX-DEMO-003, STATION-MONTH, from the
award in force after the upheld challenge), all signed within the window, active and with their
notices published; in zhanggong, a small single-source (单一来源)
tender awarded to contractor C and its active care contract, so zg-worker1 has a contract.

It runs the real lifecycle with back-dated clocks, as tenders/demo.py does. Every step looks
before it creates, so a second run changes nothing."""
from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.contractors.models import Contractor, StaffMember
from portal.contracts import services
from portal.contracts.models import Contract
from portal.core.months import previous_month
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import awards, evaluation
from portal.tenders.deadlines import local_date
from portal.tenders.demo import (AWARDED_NUMBER, CHALLENGED_NUMBER, SURVEY_NUMBER, build_tender, local_at,
                                 publish_tender)
from portal.tenders.models import Award, Bid, BudgetLine, Tender

ZG_NUMBER = "ZG-DEMO-001"
ZG_CONTRACTOR = "赣州市章贡区仁爱社会工作服务社"
ZG_LOTS = [("章贡区分散供养特困人员上门照料服务（单一来源）", 20_000_000,
            [("CARE-VISIT", "上门照料护理服务", "visit", 2000, 10_000, "每次30–240分钟，须拍照留痕")], {})]
ZG_PRICE = 18_000_000
# Service-item terms per code: (min minutes, max minutes, daily limit per beneficiary, photo, monthly cap)
ITEM_TERMS = {
    "CARE-VISIT": (30, 240, 1, True, None),
    "ADL-ASSESS": (None, None, 1, False, None),
    "HH-SURVEY": (None, None, 1, False, None),
    "STATION-MONTH": (None, None, None, False, None),
}
# Contracts that run from two months back, so that the previous month is a whole month of theirs
# and the month before it one too: D's surveys are re-checked the month after (surveys/demo.py),
# B's stations are staffed and settled by the month (stations/demo.py).
FROM_TWO_MONTHS_BACK = (SURVEY_NUMBER, CHALLENGED_NUMBER)


def _period(today):
    """From the first day of the previous month to the end of the year: the delivery history of
    the previous month and the current month both fall inside it."""
    return previous_month(today), date(today.year, 12, 31)


def _items(award):
    """The lot's items with the demo's terms; the unit price is the bid's when it quoted one,
    else the award amount spread evenly over the quantity."""
    items = services.proposed_items(award)
    for item in items:
        if item["unit_price_fen"] is None:
            item["unit_price_fen"] = award.amount_fen // max(1, item["quota"]) if len(items) == 1 else 1
        low, high, daily, photo, cap = ITEM_TERMS.get(item["code"], (None, None, None, False, None))
        item.update(min_minutes=low, max_minutes=high, daily_limit_per_beneficiary=daily, photo_required=photo,
                    monthly_cap=cap)
    return items


def _contract_from(award, officer, today, calendar, starts_on=None, ends_on=None):
    """Create, sign (the working day after the award notice), activate and publish; the period is
    _period's unless ``starts_on`` or ``ends_on`` is given."""
    period_start, period_end = _period(today)
    starts_on, ends_on = starts_on or period_start, ends_on or period_end
    terms = services.proposed_terms(award, today)
    terms.update(starts_on=starts_on, ends_on=ends_on, performance_bond_fen=award.amount_fen * 5 // 100,
                 violation_penalty_fen=200_000)
    contract = services.create_contract(award, terms, _items(award), officer)
    sign_on = calendar.add_working_days(local_date(award.notice_published_at), 1)
    contract.created_at = local_at(sign_on, 9)
    services.sign(contract, sign_on, now=local_at(sign_on, 10))
    services.activate(contract, sign_on, now=local_at(sign_on, 10))
    services.publish_due_notices(now=local_at(calendar.add_working_days(sign_on, 1), 10))
    return contract


def _ganxian(tenant):
    created = 0
    with tenant_scope(tenant.id):
        tenders = db.session.execute(select(Tender).where(Tender.number.in_(
            (AWARDED_NUMBER, SURVEY_NUMBER, CHALLENGED_NUMBER))).order_by(Tender.id)).scalars().all()
        if not tenders:
            return 0
        officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
        today, calendar = local_today(), tenant_calendar()
        for lot in [lot for tender in tenders for lot in tender.lots]:
            # the award in force: for GX-DEMO-003 B's, the next-ranked bidder's after the upheld challenge
            award = awards.award_of_lot(lot)
            if award is None or db.session.execute(select(Contract.id).where(Contract.award_id == award.id)).first():
                continue
            starts_on = previous_month(previous_month(today)) if lot.tender.number in FROM_TWO_MONTHS_BACK else None
            _contract_from(award, officer, today, calendar, starts_on)
            created += 3
    return created


def _zhanggong(tenant):
    """A single-source tender to C, run through the real lifecycle, and its contract."""
    created = 0
    with tenant_scope(tenant.id):
        if db.session.execute(select(Tender.id).where(Tender.number == ZG_NUMBER)).first():
            return 0
        officer = db.session.execute(select(User).where(User.username == "zg-officer")).scalar_one()
        contractor = db.session.execute(select(Contractor).where(Contractor.name == ZG_CONTRACTOR)).scalar_one()
        today, calendar = local_today(), tenant_calendar()
        line = BudgetLine(year=today.year, name="社会救助专项资金（政府购买服务）", fund_source="中央和省级困难群众救助补助资金",
                          amount_fen=50_000_000)
        db.session.add(line)
        db.session.flush()
        tender = build_tender(ZG_NUMBER, "章贡区分散供养特困人员上门照料服务采购项目", line, ZG_LOTS, officer)
        tender.method = "single_source"
        tender.buyer_contact = "章贡区民政局社会救助科 0797-8123456"
        publish_tender(tender, today - timedelta(days=130), today - timedelta(days=95), calendar)
        lot = tender.lots[0]
        staff = [m.id for m in db.session.execute(select(StaffMember).where(
            StaffMember.contractor_id == contractor.id, StaffMember.left_on.is_(None))).scalars()]
        # C has no manager account in the demo: its single-source offer is recorded as received.
        db.session.add(Bid(lot_id=lot.id, contractor_id=contractor.id, opens_at=tender.bid_deadline,
                           price_fen=ZG_PRICE, staff_ids=staff, unit_prices_fen={"CARE-VISIT": ZG_PRICE // 2000},
                           submitted_at=tender.bid_deadline - timedelta(days=3),
                           updated_at=tender.bid_deadline - timedelta(days=3)))
        db.session.flush()
        opened = tender.bid_deadline + timedelta(minutes=30)
        evaluation.open_bids(tender, opened)
        # Three members, two of them experts (docs/DOMAIN.md §3: at least 3 for the other methods).
        members = [evaluation.add_expert(tender, name, organisation, kind, field) for name, organisation, kind, field in (
            ("郭志刚", "赣州市社会工作协会", "expert", "社会工作"), ("曾丽华", "赣南医学院护理学院", "expert", "护理"),
            ("陈建国", "章贡区民政局", "buyer_representative", ""))]
        [bid] = evaluation.lot_bids(lot)
        evaluation.decide_validity(bid, True, "", opened)
        for member in members:
            evaluation.enter_score(bid, member, 4000, 2000)
        confirmed = local_at(calendar.add_working_days(local_date(tender.bid_deadline), 2), 16)
        award = awards.confirm_award(lot, confirmed)
        created += 8
        _contract_from(db.session.get(Award, award.id), officer, today, calendar)
        created += 3
    return created


def seed_contracts(tenants):
    """Create the demo contracts that are missing; returns rows created (roughly)."""
    created = _ganxian(tenants["ganxian"]) + _zhanggong(tenants["zhanggong"])
    db.session.flush()
    return created
