"""Opening and comprehensive scoring (综合评分法, docs/DOMAIN.md §3), after the bid deadline.

- The bids open when the tender closes for bids (``Tender.close_bidding``); before that the
  seal hides them and nothing here finds a bid.
- Experts are named; each enters technical and business points per valid bid, within the sums
  of the tender's criteria maxima, in centipoints.
- price score = lowest valid price / this price × price weight; total = price score + the
  experts' average technical and business points. Computed with exact fractions and rounded
  half-up to centipoints once, at the end; the ranking compares the rounded totals (what is
  published), a tie going to the lower price, then to the higher average technical points.
- An open-tender lot left with fewer than 3 valid bids fails (废标) and can be re-tendered.
"""
from dataclasses import dataclass
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.errors import DomainError, NotFound
from portal.core.money import parse_yuan
from portal.core.timeutil import local_today
from portal.core.workdays import UnknownCalendarYear
from portal.disclosures import publish
from portal.extensions import db
from portal.i18n import record_locale
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import committee
from portal.tenders.bidding import missing_proposal_reason
from portal.tenders.models import Bid, BidScore, EvaluationCriterion, Lot, LotItem, Tender

# The least number of valid bids a lot needs, per method (others: any number).
MIN_VALID_BIDS = {"open_tender": 3}
FAILED_NOTICE_WORKING_DAYS = 2


def half_up(value: Fraction) -> int:
    """Round a non-negative fraction to the nearest integer, halves up."""
    return int((value * 2 + 1) // 2)


def to_centipoints(points: Fraction) -> int:
    return half_up(points * 100)


def parse_points(text):
    """'27.5' -> 2750 centipoints, exactly; DomainError for anything else."""
    try:
        value = parse_yuan(text)
    except ValueError:
        raise DomainError(_("Points are a number with at most two decimals.")) from None
    if value < 0:
        raise DomainError(_("Points cannot be negative."))
    return value


@dataclass
class Ranked:
    bid: Bid
    price_score: Fraction
    technical: Fraction        # average technical points of the experts who scored
    business: Fraction
    scored_by: int             # how many experts scored this bid
    total: Fraction
    rank: int = 0

    @property
    def total_centipoints(self):
        return to_centipoints(self.total)

    @property
    def price_centipoints(self):
        return to_centipoints(self.price_score)

    @property
    def technical_centipoints(self):
        return to_centipoints(self.technical)

    @property
    def business_centipoints(self):
        return to_centipoints(self.business)


def evaluation_lot(lot_id):
    lot = db.session.get(Lot, lot_id)
    if lot is None:
        raise NotFound(_("No such lot."))
    return lot


def _require_evaluation(tender):
    if tender.status != "evaluation":
        raise DomainError(_("Bids are opened and scored only while the tender is under evaluation."))


def lot_bids(lot):
    """The lot's bids the reader may see (none before the opening), withdrawn ones included."""
    return db.session.execute(select(Bid).where(Bid.lot_id == lot.id).order_by(Bid.id)).scalars().all()


def open_bids(tender, now):
    """Close bidding at or after the deadline (unless the scheduled job already did) and open
    the bids; a bid without its technical proposal is invalid at once; any open-tender lot with fewer than 3 bids fails at once (no validity decision
    can bring it to 3). Safe to repeat."""
    if tender.status == "tendering":
        tender.close_bidding(now)
    _require_evaluation(tender)
    db.session.flush()
    for lot in tender.lots:
        if lot.status == "open":
            submitted = [b for b in lot_bids(lot) if not b.withdrawn]
            _invalidate_incomplete(submitted)
            _fail_if_too_few(lot, submitted, now)
    return tender


def evaluation_unopened(tender):
    """Whether ``tender`` is in evaluation with its opening steps never done: a lot still open
    whose bids nobody has screened (not one has a validity decision; a lot with no bid at all
    counts). After ``open_bids`` such a lot has only complete bids, at least as many as its method
    needs, so opening it again changes nothing; a lot the officer has begun to screen is left to
    the officer."""
    if tender.status != "evaluation":
        return False
    for lot in tender.lots:
        if lot.status == "open" and all(b.valid is None for b in lot_bids(lot) if not b.withdrawn):
            submitted = [b for b in lot_bids(lot) if not b.withdrawn]
            if len(submitted) < MIN_VALID_BIDS.get(tender.method, 0) or any(
                    missing_proposal_reason(b) for b in submitted):
                return True
    return False


def _invalidate_incomplete(bids):
    """A bid opened without its technical proposal is invalid (it was never complete)."""
    for bid in bids:
        reason = missing_proposal_reason(bid) if bid.valid is None else None
        if reason:
            bid.valid, bid.invalid_reason = False, reason
    db.session.flush()


def add_expert(tender, name, organisation="", kind="expert", field=""):
    """Record a member of the evaluation committee (tenders/committee.py), by default an expert."""
    return committee.add_member(tender, name, organisation, kind, field)


def _maxima(tender):
    technical = sum(c.max_points for c in tender.criteria if c.kind == "technical") * 100
    business = sum(c.max_points for c in tender.criteria if c.kind == "business") * 100
    return technical, business


def enter_score(bid, expert, technical_centipoints, business_centipoints):
    """One expert's technical and business points for one valid bid, within the criteria's maxima."""
    lot = bid.lot
    tender = lot.tender
    _require_evaluation(tender)
    if expert.tender_id != tender.id:
        raise NotFound(_("No such expert."))
    committee.check_composition(tender)
    if lot.status != "open" or not bid.counts:
        raise DomainError(_("Only valid bids of a lot still being evaluated are scored."))
    technical_max, business_max = _maxima(tender)
    errors = {}
    if not 0 <= technical_centipoints <= technical_max:
        errors["technical"] = [_("Technical points are between 0 and %(max)s.", max=technical_max / 100)]
    if not 0 <= business_centipoints <= business_max:
        errors["business"] = [_("Business points are between 0 and %(max)s.", max=business_max / 100)]
    if errors:
        raise DomainError(" ".join(m for ms in errors.values() for m in ms), errors)
    score = db.session.execute(
        select(BidScore).where(BidScore.bid_id == bid.id, BidScore.expert_id == expert.id)).scalar_one_or_none()
    if score is None:
        score = BidScore(bid_id=bid.id, expert_id=expert.id)
        db.session.add(score)
    score.technical_centipoints, score.business_centipoints = technical_centipoints, business_centipoints
    db.session.flush()
    return score


def decide_validity(bid, valid, reason, now):
    """Mark an opened bid valid, or invalid with a reason. Once every bid of an open-tender lot
    is decided and fewer than 3 are valid, the lot fails."""
    lot = bid.lot
    _require_evaluation(lot.tender)
    if lot.status != "open":
        raise DomainError(_("This lot is already decided."))
    if bid.withdrawn:
        raise DomainError(_("A withdrawn bid is not evaluated."))
    if valid:
        bid.valid, bid.invalid_reason = True, ""
    else:
        if not (reason or "").strip():
            raise DomainError(_("Give the reason the bid is invalid."), {"reason": [_("This field is required.")]})
        bid.valid, bid.invalid_reason = False, reason.strip()
    db.session.flush()
    submitted = [b for b in lot_bids(lot) if not b.withdrawn]
    if all(b.valid is not None for b in submitted):
        _fail_if_too_few(lot, submitted, now)
    return bid


def _fail_if_too_few(lot, submitted, now):
    needed = MIN_VALID_BIDS.get(lot.tender.method, 0)
    valid = [b for b in submitted if b.valid is not False]
    if len(valid) < needed:
        fail_lot(lot, _("Fewer than %(needed)s valid bids (%(count)s).", needed=needed, count=len(valid)), now)
        return True
    return False


def fail_lot(lot, reason, now):
    """废标: the lot fails with a reason, a failed-tender notice is published, and when no lot of
    the tender is left open the tender is closed (failed, or awarded if another lot was)."""
    tender = lot.tender
    lot.status, lot.failed_reason = "failed", reason
    try:
        due = tenant_calendar().add_working_days(local_today(now), FAILED_NOTICE_WORKING_DAYS)
    except UnknownCalendarYear:  # a year with no holiday schedule: due today, the failure not held up
        due = local_today(now)
    with record_locale():
        title = _("Failed tender: %(title)s, lot %(number)s", title=tender.title, number=lot.number)
        body = "\n".join([
            _("Buyer: %(buyer)s", buyer=_buyer_name()),
            _("Project: %(title)s (number %(number)s)", title=tender.title, number=tender.number),
            _("Lot %(number)s: %(title)s", number=lot.number, title=lot.title),
            _("The lot failed (废标): %(reason)s", reason=reason),
            _("The lot will be tendered again."),
        ])
    publish("failed_tender", title, body, lot, due, now,
            data={"tender_number": tender.number, "lot": lot.number, "reason": reason})
    db.session.flush()
    settle_tender(tender, now)


def settle_tender(tender, now):
    """When every lot is decided: awarded if any lot was awarded, failed if all failed."""
    if any(lot.status == "open" for lot in tender.lots) or tender.status != "evaluation":
        return
    if any(lot.status == "awarded" for lot in tender.lots):
        calendar = tenant_calendar()
        tender.confirm_award(local_today(now), calendar)
        tender.record_result_published(now, calendar)
    else:
        tender.fail(_("Every lot failed."))


def _buyer_name():
    from flask import g
    tenant = g.get("tenant")
    if tenant is None:
        from portal.tenancy.models import Tenant
        from portal.tenancy.scope import current_tenant_id
        tenant = db.session.get(Tenant, current_tenant_id())
    return tenant.name if tenant else ""


def scores_by_bid(lot):
    """{bid id: {expert id: BidScore}} for the lot."""
    rows = db.session.execute(
        select(BidScore).join(Bid, BidScore.bid_id == Bid.id).where(Bid.lot_id == lot.id)).scalars()
    table = {}
    for score in rows:
        table.setdefault(score.bid_id, {})[score.expert_id] = score
    return table


def rank(bids, scores, price_weight_percent):
    """The comprehensive-scoring ranking of ``bids`` (the valid ones) with ``scores``
    ({bid id: [(technical, business) centipoints per expert]}). Pure: no database."""
    if not bids:
        return []
    lowest = min(b.price_fen for b in bids)
    ranked = []
    for bid in bids:
        marks = scores.get(bid.id, [])
        n = len(marks)
        technical = Fraction(sum(t for t, _b in marks), 100 * n) if n else Fraction(0)
        business = Fraction(sum(b for _t, b in marks), 100 * n) if n else Fraction(0)
        price_score = Fraction(lowest, bid.price_fen) * price_weight_percent
        ranked.append(Ranked(bid, price_score, technical, business, n, price_score + technical + business))
    ranked.sort(key=lambda r: (-r.total_centipoints, r.bid.price_fen, -r.technical, r.bid.id))
    for position, row in enumerate(ranked, start=1):
        row.rank = position
    return ranked


def ranking(lot):
    """The lot's ranking of its valid (not withdrawn, not invalid) bids."""
    bids = [b for b in lot_bids(lot) if b.counts]
    table = scores_by_bid(lot)
    scores = {bid_id: [(s.technical_centipoints, s.business_centipoints) for s in by_expert.values()]
              for bid_id, by_expert in table.items()}
    return rank(bids, scores, lot.tender.price_weight_percent)


def ranking_incomplete(lot):
    """Why the lot's ranking cannot decide the award yet, or None."""
    tender = lot.tender
    bids = [b for b in lot_bids(lot) if not b.withdrawn]
    if any(b.valid is None for b in bids):
        return _("Decide for every bid whether it is valid first.")
    valid = [b for b in bids if b.valid]
    if not valid:
        return _("There is no valid bid.")
    if len(valid) < MIN_VALID_BIDS.get(tender.method, 0):
        return _("Fewer than %(needed)s valid bids: the lot fails.", needed=MIN_VALID_BIDS[tender.method])
    if not tender.experts:
        return _("Record the evaluation experts first.")
    problem = committee.composition_problem(tender.method, list(tender.experts), tender.budget_fen)
    if problem:
        return problem
    missing = unscored_cells(lot, valid)
    if missing:
        cells = "、".join(f"{bid.contractor.name} × {member.name}" for bid, member in missing[:5])
        more = len(missing) - 5
        return _("Every expert must score every valid bid. Unscored: %(cells)s%(more)s.", cells=cells,
                 more=_(" and %(n)s more", n=more) if more > 0 else "")
    return None


def unscored_cells(lot, bids=None):
    """The (bid, member) cells of the score sheet left blank: unscored, never 0."""
    bids = bids if bids is not None else [b for b in lot_bids(lot) if b.counts]
    table = scores_by_bid(lot)
    return [(bid, member) for bid in bids for member in lot.tender.experts
            if member.id not in table.get(bid.id, {})]


def retender(tender, by, now):
    """Copy a tender with a failed lot as a new draft (retender_of_id), with the failed lots,
    their items and the criteria; dates, bids and experts are not copied. The purchase intention
    is reused when it was published and covers the new budget (the same project, 财库〔2020〕10号:
    its 30 days have run), so the new notice need not wait another 30 days."""
    failed = [lot for lot in tender.lots if lot.status == "failed"]
    if not failed:
        raise DomainError(_("Only a tender with a failed lot can be tendered again."))
    existing = db.session.execute(select(Tender).where(Tender.retender_of_id == tender.id)).scalar_one_or_none()
    if existing is not None:
        raise DomainError(_("This tender was already tendered again as %(number)s.", number=existing.number))
    copy = Tender(number=_next_number(tender.number), title=tender.title, method=tender.method, status="draft",
                  budget_line_id=tender.budget_line_id, budget_fen=sum(lot.budget_fen for lot in failed),
                  bid_bond_fen=0, price_weight_percent=tender.price_weight_percent,
                  buyer_contact=tender.buyer_contact, description=tender.description,
                  invited_contractor_ids=list(tender.invited_contractor_ids or []),
                  retender_of_id=tender.id, created_by_id=by.id if by else None, created_at=now)
    intention = tender.intention
    if intention is not None and intention.published_at is not None and copy.budget_fen <= intention.budget_fen:
        copy.intention_id = intention.id
    db.session.add(copy)
    db.session.flush()
    for number, lot in enumerate(failed, start=1):
        new_lot = Lot(tender_id=copy.id, number=number, title=lot.title, budget_fen=lot.budget_fen,
                      max_price_fen=lot.max_price_fen)
        db.session.add(new_lot)
        db.session.flush()
        for item in lot.items:
            db.session.add(LotItem(lot_id=new_lot.id, code=item.code, name=item.name, unit=item.unit,
                                   quantity=item.quantity, max_unit_price_fen=item.max_unit_price_fen,
                                   requirements=item.requirements))
    for criterion in tender.criteria:
        db.session.add(EvaluationCriterion(tender_id=copy.id, kind=criterion.kind, name=criterion.name,
                                           max_points=criterion.max_points))
    db.session.flush()
    return copy


def _next_number(number):
    taken = set(db.session.execute(select(Tender.number).where(Tender.number.like(f"{number}-R%"))).scalars())
    n = 1
    while f"{number}-R{n}"[:64] in taken:
        n += 1
    return f"{number}-R{n}"[:64]
