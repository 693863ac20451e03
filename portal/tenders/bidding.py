"""Sealed bids from the contractor's side (docs/DOMAIN.md §3): submit, change, withdraw, until the
bid deadline; read back only by the contractor itself until the opening (tenders/sealing.py).

A bid is per lot: a price in fen no higher than the lot's maximum price, a technical proposal
(a PDF, judged by its content) and a staffing plan naming members of the contractor's own
active roster. Only a contractor approved by the bureau and not on its blacklist may bid
(``portal.contractors.services.can_bid``); an invited tender accepts only the invited."""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.contractors.models import StaffMember
from portal.contractors.services import can_bid
from portal.core.errors import Conflict, DomainError, Forbidden, NotFound
from portal.core.lookup import get_or_not_found
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.files.services import store_upload
from portal.tenders.models import Bid, Lot, Tender

PROPOSAL_TYPES = ("application/pdf",)


def _contractor_of(user):
    if not user.can("bid.submit") or not user.contractor_id:
        raise Forbidden(_("Only the manager of a registered organisation can bid."))
    return user.contractor_id


def biddable_lot(lot_id):
    """The lot of a published tender of the current bureau, or NotFound (tenancy applies)."""
    lot = db.session.get(Lot, lot_id)
    if lot is None or lot.tender.notice_published_at is None:
        raise NotFound(_("No such lot."))
    return lot


def bidding_refusal(lot, contractor_id, now):
    """Why this contractor cannot bid on (or change its bid for) this lot now, or None."""
    tender = lot.tender
    if tender.status != "tendering" or tender.bid_deadline is None:
        return _("This tender is not open for bids.")
    if now >= tender.bid_deadline:
        return _("The bid deadline has passed; bids are no longer accepted or changed.")
    if lot.status != "open":
        return _("This lot is not open for bids.")
    if tender.method == "invited_tender" and contractor_id not in (tender.invited_contractor_ids or []):
        return _("This is an invited tender; only the invited organisations may bid.")
    allowed, reason = can_bid(contractor_id, local_today(now))
    return None if allowed else reason


def own_bid(lot_id, contractor_id):
    """The contractor's own bid on a lot (withdrawn or not), or None."""
    return db.session.execute(
        select(Bid).where(Bid.lot_id == lot_id, Bid.contractor_id == contractor_id)).scalar_one_or_none()


def own_bids(contractor_id):
    """Every bid of the contractor with the current bureau, newest first."""
    return db.session.execute(
        select(Bid).where(Bid.contractor_id == contractor_id).order_by(Bid.submitted_at.desc())).scalars().all()


def open_lots():
    """Lots of the current bureau's tenders that are open for bids, by deadline."""
    return db.session.execute(
        select(Lot).join(Tender, Lot.tender_id == Tender.id)
        .where(Tender.status == "tendering", Lot.status == "open")
        .order_by(Tender.bid_deadline, Tender.id, Lot.number)).scalars().all()


def _check_price(lot, price_fen, unit_prices_fen):
    errors = {}
    if isinstance(price_fen, bool) or not isinstance(price_fen, int) or price_fen <= 0:
        errors["price_fen"] = [_("The price must be a whole number of fen greater than zero.")]
    elif price_fen > lot.max_price_fen:
        from portal.core.money import format_fen
        errors["price_fen"] = [_("The price may not exceed the lot's maximum price of %(max)s yuan.",
                                 max=format_fen(lot.max_price_fen))]
    items = {item.code: item for item in lot.items}
    if items and not errors:
        errors.update(_unit_price_errors(items, price_fen, unit_prices_fen or {}))
    if errors:
        raise DomainError(_("The bid is not valid."), errors)


def _unit_price_errors(items, price_fen, unit_prices_fen):
    """A unit price for every service item of the lot, none above its maximum, adding up (times
    the quantities) to the price: the award notice lists them (87号令 §69), so a lump sum
    ("included in the total price") is not a bid."""
    unknown = sorted(set(unit_prices_fen) - set(items))
    if unknown:
        return {"unit_prices_fen": [_("Unknown service items: %(codes)s.", codes=", ".join(unknown))]}
    missing = [code for code in items if code not in unit_prices_fen]
    if missing:
        return {"unit_prices_fen": [_(
            "Quote a unit price for every service item (missing: %(codes)s): the award notice lists each item's "
            "unit price (87号令 §69).", codes=", ".join(missing))]}
    for code, fen in unit_prices_fen.items():
        if isinstance(fen, bool) or not isinstance(fen, int) or fen <= 0:
            return {"unit_prices_fen": [_("Unit prices are whole numbers of fen greater than zero.")]}
        if fen > items[code].max_unit_price_fen:
            return {"unit_prices_fen": [_("The unit price of %(code)s exceeds its maximum.", code=code)]}
    total = sum(fen * items[code].quantity for code, fen in unit_prices_fen.items())
    if total != price_fen:
        from portal.core.money import format_fen
        return {"unit_prices_fen": [_("Quantities times unit prices add up to %(total)s yuan, not to the price.",
                                      total=format_fen(total))]}
    return {}


def _check_staff(contractor_id, staff_ids):
    if not staff_ids:
        raise DomainError(_("The bid is not valid."),
                          {"staff_ids": [_("Name at least one member of your roster in the staffing plan.")]})
    wanted = sorted(set(staff_ids))
    found = set(db.session.execute(
        select(StaffMember.id).where(StaffMember.id.in_(wanted), StaffMember.contractor_id == contractor_id,
                                     StaffMember.left_on.is_(None))).scalars())
    missing = [i for i in wanted if i not in found]
    if missing:
        raise DomainError(_("The bid is not valid."), {"staff_ids": [
            _("Not on your active roster: %(ids)s.", ids=", ".join(str(i) for i in missing))]})
    return wanted


def submit_bid(lot, user, *, price_fen, staff_ids, now, unit_prices_fen=None, proposal_required=False):
    """Submit or change the manager's bid on ``lot`` before the deadline: the price at most the
    lot's maximum with a unit price per service item, the staffing plan from the own active
    roster. A withdrawn bid may be submitted again. The bid opens at the tender's bid deadline.

    A bid needs its technical proposal: the page sends both at once and passes
    ``proposal_required`` when no file comes with it (refused unless the bid already has one);
    the API attaches it in a second call, and a bid still without one at the opening is invalid
    (``missing_proposal_reason``)."""
    contractor_id = _contractor_of(user)
    refusal = bidding_refusal(lot, contractor_id, now)
    if refusal:
        raise DomainError(refusal)
    _check_price(lot, price_fen, unit_prices_fen or {})
    staff = _check_staff(contractor_id, staff_ids)
    bid = own_bid(lot.id, contractor_id)
    if proposal_required and (bid is None or bid.withdrawn or bid.proposal_file_id is None):
        message = _("Attach the technical proposal (PDF): a bid cannot be submitted without it.")
        raise DomainError(message, {"proposal": [message]})
    if bid is None:
        bid = Bid(lot_id=lot.id, contractor_id=contractor_id, submitted_at=now)
        db.session.add(bid)
    bid.opens_at = lot.tender.bid_deadline
    bid.price_fen, bid.staff_ids, bid.unit_prices_fen = price_fen, staff, dict(unit_prices_fen or {})
    bid.updated_at, bid.withdrawn_at = now, None
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:  # the same bid sent twice at once: the other one won
        raise Conflict(_("Your bid was changed at the same moment from elsewhere; reload and try again.")) from None
    return bid


def attach_proposal(lot, user, file_storage, *, now):
    """Attach (or replace) the technical proposal of the manager's bid: a PDF by its content."""
    contractor_id = _contractor_of(user)
    refusal = bidding_refusal(lot, contractor_id, now)
    if refusal:
        raise DomainError(refusal)
    bid = own_bid(lot.id, contractor_id)
    if bid is None or bid.withdrawn:
        raise DomainError(_("Submit the price and staffing plan first, then the technical proposal."))
    stored = store_upload(file_storage, allowed=PROPOSAL_TYPES, uploaded_by_id=user.id)
    bid.proposal_file_id, bid.updated_at = stored.id, now
    db.session.flush()
    return bid


def missing_proposal_reason(bid):
    """Why an opened bid is invalid for want of a technical proposal, or None."""
    if bid.proposal_file_id is None:
        return _("No technical proposal was submitted with the bid.")
    return None


def withdraw_bid(lot, user, *, now):
    """Withdraw the manager's bid before the deadline; it stays on record, out of the evaluation."""
    contractor_id = _contractor_of(user)
    refusal = bidding_refusal(lot, contractor_id, now)
    if refusal:
        raise DomainError(refusal)
    bid = own_bid(lot.id, contractor_id)
    if bid is None or bid.withdrawn:
        raise DomainError(_("There is no bid to withdraw."))
    bid.withdrawn_at = bid.updated_at = now
    db.session.flush()
    return bid


def readable_bid(bid_id):
    """A bid the person may read now — the seal decides — or NotFound."""
    return get_or_not_found(Bid, bid_id, _("No such bid."))


def staff_names(bid):
    """Names of the staffing plan's members, in the plan's order."""
    if not bid.staff_ids:
        return []
    rows = db.session.execute(select(StaffMember.id, StaffMember.name).where(StaffMember.id.in_(bid.staff_ids))).all()
    names = dict(rows)
    return [names.get(i, "?") for i in bid.staff_ids]
