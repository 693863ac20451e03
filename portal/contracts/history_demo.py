"""A's previous care contract in the demo world (docs/API.md), the one the annual evaluation of the
previous year looks back on (docs/DOMAIN.md §7): tender GX-DEMO-000 in ganxian, for the previous
calendar year on a budget line of that year, tendered in the autumn before it (intention, notice,
bids of A, B and D, the committee's scores, the award to A), and its contract from Jan 1 of that
year to the last day of the last quarter that has ended — or the day before A's current care
contract starts, when that comes first, so the two never run at once — with a small CARE-VISIT
quota. Its delivery, spot checks, scorecards and completion are portal/scorecards/demo.py's
(seeded after the statements, portal/demo.py).

It runs the real lifecycle with back-dated clocks, as tenders/demo.py does; every step looks
before it creates, so a second run changes nothing."""
from datetime import date, timedelta

from sqlalchemy import select

from portal.accounts.models import User
from portal.contracts.demo import _contract_from
from portal.contracts.models import Contract, ServiceItem
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import awards
from portal.tenders.demo import (AWARDED_NUMBER, _attach_documents, _managers, _run_to_award, build_tender, local_at,
                                 publish_tender)
from portal.tenders.models import Award, BudgetLine, Lot, Tender

PREVIOUS_NUMBER = "GX-DEMO-000"
ITEM = "CARE-VISIT"
QUOTA = 360  # visits over the whole period: about 17 a month
# The single lot: (title, budget fen, items, {manager: (price fen, technical, business)}); every price
# divides by the quota into the quoted unit price, A ranks first.
PREVIOUS_LOT = ("分散供养特困人员照料护理服务", QUOTA * 10_000,
                [(ITEM, "上门照料护理服务", "visit", QUOTA, 10_000, "每次30–240分钟，须拍照留痕")],
                {"a-manager": (QUOTA * 9_000, "40", "22"), "b-manager": (QUOTA * 9_500, "36", "20"),
                 "d-manager": (QUOTA * 9_300, "35", "21")})


def previous_year(today=None):
    return (today or local_today()).year - 1


def last_ended_quarter_end(today):
    """The last day of the last quarter that ended before ``today``."""
    return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1)


def previous_period(today=None):
    """(first day, last day) of A's previous contract: Jan 1 of the previous year to the end of the
    last ended quarter, cut to the day before A's current care contract starts (when it exists)."""
    today = today or local_today()
    ends_on = last_ended_quarter_end(today)
    current = contract_of_tender(AWARDED_NUMBER, ITEM)
    if current is not None and current.starts_on <= ends_on:
        ends_on = current.starts_on - timedelta(days=1)
    return date(previous_year(today), 1, 1), ends_on


def contract_of_tender(number, item_code):
    """The first contract of tender ``number`` with a service item ``item_code`` in the current
    bureau, or None."""
    return db.session.execute(
        select(Contract).join(Award, Award.id == Contract.award_id).join(Lot, Lot.id == Award.lot_id)
        .join(Tender, Tender.id == Lot.tender_id)
        .where(Tender.number == number, Contract.id.in_(select(ServiceItem.contract_id)
                                                        .where(ServiceItem.code == item_code)))
        .order_by(Contract.id).limit(1)).scalar_one_or_none()


def previous_contract():
    """A's previous care contract (of tender GX-DEMO-000) in the current bureau, or None: what the
    annual evaluation, acceptance and financial-report demos build on."""
    return contract_of_tender(PREVIOUS_NUMBER, ITEM)


def seed_previous_contract(tenants):
    """Create tender GX-DEMO-000 and A's contract from it in ganxian if they are missing; returns rows
    created (roughly; 0 once the tender exists)."""
    with tenant_scope(tenants["ganxian"].id):
        if db.session.execute(select(Tender.id).where(Tender.number == PREVIOUS_NUMBER)).first():
            return 0
        officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one_or_none()
        managers = _managers(PREVIOUS_LOT[3])
        if officer is None or len(managers) < len(PREVIOUS_LOT[3]):
            return 0
        today, calendar = local_today(), tenant_calendar()
        year = previous_year(today)
        starts_on, ends_on = previous_period(today)
        if ends_on <= starts_on:
            return 0
        line = BudgetLine(year=year, name="社会救助专项资金（政府购买服务）", fund_source="中央和省级困难群众救助补助资金",
                          amount_fen=300_000_000)
        db.session.add(line)
        db.session.flush()
        tender = build_tender(PREVIOUS_NUMBER, f"赣县区{year}年度分散供养特困人员照料护理服务采购项目", line,
                              [PREVIOUS_LOT], officer)
        _attach_documents(tender, officer)
        # Tendered the autumn before: the notice in mid-October, the award in November.
        notice_day = date(year - 1, 10, 15)
        publish_tender(tender, notice_day - timedelta(days=35), notice_day, calendar)
        _run_to_award(tender, [(tender.lots[0], PREVIOUS_LOT[3])], managers,
                      local_at(notice_day + timedelta(days=5), 15), calendar)
        award = awards.award_of_lot(tender.lots[0])
        _contract_from(db.session.get(Award, award.id), officer, today, calendar, starts_on, ends_on)
        db.session.flush()
    return 25
