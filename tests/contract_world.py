"""Awards and contracts made directly with the models, for the contract tests (each helper opens
its own app context and tenant scope and commits)."""
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from portal.core.timeutil import LOCAL_TZ, local_today, utcnow
from tests import support
from tests.tender_world import tenant_id


def scope(app, code="ganxian"):
    from portal.tenancy.scope import tenant_scope
    return tenant_scope(tenant_id(app, code))


def at(day, hour=10):
    return datetime.combine(day, time(hour), tzinfo=LOCAL_TZ)


@support.once_per_run(on="demo")
def awarded(app, *, manager="a-manager", notice_on=None, amount_fen=10_000_000, line_amount=10**12, line_id=None,
            unit_prices=None, quantity=1000, code="ganxian"):
    """An awarded one-lot tender whose award notice went out on ``notice_on`` (default 5 days
    ago) to ``manager``'s organisation at ``amount_fen``. Returns ids. Built once per run and set
    of arguments on the demo people, then restored."""
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.tenders.models import Award, Bid, BudgetLine, Lot, LotItem, Tender
    notice_on = notice_on or local_today() - timedelta(days=5)
    notice_at = at(notice_on)
    with app.app_context(), scope(app, code):
        contractor_id = db.session.execute(select(User.contractor_id).where(User.username == manager)).scalar_one()
        if line_id is None:
            line = BudgetLine(year=notice_on.year, name=f"社会救助专项资金 {uuid.uuid4().hex[:6]}", fund_source="专项",
                              amount_fen=line_amount)
            db.session.add(line)
            db.session.flush()
            line_id = line.id
        tender = Tender(number=f"GX-T-{uuid.uuid4().hex[:6]}", title="特困人员照料护理服务", method="open_tender",
                        status="awarded", budget_line_id=line_id, budget_fen=amount_fen, price_weight_percent=30,
                        notice_published_at=notice_at - timedelta(days=40), result_published_at=notice_at,
                        result_confirmed_on=notice_on, challenge_until=notice_on + timedelta(days=10))
        db.session.add(tender)
        db.session.flush()
        lot = Lot(tender_id=tender.id, number=1, title="照料护理服务", budget_fen=amount_fen,
                  max_price_fen=amount_fen, status="awarded")
        db.session.add(lot)
        db.session.flush()
        db.session.add(LotItem(lot_id=lot.id, code="CARE-VISIT", name="上门照料", unit="visit", quantity=quantity,
                               max_unit_price_fen=amount_fen // quantity + 100))
        bid = Bid(lot_id=lot.id, contractor_id=contractor_id, opens_at=notice_at - timedelta(days=3),
                  price_fen=amount_fen, staff_ids=[], unit_prices_fen=dict(unit_prices or {}), valid=True)
        db.session.add(bid)
        db.session.flush()
        award = Award(lot_id=lot.id, bid_id=bid.id, contractor_id=contractor_id, amount_fen=amount_fen,
                      confirmed_on=notice_on, notice_published_at=notice_at,
                      challenge_until=notice_on + timedelta(days=10))
        db.session.add(award)
        db.session.commit()
        return {"award": award.id, "line": line_id, "tender": tender.id, "lot": lot.id,
                "contractor": contractor_id, "notice_on": notice_on}


def terms(**overrides):
    values = {"title": "特困人员照料护理服务合同", "starts_on": date(2026, 1, 1), "ends_on": date(2026, 12, 31),
              "performance_bond_fen": 0, "payment_terms": "monthly_settlement", "spot_check_penalty_multiplier": 2,
              "violation_penalty_fen": 50_000}
    values.update(overrides)
    return values


def items(price=10_000, quota=1000, **overrides):
    item = {"code": "CARE-VISIT", "name": "上门照料", "unit": "visit", "unit_price_fen": price, "quota": quota,
            "monthly_cap": None, "min_minutes": 30, "max_minutes": 240, "daily_limit_per_beneficiary": 1,
            "photo_required": True}
    item.update(overrides)
    return [item]


def draft(app, world, code="ganxian", item_list=None, **overrides):
    """A draft contract from ``world``'s award; returns its id."""
    from portal.accounts.models import User
    from portal.contracts import services
    from portal.extensions import db
    from portal.tenders.models import Award
    with app.app_context(), scope(app, code):
        officer = db.session.execute(select(User).where(User.role == "officer")).scalars().first()
        award = db.session.get(Award, world["award"])
        contract = services.create_contract(award, terms(**overrides), item_list or items(), officer)
        db.session.commit()
        return contract.id


def signed(app, world, on=None, code="ganxian", **overrides):
    """A contract signed on ``on`` (default: the day after the award notice)."""
    from portal.contracts import services
    from portal.contracts.models import Contract
    from portal.extensions import db
    contract_id = draft(app, world, code, **overrides)
    with app.app_context(), scope(app, code):
        services.sign(db.session.get(Contract, contract_id), on or world["notice_on"] + timedelta(days=1),
                      now=utcnow())
        db.session.commit()
    return contract_id
