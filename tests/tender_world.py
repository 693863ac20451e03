"""Tenders, contractors and bids made directly with the models, for the bid, evaluation and
award tests (each helper opens its own app context and tenant scope and commits)."""
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from portal.core.timeutil import utcnow
from tests import support

PDF = b"%PDF-1.4\n% technical proposal\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def tenant_id(app, code):
    return support.World(app).tenant_id(code)


def make_tender(app, code="ganxian", *, method="open_tender", status="tendering", deadline=None,
                price_weight=30, lots=((100_000_00 * 2, "Care services"),), invited=(), number=None):
    """A published tender with lots (max price, title), one service item per lot and criteria
    worth 100 − price weight points (technical 2/3 of it, business the rest).
    Returns {"tender": id, "lots": [ids], "deadline": datetime}."""
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import BudgetLine, EvaluationCriterion, Lot, LotItem, Tender
    deadline = deadline or utcnow() + timedelta(days=10)
    with app.app_context(), tenant_scope(tenant_id(app, code)):
        line = BudgetLine(year=2026, name=f"社会救助专项资金 {uuid.uuid4().hex[:6]}", fund_source="专项",
                          amount_fen=10**12)
        db.session.add(line)
        db.session.flush()
        budget = sum(max_price for max_price, _ in lots)
        tender = Tender(number=number or f"GX-2026-{uuid.uuid4().hex[:6]}", title="特困人员照料护理服务",
                        method=method, status=status, budget_line_id=line.id, budget_fen=budget,
                        price_weight_percent=price_weight, buyer_contact="张科长 0797-1234567",
                        invited_contractor_ids=list(invited), notice_published_at=utcnow() - timedelta(days=25),
                        documents_from=date.today() - timedelta(days=25), bid_deadline=deadline)
        db.session.add(tender)
        db.session.flush()
        lot_ids = []
        for number_, (max_price, title) in enumerate(lots, start=1):
            lot = Lot(tender_id=tender.id, number=number_, title=title, budget_fen=max_price, max_price_fen=max_price)
            db.session.add(lot)
            db.session.flush()
            db.session.add(LotItem(lot_id=lot.id, code="CARE-VISIT", name="上门照料", unit="visit",
                                   quantity=1000, max_unit_price_fen=max_price // 1000,
                                   requirements="每次不少于30分钟"))
            lot_ids.append(lot.id)
        rest = 100 - price_weight
        technical = rest * 2 // 3
        db.session.add(EvaluationCriterion(tender_id=tender.id, kind="technical", name="服务方案", max_points=technical))
        db.session.add(EvaluationCriterion(tender_id=tender.id, kind="business", name="业绩与资质",
                                           max_points=rest - technical))
        db.session.commit()
        return {"tender": tender.id, "lots": lot_ids, "deadline": deadline}


def make_contractor(app, code="ganxian", *, name, manager, status="approved", staff=2, address="赣州市某路1号"):
    """An organisation registered with the bureau (``status``), its manager (a user) and an
    active roster. Returns {"id", "staff": [ids], "manager": username}."""
    from portal.accounts.models import User
    from portal.contractors.models import Contractor, ContractorRegistration, StaffMember
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    with app.app_context(), tenant_scope(tenant_id(app, code)):
        contractor = db.session.execute(select(Contractor).where(Contractor.name == name)).scalar_one_or_none()
        if contractor is None:
            contractor = Contractor(name=name, credit_code=uuid.uuid4().hex[:18].upper(), kind="social_work_agency",
                                    legal_representative="李四", address=address)
            db.session.add(contractor)
            db.session.flush()
        db.session.add(ContractorRegistration(contractor_id=contractor.id, status=status))
        user = db.session.execute(select(User).where(User.username == manager)).scalar_one_or_none()
        if user is None:
            user = User(username=manager, display_name=manager, role="contractor_manager", contractor_id=contractor.id)
            user.set_password(support.PASSWORD)
            db.session.add(user)
        members = []
        for i in range(staff):
            member = StaffMember(contractor_id=contractor.id, name=f"{name}员工{i + 1}", id_number_encrypted="x",
                                 id_number_hash=uuid.uuid4().hex, id_number_masked="3601**********1234",
                                 joined_on=date(2026, 1, 1))
            db.session.add(member)
            members.append(member)
        db.session.commit()
        return {"id": contractor.id, "staff": [m.id for m in members], "manager": manager, "name": name}


def add_opened_bid(app, lot_id, contractor_id, price_fen, code="ganxian", valid=True):
    """A bid whose deadline has passed (made directly: the deadline is in the past), with its
    technical proposal, quoting the unit price of the lot's one item (1000 × CARE-VISIT) when the
    price divides evenly."""
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Bid
    with app.app_context(), tenant_scope(tenant_id(app, code)):
        from portal.files.services import store_upload
        unit_prices = {"CARE-VISIT": price_fen // 1000} if price_fen % 1000 == 0 else {}
        bid = Bid(lot_id=lot_id, contractor_id=contractor_id, opens_at=utcnow() - timedelta(hours=1),
                  price_fen=price_fen, staff_ids=[], valid=valid, unit_prices_fen=unit_prices,
                  proposal_file_id=store_upload(None, data=PDF).id)
        db.session.add(bid)
        db.session.commit()
        return bid.id


def pass_deadline(app, tender_id, code="ganxian"):
    """The bid deadline passes: the tender's deadline and every bid's opening move to a minute ago
    (as a moved deadline does, through the seal's own ``move_opening``)."""
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Tender
    from portal.tenders.sealing import move_opening
    past = utcnow() - timedelta(minutes=1)
    with app.app_context(), tenant_scope(tenant_id(app, code)):
        tender = db.session.get(Tender, tender_id)
        tender.bid_deadline = past
        move_opening(db.session, [lot.id for lot in tender.lots], past)
        db.session.commit()
    return past


# A lawful committee for an open tender (87号令 §47): five members, all experts.
COMMITTEE = ("王专家", "陈专家", "李专家", "赵专家", "孙专家")


def evaluation_ready(app, tender_id, experts=COMMITTEE, code="ganxian"):
    """Move the tender to evaluation (closing bidding) and record experts; returns expert ids."""
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.tenders import evaluation
    from portal.tenders.models import Tender
    with app.app_context(), tenant_scope(tenant_id(app, code)):
        tender = db.session.get(Tender, tender_id)
        evaluation.open_bids(tender, utcnow())
        ids = [evaluation.add_expert(tender, name).id for name in experts]
        db.session.commit()
        return ids


def score(app, bid_id, expert_id, technical, business, code="ganxian"):
    """One expert's points as the officer types them, e.g. "44.5"."""
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.tenders import evaluation
    from portal.tenders.models import Bid, Expert
    with app.app_context(), tenant_scope(tenant_id(app, code)):
        evaluation.enter_score(db.session.get(Bid, bid_id), db.session.get(Expert, expert_id),
                               evaluation.parse_points(technical), evaluation.parse_points(business))
        db.session.commit()


def score_all(app, bid_id, expert_ids, technical, business, code="ganxian"):
    """Every member gives the same points."""
    for expert_id in expert_ids:
        score(app, bid_id, expert_id, technical, business, code)


def confirm_award(app, lot_id, now=None, code="ganxian"):
    """Confirm the winner of a ranked lot (awards.confirm_award, committed); returns the award id."""
    from portal.extensions import db
    from portal.tenancy.scope import tenant_scope
    from portal.tenders import awards
    from portal.tenders.models import Lot
    with app.app_context(), tenant_scope(tenant_id(app, code)):
        award = awards.confirm_award(db.session.get(Lot, lot_id), now or utcnow())
        db.session.commit()
        return award.id


def three_scored_bids(app):
    """Weight 30 %; prices 90,000.00 / 100,000.00 / 120,000.00 yuan by 甲, 乙, 丙; five experts;
    totals 91.50 / 94.00 / 91.75 (乙 wins). Returns {"tender", "lot", "bids", "experts", "contractors"}."""
    tender = make_tender(app, price_weight=30, deadline=utcnow())
    lot = tender["lots"][0]
    contractors = [make_contractor(app, name=name, manager=f"m{i}", staff=1)
                   for i, name in enumerate(("甲社工服务中心", "乙养老服务公司", "丙社会工作事务所"))]
    bids = [add_opened_bid(app, lot, k["id"], yuan * 100)
            for k, yuan in zip(contractors, (90_000, 100_000, 120_000))]
    experts = evaluation_ready(app, tender["tender"])
    marks = {  # (technical, business) per expert; technical at most 46, business at most 24
        # the last three experts give the average of the first two, so the averages are theirs
        bids[0]: [("40", "20"), ("42", "21")] + [("41", "20.5")] * 3,
        bids[1]: [("45", "22"), ("44", "23")] + [("44.5", "22.5")] * 3,
        bids[2]: [("46", "24"), ("45.5", "23")] + [("45.75", "23.5")] * 3,
    }
    for bid_id, per_expert in marks.items():
        for expert_id, (technical, business) in zip(experts, per_expert):
            score(app, bid_id, expert_id, technical, business)
    return {"tender": tender["tender"], "lot": lot, "bids": bids, "experts": experts, "contractors": contractors}


def four_scored_bids(app):
    """three_scored_bids and 丁 (130,000.00 yuan, 38 + 19 from every member, ranked last): four
    valid bids, so that after the winner three qualified bids are left (94号令 §16(二), open
    tender: 3)."""
    world = three_scored_bids(app)
    d = make_contractor(app, name="丁社会服务中心", manager="m3", staff=1)
    bid = add_opened_bid(app, world["lot"], d["id"], 13_000_000)
    score_all(app, bid, world["experts"], "38", "19")
    world["contractors"].append(d)
    world["bids"].append(bid)
    return world


def two_lots_four_scored_bids(app):
    """A tender in evaluation with two lots, each with four scored valid bids (甲 90,000, 乙
    100,000, 丙 110,000, 丁 120,000 yuan; 丙 ranks first, then 乙) — so three qualified bidders
    are left after a winner falls to a challenge. Returns the make_tender ids and {lot id: bid ids}."""
    tender = make_tender(app, deadline=utcnow(), lots=((20_000_000, "照料护理"), (20_000_000, "能力评估")))
    names = ("甲社工服务中心", "乙养老服务公司", "丙社会工作事务所", "丁社会服务中心")
    contractors = [make_contractor(app, name=name, manager=f"m{i}", staff=1) for i, name in enumerate(names)]
    bids = {lot: [add_opened_bid(app, lot, k["id"], price * 100)
                  for k, price in zip(contractors, (90_000, 100_000, 110_000, 120_000))] for lot in tender["lots"]}
    experts = evaluation_ready(app, tender["tender"])
    for lot_bids in bids.values():
        for bid_id, (t, b) in zip(lot_bids, (("40", "20"), ("45", "22"), ("46", "24"), ("30", "15"))):
            score_all(app, bid_id, experts, t, b)
    return tender, bids
