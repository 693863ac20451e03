"""Contract rules that span several rows (docs/DOMAIN.md §5): a contract made from an award with its
service items, the budget line it commits, the moves of its state machine on the bureau's
calendar, amendments, who may see which contract, and the job that publishes contract notices
and amendments."""
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from portal.contracts.lifecycle import AMENDABLE, check_terms, IN_FORCE, MAX_AMENDMENT_PERCENT, RATIONALE_LABELS
from portal.contracts.models import (ADDING_RATIONALES, Amendment, AMENDMENT_RATIONALES, Contract, CONTRACT_STATUSES,
                                     ServiceItem, SUBCONTRACTING_BAN_CLAUSE)
from portal.contracts.notices import publish_amendment, publish_contract_notice
from portal.contracts.totals import check_items_within_ceiling, contract_ceiling_fen
from portal.core.errors import DomainError, NotFound
from portal.core.money import format_fen
from portal.core.timeutil import local_today, utcnow
from portal.core.workdays import UnknownCalendarYear
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import deadlines
from portal.tenders.models import Award, BudgetLine, Lot, SERVICE_UNITS
from portal.tenders.planning import committed_fen, reserved_fen

CONTRACT_FIELDS = ("title", "starts_on", "ends_on", "performance_bond_fen", "payment_terms",
                   "spot_check_penalty_multiplier", "violation_penalty_fen")
ITEM_FIELDS = ("code", "name", "unit", "unit_price_fen", "quota", "monthly_cap", "min_minutes", "max_minutes",
               "daily_limit_per_beneficiary", "photo_required")


# --- who sees what ---------------------------------------------------------------------------

def contracts_query(user, q="", status="", contractor_id=None):
    """The contract list for ``user``: the whole bureau for its staff and auditors, only their
    own organisation's contracts for a contractor manager; search by number or title."""
    stmt = select(Contract).order_by(Contract.created_at.desc(), Contract.id.desc())
    if not user.can("contract.read_all"):
        stmt = stmt.where(Contract.contractor_id == (user.contractor_id or -1))
    elif contractor_id:
        stmt = stmt.where(Contract.contractor_id == contractor_id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Contract.number.ilike(like), Contract.title.ilike(like)))
    if status in CONTRACT_STATUSES:
        stmt = stmt.where(Contract.status == status)
    return stmt


def get_contract(contract_id, user):
    """The contract if ``user`` may see it; another contractor's (or another bureau's, which the
    tenant scope never loads) is simply not found."""
    contract = db.session.get(Contract, contract_id)
    if contract is None or not contract.visible_to(user):
        raise NotFound(_("No such contract."))
    return contract


def awards_awaiting_contract():
    """Published awards in force of awarded lots that have no contract yet, oldest first (a lot
    re-evaluated after a challenge puts its tender back under evaluation, not the other lots)."""
    stmt = (select(Award).join(Lot, Award.lot_id == Lot.id)
            .where(Lot.status == "awarded", Award.notice_published_at.is_not(None), Award.status == "active",
                   Award.id.not_in(select(Contract.award_id)))
            .order_by(Award.confirmed_on, Award.id))
    return db.session.execute(stmt).scalars().all()


def get_award_for_contract(award_id):
    award = db.session.get(Award, award_id)
    if award is None:
        raise NotFound(_("No such award."))
    if db.session.execute(select(Contract.id).where(Contract.award_id == award.id)).first():
        raise DomainError(_("This award already has a contract."))
    if award.lot.status != "awarded" or award.notice_published_at is None or award.status != "active":
        raise DomainError(_("A contract can be made only from a published award of an awarded tender."))
    return award


# --- drafting --------------------------------------------------------------------------------

def proposed_items(award):
    """The service items of a new contract, taken from the lot: code, name, unit, the quantity as
    the quota, and the unit price the winning bid quoted for the item (None when it quoted only a
    total: the officer enters it)."""
    quoted = (award.bid.unit_prices_fen or {}) if award.bid is not None else {}
    return [{"code": item.code, "name": item.name, "unit": item.unit, "unit_price_fen": quoted.get(item.code),
             "quota": item.quantity, "monthly_cap": None, "min_minutes": None, "max_minutes": None,
             "daily_limit_per_beneficiary": None, "photo_required": False} for item in award.lot.items]


def proposed_terms(award, today=None):
    """Defaults of the contract form: the lot's title, the tender's budget line, a period from
    today to the end of the budget year, no bond, the bureau's spot-check penalty multiplier for
    new contracts (tenant setting ``contract_penalty_multiplier``, default 2)."""
    from datetime import date

    today = today or local_today()
    tenant = db.session.get(Tenant, award.tenant_id) if award.tenant_id is not None else None
    multiplier = tenant.setting("contract_penalty_multiplier") if tenant is not None else 2
    line = award.lot.tender.budget_line
    year = line.year if line is not None else today.year
    return {"title": f"{award.lot.tender.title} · {award.lot.title}", "budget_line_id": award.lot.tender.budget_line_id,
            "starts_on": today, "ends_on": date(max(year, today.year), 12, 31), "performance_bond_fen": 0,
            "payment_terms": "monthly_settlement", "spot_check_penalty_multiplier": multiplier,
            "violation_penalty_fen": 0}


def next_contract_number(year):
    """HT-GANXIAN-2026-003: the bureau's code, the year, a running number."""
    tenant = db.session.get(Tenant, current_tenant_id())
    prefix = f"HT-{tenant.code.upper()}-{year}-"
    count = db.session.execute(select(func.count()).select_from(Contract)
                               .where(Contract.number.like(f"{prefix}%"))).scalar_one()
    while True:
        count += 1
        number = f"{prefix}{count:03d}"
        if not db.session.execute(select(Contract.id).where(Contract.number == number)).first():
            return number


def check_items(items):
    """Service items: at least one; a known unit; a code unique in the contract; unit price and
    quota above zero; a monthly cap within the quota; minimum and maximum minutes in order; a
    daily limit per beneficiary of at least 1 when set."""
    if not items:
        raise DomainError(_("A contract needs at least one service item."))
    seen = set()
    for item in items:
        code = (item.get("code") or "").strip()
        label = code or "?"
        if not code or not (item.get("name") or "").strip():
            raise DomainError(_("Every service item needs a code and a name."))
        if code in seen:
            raise DomainError(_("Two service items have the code %(code)s.", code=code))
        seen.add(code)
        if item.get("unit") not in SERVICE_UNITS:
            raise DomainError(_("Service item %(code)s: unknown unit.", code=label))
        if item.get("unit_price_fen") is None or item["unit_price_fen"] <= 0:
            raise DomainError(_("Service item %(code)s: enter a unit price greater than zero.", code=label))
        if item.get("quota") is None or item["quota"] <= 0:
            raise DomainError(_("Service item %(code)s: the quota must be greater than zero.", code=label))
        cap = item.get("monthly_cap")
        if cap is not None and not 0 < cap <= item["quota"]:
            raise DomainError(_("Service item %(code)s: the monthly cap must be between 1 and the quota.", code=label))
        low, high = item.get("min_minutes"), item.get("max_minutes")
        if (low is not None and low < 0) or (high is not None and high <= 0) or (
                low is not None and high is not None and high < low):
            raise DomainError(_("Service item %(code)s: the minimum and maximum minutes are not in order.", code=label))
        limit = item.get("daily_limit_per_beneficiary")
        if limit is not None and limit < 1:
            raise DomainError(_("Service item %(code)s: the daily limit per beneficiary must be at least 1.",
                                code=label))


def check_budget_line_room(line, amount_fen, award, extra_fen=0):
    """Refuse a contract (or an amendment adding ``extra_fen``) that would take its budget line
    past the line's amount. The contract's own award is left out, so it is not counted twice."""
    if line is None:
        raise DomainError(_("Choose the budget line that pays for this contract."))
    available = line.amount_fen - committed_fen(line, exclude_award=award) - reserved_fen(line)
    if amount_fen + extra_fen > available:
        raise DomainError(_(
            "The budget line %(line)s has %(available)s yuan left; a contract of %(amount)s yuan would exceed it.",
            line=line.name, available=format_fen(available), amount=format_fen(amount_fen + extra_fen)))


def _apply(contract, data, items):
    line = db.session.get(BudgetLine, data.get("budget_line_id") or contract.budget_line_id or -1)
    if line is None:
        raise DomainError(_("Choose the budget line that pays for this contract."))
    contract.budget_line = line
    for name in CONTRACT_FIELDS:
        if name in data:
            setattr(contract, name, data[name])
    # The clause is fixed: whatever a caller sends goes through the model's check, which refuses
    # anything but the ban word for word.
    contract.subcontracting_ban_clause = data.get("subcontracting_ban_clause", SUBCONTRACTING_BAN_CLAUSE)
    check_terms(contract)
    check_items(items)
    check_items_within_ceiling(contract, items)
    check_budget_line_room(line, contract.amount_fen, contract.award)


def _replace_items(contract, items):
    by_code = {item.code: item for item in contract.items}
    keep = set()
    for values in items:
        code = values["code"].strip()
        keep.add(code)
        row = by_code.get(code)
        if row is None:
            row = ServiceItem(contract=contract, code=code)
            db.session.add(row)
        for name in ITEM_FIELDS:
            if name != "code":
                value = values.get(name)
                setattr(row, name, value.strip() if isinstance(value, str) else value)
        row.photo_required = bool(values.get("photo_required"))
    for code, row in by_code.items():
        if code not in keep:
            contract.items.remove(row)
            db.session.delete(row)  # a draft's item: nothing refers to it yet


def create_contract(award, data, items, user):
    """A draft contract from a published award: the award's contractor, its amount (the winning
    price), the terms and the service items; refused beyond the budget line, with a bond over
    10 %, with items (quota × unit price) above the amount, or without the subcontracting ban."""
    award = get_award_for_contract(award.id)
    data = {**data, "budget_line_id": data.get("budget_line_id") or award.lot.tender.budget_line_id}
    line = db.session.get(BudgetLine, data["budget_line_id"])
    number = (data.get("number") or "").strip() or next_contract_number(line.year if line else local_today().year)
    if db.session.execute(select(Contract.id).where(Contract.number == number)).first():
        raise DomainError(_("Another contract already has the number %(number)s.", number=number))
    contract = Contract(number=number, award=award, award_id=award.id, contractor_id=award.contractor_id,
                        amount_fen=award.amount_fen, status="draft", created_by_id=user.id if user else None,
                        subcontracting_ban_clause=SUBCONTRACTING_BAN_CLAUSE)
    _apply(contract, data, items)
    db.session.add(contract)
    db.session.flush()
    _replace_items(contract, items)
    db.session.flush()
    return contract


def update_contract(contract, data, items):
    """Change a draft: terms, budget line and service items (never the amount or the parties);
    the items (quota × unit price) stay within the amount."""
    contract.ensure_editable()
    _apply(contract, data, items)
    _replace_items(contract, items)
    db.session.flush()
    return contract


# --- moves of the state machine ----------------------------------------------------------------

def _not_in_future(on, now):
    if on > local_today(now):
        raise DomainError(_("The date %(day)s is in the future.", day=on.isoformat()))


def sign(contract, on, now=None, late_reason=""):
    """Sign on day ``on`` (not in the future); the contract notice is scheduled 2 working days
    later on the bureau's calendar and published by the hourly job. After day 30 of the award
    notice only with ``late_reason``."""
    _not_in_future(on, now or utcnow())
    contract.sign(on, tenant_calendar(), late_reason)
    db.session.flush()


def activate(contract, on, now=None):
    _not_in_future(on, now or utcnow())
    contract.activate(on)
    db.session.flush()


def suspend(contract, on, reason, now=None):
    _not_in_future(on, now or utcnow())
    contract.suspend(on, reason)
    db.session.flush()


def resume(contract, on, now=None):
    _not_in_future(on, now or utcnow())
    contract.resume(on)
    db.session.flush()


def complete(contract, on, now=None):
    _not_in_future(on, now or utcnow())
    contract.complete(on)
    db.session.flush()


def terminate(contract, on, reason, amount_paid_fen, now=None):
    _not_in_future(on, now or utcnow())
    contract.terminate(on, reason, amount_paid_fen)
    db.session.flush()


# --- amendments ------------------------------------------------------------------------------

def add_amendment(contract, *, rationale, description, added_fen, new_ends_on, signed_on, user, now=None,
                  added_quotas=None):
    """An amendment (补充协议) to a contract in force, typed by its rationale; only an addition of
    the same subject matter (追加同一标的) adds money or units (政府采购法 §49). Additions may total
    at most 10 % of the original amount (exactly 10 % is allowed) and must fit the budget line; a
    new end date may only lengthen the period. ``added_quotas`` ({item code: units}) buys more of
    the same services: only items the contract has, at their unit price, and the items (quota ×
    unit price) stay within the amount with the amendments, this one included. Published by the
    hourly job like the contract notice, due 2 working days after its signing."""
    if contract.status not in AMENDABLE:
        raise DomainError(_("A contract that is %(status)s cannot be amended.", status=contract.status_label))
    if rationale not in AMENDMENT_RATIONALES:
        raise DomainError(_("Choose the rationale of the amendment."), {"rationale": [_("This field is required.")]})
    if not (description or "").strip():
        raise DomainError(_("Describe the amendment."), {"description": [_("This field is required.")]})
    added_fen = added_fen or 0
    if added_fen < 0:
        raise DomainError(_("An amendment adds money or nothing; it cannot take money away."))
    if (added_fen or any((added_quotas or {}).values())) and rationale not in ADDING_RATIONALES:
        message = _("Only an addition of the same subject matter (追加同一标的) may add money or services to a "
                    "contract (政府采购法 §49); an amendment typed “%(type)s” cannot.",
                    type=str(RATIONALE_LABELS.get(rationale, rationale)))
        raise DomainError(message, {"rationale": [message]})
    if signed_on is None or signed_on < (contract.signed_on or signed_on):
        raise DomainError(_("An amendment is signed after the contract."))
    _not_in_future(signed_on, now or utcnow())
    if added_fen > contract.amendment_room_fen:
        raise DomainError(_(
            "Amendments may add at most 10 %% of the original amount (%(limit)s yuan) in total; "
            "%(room)s yuan is left.",
            limit=format_fen(contract.amount_fen * MAX_AMENDMENT_PERCENT // 100),
            room=format_fen(max(contract.amendment_room_fen, 0))), {"added": [_("Too much.")]})
    if new_ends_on is not None and new_ends_on <= contract.ends_on:
        raise DomainError(_("The new end date must be after the current one (%(day)s).",
                            day=contract.ends_on.isoformat()))
    if added_fen:
        check_budget_line_room(contract.budget_line, contract.total_fen, contract.award, extra_fen=added_fen)
    added_quotas = _check_added_quotas(contract, added_quotas or {}, added_fen)
    number = max((a.number for a in contract.amendments), default=0) + 1
    amendment = Amendment(contract=contract, number=number, rationale=rationale, description=description.strip(),
                          added_fen=added_fen, new_ends_on=new_ends_on, signed_on=signed_on,
                          added_quotas=added_quotas, created_by_id=user.id if user else None)
    db.session.add(amendment)
    for item in contract.items:
        if item.code in added_quotas:
            item.quota += added_quotas[item.code]
    if new_ends_on is not None:
        contract.ends_on = new_ends_on
    db.session.flush()
    return amendment


def _check_added_quotas(contract, added_quotas, added_fen):
    """More of the same services only (政府采购法 §49): units added to items the contract has, each a
    whole number above zero, the items afterwards within the amount with every amendment, and
    money added only as the price of the units added."""
    items = {item.code: item for item in contract.items}
    clean = {}
    for code, units in added_quotas.items():
        if code not in items:
            raise DomainError(_("An amendment adds only more of the services the contract has; %(code)s is not one "
                                "of its service items.", code=code))
        if units is None or isinstance(units, bool) or not isinstance(units, int) or units < 0:
            raise DomainError(_("Service item %(code)s: the units added must be a whole number above zero.",
                                code=code))
        if units:
            clean[code] = units
    if clean:
        after = [{"quota": item.quota + clean.get(item.code, 0), "unit_price_fen": item.unit_price_fen}
                 for item in contract.items]
        check_items_within_ceiling(contract, after, ceiling_fen=contract_ceiling_fen(contract) + added_fen)
    bought = sum(units * items[code].unit_price_fen for code, units in clean.items())
    if added_fen and bought != added_fen:
        # the money added is the price of the units added, at the contract's unit prices: nothing else
        message = _("An addition of the same subject matter (政府采购法 §49) adds money only as the price of more "
                    "units of the contract's services: the units added cost %(bought)s yuan, not %(added)s yuan.",
                    bought=format_fen(bought), added=format_fen(added_fen))
        raise DomainError(message, {"added": [message]})
    return clean


# --- publication -----------------------------------------------------------------------------

def amendment_due_on(amendment, calendar):
    return deadlines.contract_publish_by(amendment.signed_on, calendar)


def publish_due_notices(now=None):
    """Publish every contract notice (合同公告) and amendment of the current bureau that is
    scheduled and not yet out, as disclosures. Idempotent: a published one is skipped, and the
    rows are locked while this runs, so two runs never publish the same notice twice. Returns
    (contract ids, amendment ids) published."""
    now = now or utcnow()
    calendar = tenant_calendar()
    contracts = db.session.execute(
        select(Contract).where(Contract.status.in_(IN_FORCE), Contract.notice_due_on.is_not(None),
                               Contract.notice_published_at.is_(None))
        .order_by(Contract.id).with_for_update(of=Contract)).scalars().all()
    for contract in contracts:
        publish_contract_notice(contract, now)
        contract.notice_published_at = now
    db.session.flush()
    amendments = db.session.execute(
        select(Amendment).join(Contract, Amendment.contract_id == Contract.id)
        .where(Amendment.published_at.is_(None), Contract.notice_published_at.is_not(None))
        .order_by(Amendment.contract_id, Amendment.number).with_for_update(of=Amendment)).scalars().all()
    for amendment in amendments:
        try:
            due_on = amendment_due_on(amendment, calendar)
        except UnknownCalendarYear:  # a year with no calendar: published now, the rest not held up
            due_on = local_today(now)
        publish_amendment(amendment, due_on, now)
        amendment.published_at = now
    db.session.flush()
    return [c.id for c in contracts], [a.id for a in amendments]

