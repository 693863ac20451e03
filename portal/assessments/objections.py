"""Objections to a publicity round (docs/DOMAIN.md §6, §9 "Public feedback"): anyone may object
during the period without an account, or the bureau writes down one taken by phone; each gets a
tracking number, and the bureau answers it (upheld or rejected). An upheld objection about a listed
person calls for a re-check of that assessment by another assessor (AssessmentRecheck, reason
"objection"). The contact given stays private: it is shown to bureau staff only, never on a public
page, and the audit trail redacts it (``AssessmentObjection.__audit_redact__``)."""
import secrets

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import parse
from sqlalchemy import select

from portal.assessments.models import AssessmentObjection, AssessmentRecheck
from portal.assessments.publicity import lock_round, phase
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import local_today, to_local
from portal.core.workdays import UnknownCalendarYear
from portal.extensions import current_limiter, db
from portal.tenancy.workdays import tenant_calendar

TEXT_LIMIT = 2000
CONTACT_LIMIT = 200
ANSWER_LIMIT = 4000
# Worded apart from the procurement pages' "Upheld" (质疑成立): an objection is 异议, not 质疑.
DECISION_LABELS = {"upheld": _l("Objection upheld"), "rejected": _l("Objection rejected")}
STATUS_LABELS = {"open": _l("Waiting for an answer"), **DECISION_LABELS}
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone


class Throttled(DomainError):
    status = 429


def _tracking_number(today):
    while True:
        number = f"YY{today:%Y%m%d}-" + "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(6))
        if db.session.scalar(select(AssessmentObjection.id).where(AssessmentObjection.tracking_number == number)) is None:
            return number


def throttle_public_post(address):
    """Count one public post from ``address`` and refuse (Throttled, 429) past the limit
    (PUBLIC_POST_LIMIT, default "5 per hour"), through the app's limiter storage (Redis in
    production) so that every web process counts together. Switched off with the limiter."""
    limiter = current_limiter()
    if not limiter.enabled:
        return
    limit = parse(current_app.config.get("PUBLIC_POST_LIMIT", "5 per hour"))
    if not limiter.limiter.hit(limit, f"public-post:{address}"):
        raise Throttled(_("Too many submissions from your address. Please try again in an hour."))


def submit_objection(publicity, text, now, *, assessment_id=None, contact="", by=None):
    """Record an objection to ``publicity`` during its period (the public's, or one the bureau
    took by phone: ``by`` is then the staff member). ``assessment_id``: the listed row it is about,
    if named. Returns the AssessmentObjection with its tracking number."""
    errors = {}
    text, contact = (text or "").strip(), (contact or "").strip()
    if not text:
        errors["text"] = [_("Write what you object to.")]
    elif len(text) > TEXT_LIMIT:
        errors["text"] = [_("At most %(n)s characters.", n=TEXT_LIMIT)]
    if len(contact) > CONTACT_LIMIT:
        errors["contact"] = [_("At most %(n)s characters.", n=CONTACT_LIMIT)]
    listed = {a.id for a in publicity.assessments}
    if assessment_id is not None and assessment_id not in listed:
        errors["assessment"] = [_("Choose a person of this list, or none.")]
    if phase(publicity, local_today(now)) != "open":
        raise DomainError(_("Objections are accepted only during the publicity period, from %(start)s to "
                            "%(end)s.", start=publicity.starts_on.isoformat(), end=publicity.ends_on.isoformat()))
    if errors:
        raise DomainError(_("The objection is not complete."), errors)
    objection = AssessmentObjection(tracking_number=_tracking_number(local_today(now)), publicity_id=publicity.id,
                                    assessment_id=assessment_id, text=text, contact=contact, received_at=now,
                                    recorded_by_id=by.id if by else None, status="open", answer="")
    db.session.add(objection)
    db.session.flush()
    return objection


def answer_objection(objection, decision, answer, by, now):
    """The bureau's answer: ``decision`` "upheld" or "rejected", with the text the objector reads.
    An upheld objection about a listed person adds a re-check of that assessment (if it has none).
    An answered objection is never answered again (Conflict)."""
    lock_round(objection.publicity)  # never while the round is being made final
    db.session.refresh(objection)
    if objection.status != "open":
        raise Conflict(_("This objection has already been answered."))
    errors = {}
    answer = (answer or "").strip()
    if decision not in DECISION_LABELS:
        errors["decision"] = [_("Choose upheld or rejected.")]
    if not answer:
        errors["answer"] = [_("Write the answer the objector will read.")]
    elif len(answer) > ANSWER_LIMIT:
        errors["answer"] = [_("At most %(n)s characters.", n=ANSWER_LIMIT)]
    if errors:
        raise DomainError(_("The answer is not complete."), errors)
    if objection.publicity.finalised_at is not None:
        raise Conflict(_("The round is final; its objections can no longer be answered."))
    objection.status, objection.answer = decision, answer
    objection.answered_at, objection.answered_by_id = now, by.id
    if decision == "upheld" and objection.assessment_id is not None:
        exists = db.session.scalar(select(AssessmentRecheck.id).where(
            AssessmentRecheck.assessment_id == objection.assessment_id))
        if exists is None:
            db.session.add(AssessmentRecheck(assessment=objection.assessment, publicity_id=objection.publicity_id,
                                             reason="objection", notes="", discrepancy=False))
    db.session.flush()
    return objection


def answer_due(objection, tenant):
    """(the day the answer is due, or None; why it cannot be counted, or None): the day of receipt
    (Beijing) plus ``feedback_answer_working_days`` working days of the bureau's calendar. A year
    without a known schedule is said, never a server error."""
    try:
        days = max(int(tenant.setting("feedback_answer_working_days")), 0)
    except (TypeError, ValueError):
        days = 5
    try:
        return tenant_calendar().add_working_days(to_local(objection.received_at).date(), days), None
    except UnknownCalendarYear as exc:
        return None, exc.message


def get_objection(objection_id):
    """One objection of the current bureau, or NotFound."""
    objection = db.session.get(AssessmentObjection, objection_id) if query.is_id(objection_id) else None
    if objection is None:
        raise NotFound(_("No such objection."))
    return objection


def find_by_tracking_number(number):
    """The current bureau's objection with this tracking number, or None (what the public lookup reads)."""
    number = (number or "").strip().upper()[:32]
    if not number:
        return None
    return db.session.scalar(select(AssessmentObjection).where(AssessmentObjection.tracking_number == number))


def objections_query(state=""):
    """The current bureau's objections, open ones first, then newest first."""
    stmt = select(AssessmentObjection).order_by((AssessmentObjection.status != "open"),
                                                AssessmentObjection.received_at.desc(), AssessmentObjection.id.desc())
    if state in STATUS_LABELS:
        stmt = stmt.where(AssessmentObjection.status == state)
    return stmt
