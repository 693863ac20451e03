"""Award, the award announcement, challenges (质疑) and whether a contract may be signed
(docs/DOMAIN.md §3).

The officer confirms the first-ranked valid bid of a lot; the award result is published at
once as a disclosure (due within 2 working days of the confirmation) naming what the law
lists and nothing more; challenges are accepted for 7 working days after it; signing waits
while a challenge that may change the result is open (or was upheld)."""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.contractors.models import Contractor
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.lookup import get_or_not_found
from portal.core.money import format_fen
from portal.core.timeutil import local_today, to_local
from portal.core.workdays import UnknownCalendarYear
from portal.disclosures import publish
from portal.extensions import db
from portal.i18n import record_locale
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import committee, deadlines, evaluation
from portal.tenders.documents import documents_data
from portal.tenders.lifecycle import UNIT_LABELS
from portal.tenders.models import Award, Bid, Challenge

CHALLENGE_OUTCOMES = ("dismissed", "upheld")


def get_award(award_id):
    return get_or_not_found(Award, award_id, _("No such award."))


def award_of_lot(lot):
    """The lot's award in force (an award cancelled after an upheld challenge is not), or None."""
    return db.session.execute(select(Award).where(Award.lot_id == lot.id, Award.status == "active")
                              ).scalar_one_or_none()


def awards_of_lot(lot):
    """Every award of the lot, the cancelled ones included, oldest first."""
    return db.session.execute(select(Award).where(Award.lot_id == lot.id).order_by(Award.id)).scalars().all()


def confirm_award(lot, now):
    """Confirm the winner of a lot: the first of a complete ranking. Creates the Award (amount =
    the winning price), publishes the award result and, when no lot is left open, moves the
    tender to awarded."""
    tender = lot.tender
    if tender.status != "evaluation" or lot.status != "open":
        raise DomainError(_("Only a lot still under evaluation can be awarded."))
    problem = evaluation.ranking_incomplete(lot)
    if problem:
        raise DomainError(problem)
    winner = evaluation.ranking(lot)[0]
    previous = db.session.execute(select(Award).where(Award.lot_id == lot.id, Award.status == "cancelled")
                                  .order_by(Award.id.desc()).limit(1)).scalar_one_or_none()
    award = publish_award(lot, winner, now, supersedes=previous)
    evaluation.settle_tender(tender, now)
    return award


def publish_award(lot, ranked, now, supersedes=None):
    """Create the award of ``lot`` for the ranked bid ``ranked`` (an ``evaluation.Ranked``) and
    publish its award announcement now (due within 2 working days of today); the lot is awarded.
    ``supersedes`` is the cancelled award this one replaces: the announcement then says it
    corrects that result (tenders/remedies.py)."""
    calendar = tenant_calendar()
    confirmed_on = local_today(now)
    lot.tender.check_decision_day(confirmed_on, calendar)  # single source: after its publicity (实施条例 §38)
    dates = deadlines.award_deadlines(confirmed_on, calendar, published_on=confirmed_on)
    award = Award(lot_id=lot.id, bid_id=ranked.bid.id, contractor_id=ranked.bid.contractor_id,
                  amount_fen=ranked.bid.price_fen, total_centipoints=ranked.total_centipoints,
                  confirmed_on=confirmed_on, challenge_until=dates.challenge_until, created_at=now,
                  status="active", supersedes_id=supersedes.id if supersedes is not None else None)
    try:
        with db.session.begin_nested():  # the partial unique index: one award in force per lot
            db.session.add(award)
            db.session.flush()
    except IntegrityError:  # another officer awarded the lot at the same moment
        raise Conflict(_("This lot was awarded at the same moment from elsewhere; reload the page.")) from None
    lot.status = "awarded"
    db.session.flush()
    with record_locale():
        title, body, data = award_notice(award)
    publish("award_result", title, body, award, dates.publish_by, now, data=data)
    award.notice_published_at = now
    db.session.flush()
    return award


def award_notice(award):
    """(title, body, data) of the award announcement: the buyer and its contact, the project's
    name and number, the winner with its address and amount, the main service items with
    quantity, unit price and requirements, the experts and the tender documents (published with
    it). Nothing else of any bid, and no personal numbers."""
    lot, tender, winner = award.lot, award.lot.tender, award.contractor
    bid = award.bid
    items = []
    for item in lot.items:
        unit_fen = (bid.unit_prices_fen or {}).get(item.code)
        items.append({"code": item.code, "name": item.name, "unit": item.unit, "quantity": item.quantity,
                      "unit_price_fen": unit_fen, "requirements": item.requirements})
    named = committee.experts_named(tender)
    experts = [e["name"] for e in named]
    buyer = evaluation._buyer_name()
    lines = corrects_lines(award) + [
        _("Buyer: %(buyer)s", buyer=buyer),
        _("Buyer contact: %(contact)s", contact=tender.buyer_contact or "—"),
        _("Project: %(title)s (number %(number)s)", title=tender.title, number=tender.number),
        _("Lot %(number)s: %(title)s", number=lot.number, title=lot.title),
        _("Winner: %(name)s", name=winner.name),
        _("Winner's address: %(address)s", address=winner.address or "—"),
        _("Award amount: %(amount)s yuan", amount=format_fen(award.amount_fen)),
        _("Main service items:"),
    ]
    for item in items:
        # every bid quotes its unit prices (tenders/bidding.py); "—" only for a bid from before that rule
        price = (_("%(price)s yuan", price=format_fen(item["unit_price_fen"])) if item["unit_price_fen"] is not None
                 else "—")
        lines.append(_("- %(name)s: %(quantity)s × %(unit)s, unit price %(price)s; requirements: %(req)s",
                       name=item["name"], quantity=item["quantity"],
                       unit=str(UNIT_LABELS.get(item["unit"], item["unit"])), price=price,
                       req=item["requirements"] or "—"))
    lines.append(_("Evaluation experts: %(names)s", names="、".join(
        f"{e['name']}（{e['field']}）" if e["field"] else e["name"] for e in named) or "—"))
    tender_documents = documents_data(tender)
    lines.append(_("Tender documents: %(name)s (published with this notice)", name=tender_documents["name"])
                 if tender_documents else _("Tender documents: —"))
    lines.append(_("Challenges (质疑) are accepted until %(day)s.", day=award.challenge_until.isoformat()))
    title = _("Award result: %(title)s, lot %(number)s", title=tender.title, number=lot.number)
    data = {"buyer": buyer, "buyer_contact": tender.buyer_contact, "tender_number": tender.number,
            "tender_title": tender.title, "lot": lot.number, "lot_title": lot.title,
            "winner": {"name": winner.name, "address": winner.address, "credit_code": winner.credit_code},
            "amount_fen": award.amount_fen, "items": items, "experts": experts,
            "expert_fields": {e["name"]: e["field"] for e in named if e["field"]},
            "challenge_until": award.challenge_until.isoformat(), "tender_documents": tender_documents}
    if award.supersedes is not None:
        title = _("Corrected award result: %(title)s, lot %(number)s", title=tender.title, number=lot.number)
        data["corrects_award"] = award.supersedes_id
    return title, "\n".join(lines), data


def corrects_lines(award):
    """The opening lines of an award announcement that replaces a cancelled result."""
    old = award.supersedes
    if old is None:
        return []
    return [_("Correction: the award result published on %(day)s (winner %(name)s) is cancelled: %(reason)s",
              day=to_local(old.notice_published_at).date().isoformat() if old.notice_published_at else "—",
              name=old.contractor.name, reason=old.cancel_reason or "—"),
            _("The result below replaces it.")]


def record_challenge(award, *, challenger, grounds, may_change_result, now):
    """Record a challenge received during the challenge period (up to and including its last
    day, Beijing time); refused after it."""
    if award.status != "active":
        raise DomainError(_("This award was cancelled; challenge the result now in force."))
    if local_today(now) > award.challenge_until:
        raise DomainError(_("The challenge period ended on %(day)s; the challenge cannot be accepted.",
                            day=award.challenge_until.isoformat()))
    challenger, grounds = (challenger or "").strip(), (grounds or "").strip()
    errors = {}
    if not challenger:
        errors["challenger"] = [_("This field is required.")]
    if not grounds:
        errors["grounds"] = [_("This field is required.")]
    if errors:
        raise DomainError(_("Name the challenger and the grounds."), errors)
    challenge = Challenge(award=award, received_at=now, challenger=challenger[:200], grounds=grounds,
                          may_change_result=bool(may_change_result), status="open")
    db.session.add(challenge)
    db.session.flush()
    return challenge


def own_bid(award, contractor_id):
    """The contractor's bid on the awarded lot (not withdrawn), or None."""
    if contractor_id is None:
        return None
    return db.session.execute(
        select(Bid).where(Bid.lot_id == award.lot_id, Bid.contractor_id == contractor_id,
                          Bid.withdrawn_at.is_(None))).scalars().first()


def lodge_challenge(award, manager, grounds, now):
    """A bidder challenges (质疑) the result itself, through the portal: its manager, during the
    challenge period, for a lot the contractor bid on. The challenge is recorded in the
    contractor's name as one that may change the result, so signing waits for its answer."""
    if own_bid(award, manager.contractor_id) is None:
        raise NotFound(_("No such award."))
    contractor = db.session.get(Contractor, manager.contractor_id)
    return record_challenge(award, challenger=contractor.name, grounds=grounds, may_change_result=True, now=now)


def challenges_of(award, challenger):
    """The challenges lodged in ``challenger``'s name against the award, oldest first."""
    return db.session.execute(
        select(Challenge).where(Challenge.award_id == award.id, Challenge.challenger == challenger)
        .order_by(Challenge.received_at)).scalars().all()


def get_challenge(challenge_id):
    return get_or_not_found(Challenge, challenge_id, _("No such challenge."))


def answer_challenge(challenge, *, outcome, answer, now):
    """Answer an open challenge: dismissed, or upheld (the result must then be redone, and the
    contract of this award is never signed)."""
    if challenge.status != "open":
        raise DomainError(_("This challenge was already answered."))
    if outcome not in CHALLENGE_OUTCOMES:
        raise DomainError(_("Choose whether the challenge is dismissed or upheld."))
    if not (answer or "").strip():
        raise DomainError(_("Write the answer."), {"answer": [_("This field is required.")]})
    challenge.status, challenge.answer, challenge.answered_at = outcome, answer.strip(), now
    db.session.flush()
    return challenge


def answer_due(challenge, calendar=None):
    """``(day, None)``: the last day to answer a challenge, 7 working days from its receipt
    (政府采购法 §53); or ``(None, why)`` when that falls in a year the calendar cannot count."""
    try:
        return deadlines.challenge_answer_due(to_local(challenge.received_at).date(),
                                              calendar or tenant_calendar()), None
    except UnknownCalendarYear as unknown:
        return None, unknown.message


def signing_blocked(award):
    """``(True, reason)`` while the contract of this award may not be signed: before the award
    notice is published, while a challenge that may change the result is open, or after one was
    upheld; ``(False, "")`` otherwise. For the contracts package to call before signing."""
    if award.status == "cancelled":
        return True, _("This award was cancelled after an upheld challenge; a contract follows only the result "
                       "now in force.")
    if award.notice_published_at is None:
        return True, _("The award result has not been published yet.")
    db.session.flush()
    challenges = db.session.execute(
        select(Challenge).where(Challenge.award_id == award.id).order_by(Challenge.received_at)).scalars()
    for challenge in challenges:
        if challenge.may_change_result and challenge.status == "open":
            return True, _("A challenge that may change the result is still open (received %(when)s).",
                           when=to_local(challenge.received_at).strftime("%Y-%m-%d"))
        if challenge.may_change_result and challenge.status == "upheld":
            return True, _("A challenge against this result was upheld; the result must be decided again.")
    return False, ""


def award_rule_note(today=None):
    """What confirming a winner today sets going, with the days it sets, counted by the same
    functions as the award itself: the result out at once, up for its publicity period, challenges
    accepted until a day, the contract signed by a day."""
    today = today or local_today()
    try:
        calendar = tenant_calendar()
        until = deadlines.challenge_until(today, calendar)
        sign_by = deadlines.contract_sign_by(today, calendar)
    except UnknownCalendarYear as unknown:
        return unknown.message
    return _("Confirmed today, the result is published at once and stays up for %(up)s working day; challenges are "
             "accepted until %(until)s (%(days)s working days after that); the contract is signed within %(sign)s "
             "days of the notice, by %(sign_by)s.", up=deadlines.RESULT_STAYS_UP_WORKING_DAYS, until=until.isoformat(),
             days=deadlines.CHALLENGE_WORKING_DAYS, sign=deadlines.CONTRACT_SIGN_DAYS, sign_by=sign_by.isoformat())
