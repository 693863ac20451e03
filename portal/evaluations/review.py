"""The review of an annual performance evaluation (docs/DOMAIN.md §7, §9): submitting it, returning
or approving it under four eyes, and publishing it at approval.

Four eyes: the evaluation keeps its creator (``prepared_by_id``), everyone who created, computed
again, scored or submitted it (``editors``, kept for good, returns included) and its submitter
(``submitted_by_id``); none of them may approve or return it. At approval every quarter's
scorecard the evaluation averaged must still exist with the same score and be published, else it
is refused naming the quarters (the reviewer returns it and the preparer computes it again). An
approved evaluation is published at once and never changes."""
from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.errors import Conflict, DomainError, Forbidden
from portal.core.timeutil import to_local, utcnow
from portal.disclosures import publish as publish_disclosure
from portal.evaluations.services import (NOTE_LIMIT, OPEN_STATUSES, PART_LABELS, _locked, missing_indicators,
                                         note_editor)
from portal.extensions import db
from portal.feedback.services import names_in
from portal.i18n import record_locale
from portal.scorecards.models import Scorecard
from portal.scorecards.services import centi_text


def is_editor(evaluation, user):
    """Whether ``user`` created, changed or submitted the evaluation (and so may not review it)."""
    return user.id in (evaluation.editors or []) or user.id in (evaluation.prepared_by_id,
                                                                 evaluation.submitted_by_id)


def submit(evaluation, user, now=None):
    _locked(evaluation)
    if evaluation.status not in OPEN_STATUSES:
        raise Conflict(_("This evaluation has already been submitted."))
    errors = {}
    missing = [str(PART_LABELS[code]) for code in missing_indicators(evaluation)]
    if missing:
        errors["indicators"] = [_("Score these indicators before submitting: %(names)s.", names="、".join(missing))]
    if not (evaluation.conclusion or "").strip():
        errors["conclusion"] = [_("Write the conclusion before submitting.")]
    elif names_in(evaluation.conclusion):  # it is published: docs/DOMAIN.md §9
        errors["conclusion"] = [_("The conclusion names a person served or a worker; write it without the name.")]
    if errors:
        raise DomainError(" ".join(message for messages in errors.values() for message in messages), errors)
    evaluation.status, evaluation.submitted_at = "submitted", now or utcnow()
    evaluation.submitted_by_id = user.id
    note_editor(evaluation, user)
    db.session.flush()
    return evaluation


def _refuse_own(evaluation, user):
    if is_editor(evaluation, user):
        raise Forbidden(_("You prepared, changed or submitted this evaluation: another person must review it "
                          "(four eyes)."))


def changed_quarters(evaluation):
    """The quarters whose scorecard the evaluation averaged is gone, scores differently now or is
    not published."""
    rows = evaluation.quarters or []
    cards = {card.id: card for card in db.session.scalars(select(Scorecard).where(
        Scorecard.id.in_([row["scorecard_id"] for row in rows])))} if rows else {}
    changed = []
    for row in rows:
        card = cards.get(row["scorecard_id"])
        if card is None or card.contract_id != evaluation.contract_id or card.quarter != row["quarter"] \
                or card.score_centi != row["score_centi"] or card.published_at is None:
            changed.append(row["quarter"])
    return changed


def _reviewable(evaluation, user):
    _locked(evaluation)
    if evaluation.status != "submitted":
        raise Conflict(_("This evaluation is not awaiting review: it has already been decided."))
    _refuse_own(evaluation, user)


def send_back(evaluation, user, note, now=None):
    """Return the evaluation to its preparer with a note (required)."""
    note = (note or "").strip()
    if not note or len(note) > NOTE_LIMIT:
        message = _("Say what should be changed.") if not note else _("At most %(n)s characters.", n=NOTE_LIMIT)
        raise DomainError(message, {"note": [message]})
    _reviewable(evaluation, user)
    evaluation.status, evaluation.review_note = "returned", note
    evaluation.reviewed_by_id, evaluation.reviewed_at = user.id, now or utcnow()
    db.session.flush()
    return evaluation


def approve(evaluation, user, now=None):
    """Approve and publish at once: a disclosure of kind "performance_evaluation"."""
    _reviewable(evaluation, user)
    changed = changed_quarters(evaluation)
    if changed:
        raise Conflict(_("The scorecards of %(quarters)s changed or are not published since the evaluation was "
                         "computed: return it so that its preparer computes it again.", quarters=", ".join(changed)))
    now = now or utcnow()
    evaluation.status, evaluation.reviewed_by_id, evaluation.reviewed_at = "approved", user.id, now
    disclosure = _publish(evaluation, now)
    evaluation.published_at, evaluation.disclosure_id = now, disclosure.id
    db.session.flush()
    return evaluation


def public_data(evaluation, approved_on):
    """The disclosure's data: contract, contractor, year, the figures — nothing about any person."""
    contract = evaluation.contract
    return {"contract_number": contract.number, "contractor": contract.contractor.name, "year": evaluation.year,
            "score_centi": evaluation.score_centi, "scorecard_centi": evaluation.scorecard_centi,
            "threshold_centi": evaluation.threshold_centi, "below_threshold": evaluation.below_threshold,
            "quarters": [{"quarter": q["quarter"], "score_centi": q["score_centi"]} for q in evaluation.quarters],
            "indicators": [{"code": i["code"], "weight": i["weight"], "score_centi": i["score_centi"]}
                           for i in evaluation.indicators],
            "approved_on": approved_on.isoformat()}


def public_body(evaluation):
    contract = evaluation.contract
    lines = [_("Contract: %(number)s %(title)s", number=contract.number, title=contract.title),
             _("Contractor: %(name)s", name=contract.contractor.name),
             _("Year: %(year)s", year=evaluation.year),
             _("Score: %(score)s of 100", score=centi_text(evaluation.score_centi)), ""]
    lines.append(_("%(part)s (weight %(weight)s): %(score)s", part=str(PART_LABELS["scorecards"]),
                   weight=evaluation.weights.get("scorecards", 0), score=centi_text(evaluation.scorecard_centi)))
    for row in evaluation.quarters:
        lines.append(f"  {row['quarter']}: {centi_text(row['score_centi'])}")
    for row in evaluation.indicators:
        lines.append(_("%(part)s (weight %(weight)s): %(score)s", part=str(PART_LABELS[row["code"]]),
                       weight=row["weight"], score=centi_text(row["score_centi"] or 0)))
    if evaluation.below_threshold:
        lines += ["", _("Below the threshold of %(threshold)s: the contract is flagged for the renewal decision.",
                        threshold=centi_text(evaluation.threshold_centi))]
    lines += ["", _("Conclusion:"), evaluation.conclusion]
    return "\n".join(lines)


def _publish(evaluation, now):
    contract = evaluation.contract
    with record_locale():  # a public notice, in the bureau's language whoever approves it
        title = _("Annual performance evaluation %(year)s: %(number)s %(contractor)s", year=evaluation.year,
                  number=contract.number, contractor=contract.contractor.name)
        body = public_body(evaluation)
    return publish_disclosure("performance_evaluation", title[:300], body, evaluation, evaluation.due_on, now,
                              data=public_data(evaluation, to_local(now).date()))
