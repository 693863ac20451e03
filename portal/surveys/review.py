"""The bureau's review and sign-off of a household survey (docs/DOMAIN.md §6, four eyes).

recorded → reviewed (by a bureau officer or supervisor) → signed_off (by ANOTHER one: never the
reviewer, never the surveyor, never whoever entered it); either step may instead return it with a
reason (``returned``, kept for ever: the surveyor records a corrected survey as a new one; signal
``survey_returned`` hands the change reports it had closed on, or opens them again).

Each step reads the survey's row afresh under an exclusive lock before deciding, so a second click
or two officers acting at the same moment are told it has been done already, never sign it off
twice. Sign-off judges the survey again against the standard in force on its day (a standard
dated back meanwhile counts), sets the re-survey's due day and sends ``survey_signed_off``; its
home visit becomes payable because billing queries the survey's status when it prices the visit
(billing does not receive the signal)."""
from flask_babel import gettext as _

from portal.audit.recorder import record_event
from portal.core.errors import Conflict, DomainError, NotFound
from portal.extensions import db
from portal.surveys import recording, schedule, signals
from portal.surveys.labels import STATUS_LABELS, label
from portal.tenancy.scope import current_tenant_id

REASON_LIMIT = 2000
ACTIONS = ("review", "sign_off", "return")
# the columns a decision depends on, read afresh (and locked) before every step
LOCKED = ["status", "surveyor_user_id", "reviewed_by_id", "signed_off_by_id", "returned_by_id"]


def _status_refusal(survey):
    """Why ``survey`` takes no more decision, from its status (a clear word for a second click)."""
    if survey.status == "signed_off":
        return _("This survey has already been signed off.")
    if survey.status == "returned":
        return _("This survey was returned to the surveyor: a returned survey cannot be reviewed or signed "
                 "off (the surveyor records a corrected one).")
    return _("This survey is %(status)s.", status=label(STATUS_LABELS, survey.status))


def refusal(action, survey, user):
    """Why ``user`` may not take ``action`` ("review", "sign_off", "return") on ``survey`` now, as
    ``(message, error class)``; ``None`` when it is open to them. Pages show the message beside an
    action that is not offered; the steps below raise it."""
    if not user.can("survey.review"):
        return _("Only a bureau officer or supervisor may review, sign off or return a survey."), DomainError
    if user.id == survey.surveyor_user_id:
        return _("You recorded this survey: another person must decide on it."), DomainError
    if action == "review":
        if survey.status != "recorded":
            return _status_refusal(survey), Conflict
        return None
    if action == "sign_off":
        if survey.status == "recorded":
            return _("This survey must be reviewed first: another officer then signs it off."), Conflict
        if survey.status != "reviewed":
            return _status_refusal(survey), Conflict
        if user.id == survey.reviewed_by_id:
            return _("You reviewed this survey: another officer must sign it off (four eyes)."), DomainError
        return None
    if survey.status not in ("recorded", "reviewed"):
        return _status_refusal(survey), Conflict
    return None


def _locked_and_allowed(action, survey, user):
    """Read ``survey``'s decision columns afresh under a row lock, then refuse if ``action`` is not
    open to ``user`` (a Conflict when the status moved on, a 422 for four eyes)."""
    if survey is None:
        raise NotFound(_("No such survey."))
    db.session.refresh(survey, LOCKED, with_for_update=True)
    refused = refusal(action, survey, user)
    if refused is not None:
        message, error = refused
        raise error(message, {"survey": [message]})


def _audit(action, survey, user, after):
    record_event(db.session, action, tenant_id=current_tenant_id(), actor=user, object_type="HouseholdSurvey",
                 object_id=str(survey.id), after=after)


def review(survey, user, now, note=""):
    """The first officer's review: recorded → reviewed, with an optional note."""
    note = (note or "").strip()
    if len(note) > REASON_LIMIT:
        message = _("At most %(n)s characters.", n=REASON_LIMIT)
        raise DomainError(message, {"note": [message]})
    _locked_and_allowed("review", survey, user)
    survey.status, survey.reviewed_at, survey.reviewed_by_id, survey.review_note = "reviewed", now, user.id, note
    db.session.flush()
    _audit("survey_reviewed", survey, user, {"at": now.isoformat()})
    return survey


def sign_off(survey, user, now):
    """The second officer's sign-off (never the reviewer, nor the surveyor): judges the survey again
    on the standard of its day, sets its re-survey's due day, and makes it payable."""
    _locked_and_allowed("sign_off", survey, user)
    before = survey.outcome
    recording.judge_survey(survey)
    survey.status, survey.signed_off_at, survey.signed_off_by_id = "signed_off", now, user.id
    survey.next_due_on = schedule.next_due_on(survey)
    db.session.flush()
    signals.survey_signed_off.send(survey)
    _audit("survey_signed_off", survey, user,
           {"at": now.isoformat(), "outcome": survey.outcome, "outcome_when_reviewed": before,
            "next_due_on": survey.next_due_on.isoformat() if survey.next_due_on else None})
    return survey


def return_survey(survey, user, now, reason):
    """Either step sends the survey back to the surveyor with a reason (required); it is kept,
    marked returned, never paid."""
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the survey is returned.")
        raise DomainError(message, {"reason": [message]})
    if len(reason) > REASON_LIMIT:
        message = _("At most %(n)s characters.", n=REASON_LIMIT)
        raise DomainError(message, {"reason": [message]})
    _locked_and_allowed("return", survey, user)
    survey.status, survey.returned_at, survey.returned_by_id, survey.return_reason = "returned", now, user.id, reason
    db.session.flush()
    signals.survey_returned.send(survey)
    # the reason may speak of the family's finances: the trail keeps that it was returned, not why
    _audit("survey_returned", survey, user, {"at": now.isoformat()})
    return survey


def open_actions(survey, user):
    """``{action: None | message}`` for the page: None where the action is open to ``user``, else
    why not (only for a user who may decide on surveys at all)."""
    if not user.can("survey.review"):
        return {}
    return {action: (refused[0] if (refused := refusal(action, survey, user)) else None) for action in ACTIONS}
