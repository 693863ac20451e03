"""The procurement history of the demo world (docs/API.md): in ganxian, a budget line and
plan, one tender awarded (care services to contractor A, self-care assessment to B) whose
contracts can now be signed, the household-survey tender awarded to D, and one tender open for
bids with a sealed bid from A. It runs the real lifecycle with back-dated clocks, so every
deadline rule and disclosure is exercised. Every step looks before it creates."""
import io
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.contractors.models import StaffMember
from portal.core.timeutil import LOCAL_TZ, local_today
from portal.extensions import db
from portal.files.services import store_upload
from portal.tenancy.scope import tenant_scope
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import awards, bidding, documents, evaluation, remedies
from portal.tenders.models import BudgetLine, EvaluationCriterion, Lot, LotItem, PlanMilestone, Tender
from portal.tenders.planning import create_plan

AWARDED_NUMBER = "GX-DEMO-001"
SURVEY_NUMBER = "GX-DEMO-002"  # household economic surveys, awarded to D (docs/DOMAIN.md §6)
OPEN_NUMBER = "GX-DEMO-004"  # the one tender open for bids
CHALLENGED_NUMBER = "GX-DEMO-003"
BUYER_CONTACT = "赣县区民政局社会救助股 张科长 0797-4441234"
CRITERIA = (("technical", "服务方案与实施计划", 45), ("business", "机构资质、业绩与人员", 25))
# Lots of the awarded tender: (title, budget fen, items, {manager: (price fen, technical, business)});
# each lot has one service item, and every price divides by its quantity into the quoted unit price.
AWARDED_LOTS = [
    ("分散供养特困人员照料护理服务", 120_000_000,
     [("CARE-VISIT", "上门照料护理服务", "visit", 12000, 10_000, "每次30–240分钟，须拍照留痕")],
     {"a-manager": (108_000_000, "40", "22"), "b-manager": (114_000_000, "36", "20"),
      "d-manager": (111_600_000, "35", "21")}),
    ("特困人员生活自理能力评估", 30_000_000,
     [("ADL-ASSESS", "生活自理能力评估（六项指标）", "assessment", 1500, 20_000, "入户评估，每人一档")],
     {"a-manager": (28_500_000, "33", "20"), "b-manager": (27_000_000, "41", "23"),
      "d-manager": (28_950_000, "34", "19")}),
]
# The evaluation committee of an open tender (87号令 §47): five members, four of them experts.
COMMITTEE = (("周文华", "江西师范大学社会工作系", "expert", "社会工作"),
             ("吴建平", "赣州市社会工作协会", "expert", "社会工作"),
             ("钟秀英", "赣南医学院护理学院", "expert", "护理"),
             ("刘海燕", "赣州市财经学校", "expert", "财务"),
             ("黄志明", "赣县区民政局", "buyer_representative", ""))
# The household-survey tender's lot and its three bids {manager: (price fen, technical, business)}:
# D ranks first on score although A's price is the lowest.
SURVEY_LOT = ("困难家庭家庭经济状况核查服务", 40_000_000,
              [("HH-SURVEY", "家庭经济状况核查（含邻里走访）", "household_survey", 2000, 20_000, "每户至少一次邻里走访")],
              {"a-manager": (37_600_000, "38", "21"), "d-manager": (38_000_000, "43", "23"),
               "e-manager": (38_400_000, "36", "20")})
OPEN_LOT = ("困难群众探访关爱服务", 24_000_000,
            [("OUTREACH-VISIT", "救助政策宣传与探访关爱", "visit", 3000, 8_000, "每次入户宣讲政策并了解困难诉求")])


def local_at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def build_tender(number, title, line, lots, officer):
    tender = Tender(number=number, title=title, method="open_tender", budget_line_id=line.id,
                    budget_fen=sum(lot[1] for lot in lots), bid_bond_fen=0, price_weight_percent=30,
                    buyer_contact=BUYER_CONTACT, created_by_id=officer.id,
                    description="服务对象为辖区内分散供养特困人员及困难家庭；严禁服务转包。")
    db.session.add(tender)
    db.session.flush()
    for position, (lot_title, budget, items, *_bids) in enumerate(lots, start=1):
        lot = Lot(tender_id=tender.id, number=position, title=lot_title, budget_fen=budget, max_price_fen=budget)
        db.session.add(lot)
        db.session.flush()
        for code, name, unit, quantity, cap, requirements in items:
            db.session.add(LotItem(lot_id=lot.id, code=code, name=name, unit=unit, quantity=quantity,
                                   max_unit_price_fen=cap, requirements=requirements))
    for kind, name, points in CRITERIA:
        db.session.add(EvaluationCriterion(tender_id=tender.id, kind=kind, name=name, max_points=points))
    db.session.flush()
    db.session.refresh(tender)
    return tender


def publish_tender(tender, intention_day, notice_day, calendar):
    """Intention, then the notice with a lawful timetable (documents 7 working days, the bid
    deadline 22 days after the notice on a working day, 09:30 Beijing time)."""
    tender.publish_intention(local_at(intention_day, 9), calendar)
    tender.documents_from = notice_day
    tender.documents_until = calendar.add_working_days(notice_day, 7)
    tender.bid_deadline = local_at(calendar.add_working_days(notice_day + timedelta(days=22), 0), 9, 30)
    tender.publish_notice(local_at(notice_day, 10), calendar)


def _staff_of(manager):
    return [m.id for m in db.session.execute(select(StaffMember).where(
        StaffMember.contractor_id == manager.contractor_id, StaffMember.left_on.is_(None))).scalars()]


# A tiny but real PDF: the technical proposal every demo bid carries.
PROPOSAL_PDF = b"%PDF-1.4\n% demo technical proposal\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _bid(lot, manager, price_fen, when):
    """A complete bid: the price, a unit price per item (the lot's single item), the staffing
    plan and the technical proposal."""
    (item,) = lot.items
    bid = bidding.submit_bid(lot, manager, price_fen=price_fen, staff_ids=_staff_of(manager), now=when,
                             unit_prices_fen={item.code: price_fen // item.quantity})
    # Attached to the bid in hand: the demo runs as no one, whom the seal shows no unopened bid.
    stored = store_upload(FileStorage(io.BytesIO(PROPOSAL_PDF), filename="技术方案.pdf"),
                          allowed=bidding.PROPOSAL_TYPES, uploaded_by_id=manager.id)
    bid.proposal_file_id = stored.id
    db.session.flush()
    return bid


def _attach_documents(tender, officer):
    """The tender documents (招标文件) as a small PDF named after the tender."""
    documents.attach_documents(tender, FileStorage(io.BytesIO(PROPOSAL_PDF.replace(b"technical proposal",
                                                                                    b"tender documents")),
                                                   filename=f"{tender.number}招标文件.pdf"), by=officer)


def seed_tenders(tenants):
    """Create the ganxian procurement history if it is missing; returns rows created (roughly)."""
    created = _seed_history(tenants)
    with tenant_scope(tenants["ganxian"].id):
        for number, seed_one in ((SURVEY_NUMBER, seed_survey_tender), (OPEN_NUMBER, seed_open_tender),
                                 (CHALLENGED_NUMBER, seed_challenged)):
            if not db.session.execute(select(Tender.id).where(Tender.number == number)).first():
                created += seed_one(local_today(), tenant_calendar())
    return created


def _seed_history(tenants):
    created = 0
    with tenant_scope(tenants["ganxian"].id):
        if db.session.execute(select(Tender.id).where(Tender.number == AWARDED_NUMBER)).first():
            return 0
        today = local_today()
        calendar = tenant_calendar()
        officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
        managers = _managers(["a-manager", "b-manager", "d-manager"])
        line = BudgetLine(year=today.year, name="社会救助专项资金（政府购买服务）", fund_source="中央和省级困难群众救助补助资金",
                          amount_fen=300_000_000)
        db.session.add(line)
        db.session.flush()
        plan = create_plan(today.year, f"{today.year}年政府购买社会救助服务实施计划", {
            "preparation": (date(today.year, 1, 1), date(today.year, 3, 31)),
            "pilot": (date(today.year, 4, 1), date(today.year, 8, 31)),
            "evaluation": (date(today.year, 9, 1), date(today.year, 10, 31)),
            "consolidation": (date(today.year, 11, 1), date(today.year, 12, 31)),
        })
        milestones = [("制定实施方案并报批", 0, date(today.year, 3, 15)),
                      ("完成服务项目招标采购", 1, date(today.year, 5, 31)),
                      ("开展中期绩效评价", 2, date(today.year, 10, 15)),
                      ("总结推广，报市民政局审定", 3, date(today.year, 12, 20))]
        for title, phase_index, due in milestones:
            db.session.add(PlanMilestone(phase_id=plan.phases[phase_index].id, title=title, due_on=due,
                                         done_on=due if due < today else None))
        created += 10

        # The awarded tender: intention 120 days ago, notice 85 days ago, awarded ~2 months ago.
        awarded = build_tender(AWARDED_NUMBER, "赣县区政府购买社会救助服务项目（照料护理与能力评估）", line,
                                AWARDED_LOTS, officer)
        _attach_documents(awarded, officer)  # before the notice; published with the award result (87号令 §69)
        publish_tender(awarded, today - timedelta(days=120), today - timedelta(days=85), calendar)
        _run_to_award(awarded, [(lot, spec[3]) for lot, spec in zip(awarded.lots, AWARDED_LOTS)], managers,
                      local_at(today - timedelta(days=80), 15), calendar)
        created += 20

        db.session.flush()
    return created


def _run_to_award(tender, lot_bids, managers, submitted_at, calendar):
    """Open the bids at the deadline, the committee scores every one, and the first is awarded
    two working days later. ``lot_bids`` pairs each lot with its {manager: (price, technical, business)}."""
    for lot, bids in lot_bids:
        for manager, (price, _t, _b) in bids.items():
            _bid(lot, managers[manager], price, submitted_at)
    db.session.flush()
    opened = tender.bid_deadline + timedelta(minutes=30)
    evaluation.open_bids(tender, opened)
    experts = [evaluation.add_expert(tender, name, organisation, kind, field)
               for name, organisation, kind, field in COMMITTEE]
    for lot, bids in lot_bids:
        by_contractor = {b.contractor_id: b for b in evaluation.lot_bids(lot)}
        for manager, (_price, technical, business) in bids.items():
            bid = by_contractor[managers[manager].contractor_id]
            evaluation.decide_validity(bid, True, "", opened)
            for expert in experts:
                evaluation.enter_score(bid, expert, evaluation.parse_points(technical),
                                       evaluation.parse_points(business))
    confirmed = local_at(calendar.add_working_days(tender.bid_deadline.astimezone(LOCAL_TZ).date(), 2), 16)
    for lot, _bids in lot_bids:
        awards.confirm_award(lot, confirmed)


def _managers(usernames):
    return {u.username: u for u in db.session.execute(select(User).where(User.username.in_(list(usernames)))).scalars()}


def _budget_line(today):
    return db.session.execute(select(BudgetLine).where(BudgetLine.year == today.year)
                              .order_by(BudgetLine.id)).scalars().first()


def seed_survey_tender(today, calendar):
    """GX-DEMO-002, household economic surveys: notice 130 days ago, three bids, awarded to D
    about fifteen weeks ago (its contract, from two months back: contracts/demo.py)."""
    officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
    managers = _managers(SURVEY_LOT[3])
    line = _budget_line(today)
    if line is None or len(managers) < len(SURVEY_LOT[3]):
        return 0
    tender = build_tender(SURVEY_NUMBER, "赣县区困难家庭经济状况核查服务采购项目", line, [SURVEY_LOT], officer)
    _attach_documents(tender, officer)
    publish_tender(tender, today - timedelta(days=165), today - timedelta(days=130), calendar)
    _run_to_award(tender, [(tender.lots[0], SURVEY_LOT[3])], managers, local_at(today - timedelta(days=125), 15),
                  calendar)
    db.session.flush()
    return 20


def seed_open_tender(today, calendar):
    """GX-DEMO-004, the tender open for bids: notice 8 days ago, deadline about two weeks ahead;
    A has bid (sealed)."""
    officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
    line = _budget_line(today)
    manager = _managers(["a-manager"]).get("a-manager")
    if line is None or manager is None:
        return 0
    tender = build_tender(OPEN_NUMBER, "赣县区困难群众救助政策宣传与探访关爱服务采购项目", line, [OPEN_LOT], officer)
    _attach_documents(tender, officer)
    publish_tender(tender, today - timedelta(days=45), today - timedelta(days=8), calendar)
    _bid(tender.lots[0], manager, 22_386_000, local_at(today - timedelta(days=2), 11))
    db.session.flush()
    return 6


# The tender whose first award fell to an upheld challenge (质疑成立) and went to the next-ranked
# bidder (政府采购质疑和投诉办法 §16): {manager: (price fen, technical, business)}; D ranks first,
# B second, A third, E fourth — four valid bids, so that three qualified suppliers are left after D
# (the legal number for the next-ranked bidder, 94号令 §16(二)).
CHALLENGED_LOT = ("乡镇社工站能力建设与督导服务", 50_000_000,
                  [("STATION-MONTH", "乡镇社工站驻站服务", "station_month", 240, 200_000, "每站1–2名持证社会工作者")],
                  {"d-manager": (45_000_000, "44", "24"), "b-manager": (46_500_000, "43", "23"),
                   "a-manager": (48_000_000, "40", "21"), "e-manager": (47_760_000, "38", "20")})
CHALLENGE_GROUNDS = "中标人拟派驻站人员中有3人未取得社会工作者职业资格证书，不满足招标文件第三章人员要求。"
CHALLENGE_ANSWER = "经评标委员会复核，中标人拟派人员资格不满足招标文件要求，质疑成立，依法确定排名第二的供应商为中标人。"


def seed_challenged(today, calendar):
    """GX-DEMO-003: awarded about four months ago, challenged by the second-ranked bidder, the
    challenge upheld and the lot awarded to it instead — the first award cancelled publicly."""
    officer = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
    managers = _managers(CHALLENGED_LOT[3])
    line = _budget_line(today)
    if line is None or len(managers) < len(CHALLENGED_LOT[3]):
        return 0
    tender = build_tender(CHALLENGED_NUMBER, "赣县区乡镇社会工作服务站能力建设服务采购项目", line, [CHALLENGED_LOT],
                          officer)
    _attach_documents(tender, officer)  # published with both award results (87号令 §69)
    publish_tender(tender, today - timedelta(days=200), today - timedelta(days=160), calendar)
    lot = tender.lots[0]
    for manager, (price, _t, _b) in CHALLENGED_LOT[3].items():
        _bid(lot, managers[manager], price, local_at(today - timedelta(days=150), 10))
    db.session.flush()
    opened = tender.bid_deadline + timedelta(minutes=30)
    evaluation.open_bids(tender, opened)
    members = [evaluation.add_expert(tender, name, organisation, kind, field)
               for name, organisation, kind, field in COMMITTEE]
    by_contractor = {b.contractor_id: b for b in evaluation.lot_bids(lot)}
    for manager, (_price, technical, business) in CHALLENGED_LOT[3].items():
        bid = by_contractor[managers[manager].contractor_id]
        evaluation.decide_validity(bid, True, "", opened)
        for member in members:
            evaluation.enter_score(bid, member, evaluation.parse_points(technical), evaluation.parse_points(business))
    confirmed_on = calendar.add_working_days(tender.bid_deadline.astimezone(LOCAL_TZ).date(), 2)
    first = awards.confirm_award(lot, local_at(confirmed_on, 16))
    challenger = managers["b-manager"]
    challenge = awards.lodge_challenge(first, challenger, CHALLENGE_GROUNDS,
                                       local_at(calendar.add_working_days(confirmed_on, 3), 10))
    answered = local_at(calendar.add_working_days(confirmed_on, 8), 15)
    awards.answer_challenge(challenge, outcome="upheld", answer=CHALLENGE_ANSWER, now=answered)
    remedies.choose_remedy(challenge, "next_ranked", answered + timedelta(minutes=30))
    db.session.flush()
    return 12
