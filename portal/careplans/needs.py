"""The care contractor's needs assessment of a person (docs/DOMAIN.md §2.2, §6): one score from 1
(no need) to 5 (very high need) and a note for each of the four dimensions (health maintenance,
psychological and emotional support, home safety, capability building), recorded by the manager
of a care contractor for a person assigned to one of its care contracts on the day assessed.
A plan is drafted from the contractor's latest assessment of the person (plans.py)."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from portal.careplans import people
from portal.careplans.labels import DIMENSION_LABELS, NEEDS_FIELD_LABELS as FIELD_LABELS
from portal.careplans.models import DIMENSIONS, SCORES, NeedsAssessment
from portal.core.errors import DomainError, NotFound
from portal.core.timeutil import local_today
from portal.extensions import db

NOTE_LIMIT = 1000


def checked_needs(scores, notes):
    """``(scores, notes)`` as stored ({dimension: int}, {dimension: text}); DomainError naming each
    dimension that has no score from 1 to 5 (``score_<dimension>``) or no note (``note_<dimension>``)."""
    errors, kept_scores, kept_notes = {}, {}, {}
    for dimension in DIMENSIONS:
        score = (scores or {}).get(dimension)
        if isinstance(score, bool) or score not in SCORES:
            errors[f"score_{dimension}"] = [_("Choose a score from 1 to 5.")]
        else:
            kept_scores[dimension] = int(score)
        note = ((notes or {}).get(dimension) or "").strip()
        if not note:
            errors[f"note_{dimension}"] = [_("Write what the score rests on.")]
        elif len(note) > NOTE_LIMIT:
            errors[f"note_{dimension}"] = [_("At most %(n)s characters.", n=NOTE_LIMIT)]
        else:
            kept_notes[dimension] = note
    if errors:
        raise DomainError(missing_text(errors), errors)
    return kept_scores, kept_notes


def missing_text(errors):
    """The refusal of an incomplete assessment naming what is missing or wrong, field by field in
    the form's order ("请补全：照料服务合同、健康维护的评分、…")."""
    named = []
    if "contract" in errors:
        named.append(str(FIELD_LABELS["contract"]))
    if "assessed_on" in errors:
        named.append(str(FIELD_LABELS["assessed_on"]))
    for dimension in DIMENSIONS:
        if f"score_{dimension}" in errors:
            named.append(_("the score of %(dimension)s", dimension=DIMENSION_LABELS[dimension]))
        if f"note_{dimension}" in errors:
            named.append(_("what the score of %(dimension)s rests on", dimension=DIMENSION_LABELS[dimension]))
    return _("The needs assessment is incomplete; check: %(fields)s.", fields=_(", ").join(named))


def record_needs(person, contract_id, assessed_on, scores, notes, user, now):
    """Record the needs assessment of ``person`` by the manager ``user`` under their care contract
    ``contract_id`` on ``assessed_on`` (not in the future). Returns the NeedsAssessment."""
    if not user.can("careplan.draft") or user.contractor_id is None:
        raise NotFound(_("No such beneficiary."))
    if not isinstance(assessed_on, date):
        message = _("Give a date (YYYY-MM-DD).")
        raise DomainError(message, {"assessed_on": [message]})
    if assessed_on > local_today(now):
        message = _("The day of the assessment cannot be in the future.")
        raise DomainError(message, {"assessed_on": [message]})
    errors, contract = {}, None
    try:
        contract = people.care_contract_of(person, contract_id, user, assessed_on)
    except DomainError as exc:
        if exc.status != 422:  # a contract the manager may not see at all
            raise
        errors.update(exc.errors)
    try:
        kept_scores, kept_notes = checked_needs(scores, notes)
    except DomainError as exc:
        errors.update(exc.errors)
    if errors:  # every field at once, not the first refusal alone
        raise DomainError(missing_text(errors), errors)
    row = NeedsAssessment(beneficiary_id=person.id, contract_id=contract.id, contractor_id=contract.contractor_id,
                          assessed_on=assessed_on, scores=kept_scores, notes=kept_notes, recorded_by_id=user.id,
                          recorded_at=now)
    db.session.add(row)
    db.session.flush()
    return row


def needs_of(person, user):
    """The needs assessments of ``person`` that ``user`` may read (the bureau all, a contractor its
    own), newest first."""
    stmt = select(NeedsAssessment).where(NeedsAssessment.beneficiary_id == person.id)
    if not user.can("careplan.read_all"):
        stmt = stmt.where(NeedsAssessment.contractor_id == (user.contractor_id or -1))
    return db.session.scalars(stmt.order_by(NeedsAssessment.assessed_on.desc(), NeedsAssessment.id.desc())).all()


def latest_needs(person, contractor_id):
    """The latest needs assessment of ``person`` by ``contractor_id``, or None."""
    return db.session.scalars(
        select(NeedsAssessment).where(NeedsAssessment.beneficiary_id == person.id,
                                      NeedsAssessment.contractor_id == contractor_id)
        .order_by(NeedsAssessment.assessed_on.desc(), NeedsAssessment.id.desc()).limit(1)).first()
