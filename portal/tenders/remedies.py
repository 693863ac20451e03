"""What follows an upheld challenge (质疑成立; 政府采购质疑和投诉办法 (财政部94号令) §16; docs/DOMAIN.md §3).

A challenge that is upheld changes the result: the officer chooses, once, one of

- ``re_evaluate``: the award is cancelled, the lot goes back to evaluation with the committee's
  scores kept for revision; confirming the winner again publishes a corrected award notice;
- ``next_ranked``: the award is cancelled and the lot is awarded at once to the next bidder of the
  committee's ranking whose bid is valid and was never awarded — a corrected award notice;
- ``retender``: the award is cancelled and the lot fails, so that ``/tenders/{id}/retender``
  copies it into a new tender (reusing the purchase intention, evaluation.retender).

Every cancellation is public: a notice (``award_cancellation``) or the corrected award notice that
names the cancelled result, each an OCDS release in which the first award is ``cancelled``
(portal/opendata). A contract is signed only from the award in force (awards.signing_blocked)."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.core.errors import DomainError
from portal.core.money import format_fen
from portal.core.timeutil import local_today, to_local
from portal.disclosures import disclosures_of, publish
from portal.extensions import db
from portal.i18n import record_locale
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import awards, evaluation
from portal.tenders.models import Award, Challenge
from portal.tenders.signals import award_contracts

REMEDIES = ("re_evaluate", "next_ranked", "retender")
REMEDY_LABELS = {"re_evaluate": _l("Re-evaluate (back to the scores)"),
                 "next_ranked": _l("Award to the next-ranked qualified bidder"),
                 "retender": _l("Re-tender the lot")}
CANCELLATION_NOTICE_WORKING_DAYS = 2


def next_ranked(award):
    """The committee's ranking of the lot, first row whose bid is valid and was never awarded
    (the cancelled winners are passed over), or None."""
    following = _never_awarded_valid(award)
    return following[0] if following else None


def _never_awarded_valid(award):
    """The ranked rows of the lot whose bid is valid and was never awarded, best first."""
    lot = award.lot
    awarded_bids = set(db.session.execute(select(Award.bid_id).where(Award.lot_id == lot.id)).scalars())
    return [row for row in evaluation.ranking(lot) if row.bid.id not in awarded_bids and row.bid.counts]


def next_ranked_refusal(award):
    """Why the lot may not go to the next-ranked bidder, or "": there must be one, and the
    qualified suppliers left (valid bids never awarded) must still reach the legal number of the
    method (财政部94号令 §16(二); 87号令 §43: three for public tendering)."""
    left = _never_awarded_valid(award)
    if not left:
        return _("No other valid bid is ranked on this lot: re-evaluate or tender again.")
    needed = evaluation.MIN_VALID_BIDS.get(award.lot.tender.method, 1)
    if len(left) < needed:
        return _("Only %(left)s qualified bids are left, fewer than the %(needed)s the law requires for this "
                 "method: re-evaluate or tender again.", left=len(left), needed=needed)
    return ""


def signed_contract_refusal(award):
    """While a signed contract of the award is not terminated, no remedy may be chosen
    (财政部94号令 §32(二)): the message naming it, or "". Contracts answers ``award_contracts``."""
    for _receiver, answer in award_contracts.send([award.id]):
        facts = (answer or {}).get(award.id)
        if facts and facts.get("signed_on"):
            return _("A contract of this award was signed (contract %(contract)s on %(day)s): first annul or "
                     "terminate it lawfully, then choose what follows the challenge.",
                     contract=facts.get("number") or facts["contract_id"], day=facts["signed_on"].isoformat())
    return ""


def remedy_choices(challenge):
    """The remedies open after ``challenge`` (upheld, none chosen, its award still in force, no
    signed contract of it in force): re-evaluation and re-tendering always, the next-ranked
    bidder when the qualified bids left reach the legal number."""
    if (challenge.status != "upheld" or not challenge.may_change_result or challenge.remedy
            or challenge.award.status != "active" or signed_contract_refusal(challenge.award)):
        return []
    choices = ["re_evaluate"]
    if not next_ranked_refusal(challenge.award):
        choices.append("next_ranked")
    return choices + ["retender"]


def _lock(challenge):
    """Lock the challenge's award row (two officers choosing at once wait for each other) and
    read the award and the challenge again, as committed by whoever held the lock before."""
    db.session.execute(select(Award).where(Award.id == challenge.award_id).with_for_update()
                       .execution_options(populate_existing=True)).scalar_one()
    return db.session.execute(select(Challenge).where(Challenge.id == challenge.id)
                              .options(joinedload(Challenge.award))
                              .execution_options(populate_existing=True)).scalar_one()


def choose_remedy(challenge, remedy, now):
    """Carry out the officer's choice after an upheld challenge; returns the new award
    (``next_ranked``) or None."""
    challenge = _lock(challenge)
    if challenge.status != "upheld" or not challenge.may_change_result:
        raise DomainError(_("Only an upheld challenge changes the result."))
    if challenge.remedy:
        raise DomainError(_("What follows this challenge was already decided."))
    award = challenge.award
    if award.status != "active":
        raise DomainError(_("This award was already cancelled."))
    if remedy not in REMEDIES:
        raise DomainError(_("Choose re-evaluation, the next-ranked bidder or a new tender."))
    refusal = signed_contract_refusal(award)
    if refusal:
        raise DomainError(refusal)
    following = None
    if remedy == "next_ranked":
        refusal = next_ranked_refusal(award)
        if refusal:
            raise DomainError(refusal)
        following = next_ranked(award)
    lot, tender = award.lot, award.lot.tender
    with record_locale():
        # public: the answer, not who challenged (a challenger's name stays in the bureau's record)
        reason = _("A challenge was upheld on %(day)s: %(answer)s",
                   day=to_local(challenge.answered_at or now).date().isoformat(), answer=challenge.answer)
    award.status, award.cancelled_at, award.cancel_reason = "cancelled", now, reason
    challenge.remedy, challenge.remedied_at = remedy, now
    db.session.flush()  # the lot has no active award before another one is made
    if remedy == "next_ranked":
        new = awards.publish_award(lot, following, now, supersedes=award)
        if tender.status == "awarded":  # else other lots are still evaluated; the tender settles later
            tender.result_confirmed_on = local_today(now)
            tender.record_result_published(now, tenant_calendar())
        return new
    if remedy == "re_evaluate":
        lot.status = "open"
        tender.status = "evaluation"
    else:
        lot.status, lot.failed_reason = "failed", reason
        # a tender still under evaluation settles when its last lot is decided (evaluation.settle_tender)
        if tender.status == "awarded" and not any(other.status == "awarded" for other in tender.lots):
            tender.status, tender.closed_reason = "failed", reason
    db.session.flush()
    _publish_cancellation(award, remedy, now)
    return None


def _publish_cancellation(award, remedy, now):
    """The public cancellation of an award (更正公告): the result it cancels, why, what follows."""
    lot, tender = award.lot, award.lot.tender
    with record_locale():
        title = _("Award result cancelled: %(title)s, lot %(number)s", title=tender.title, number=lot.number)
        follows = (_("The committee evaluates the lot again; the new result will be published.")
                   if remedy == "re_evaluate" else _("The lot will be tendered again."))
        body = "\n".join([
            _("Buyer: %(buyer)s", buyer=evaluation._buyer_name()),
            _("Project: %(title)s (number %(number)s)", title=tender.title, number=tender.number),
            _("Lot %(number)s: %(title)s", number=lot.number, title=lot.title),
            _("The award result published on %(day)s (winner %(name)s, %(amount)s yuan) is cancelled.",
              day=to_local(award.notice_published_at).date().isoformat() if award.notice_published_at else "—",
              name=award.contractor.name, amount=format_fen(award.amount_fen)),
            _("Reason: %(reason)s", reason=award.cancel_reason),
            follows,
        ])
    due = tenant_calendar().add_working_days(local_today(now), CANCELLATION_NOTICE_WORKING_DAYS)
    return publish("award_cancellation", title, body, award, due, now,
                   data={"tender_number": tender.number, "lot": lot.number, "cancelled_award": award.id,
                         "remedy": remedy, "reason": award.cancel_reason})


def correction_of(disclosure):
    """For an award announcement whose award was cancelled: the notice that cancelled or
    corrected it (the corrected award notice, else the cancellation notice), or None."""
    if disclosure.kind != "award_result" or disclosure.subject_type != "award" or not disclosure.subject_id:
        return None
    award = db.session.get(Award, disclosure.subject_id)
    if award is None or award.status != "cancelled":
        return None
    successor = db.session.execute(select(Award).where(Award.supersedes_id == award.id)
                                   .order_by(Award.id).limit(1)).scalar_one_or_none()
    if successor is not None:
        notices = disclosures_of(successor, "award_result")
        if notices:
            return notices[0]
    notices = disclosures_of(award, "award_cancellation")
    return notices[0] if notices else None
