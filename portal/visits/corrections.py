"""Corrections of a visit's times (docs/DOMAIN.md §6): the recorded clock times are never edited; a
correction is a separate adjusted time with a reason code and who made it, and it may only shorten
the visit.

A contractor's correction is only a proposal: it stays ``pending`` — the rules keep judging the
times in force (the recorded ones, or an earlier accepted correction), so every finding it would
clear (V03, V04, V05, V08 …) stays open — until a supervisor accepts it; then the rules run again
with the corrected times. A rejection changes nothing else. A supervisor's own correction is
accepted at once. A newer correction of the same visit supersedes a pending one, so there is at
most one pending correction per visit. Every change is made on ORM rows (audited); the caller
commits."""
from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.visits import verification
from portal.visits.models import Visit, VisitCorrection
from portal.visits.recording import _refuse, checked_time, CORRECTION_REASONS, visits_visible_to

DECISIONS = ("accept", "reject")


def _rerun_rules(visit, now):
    db.session.flush()
    verification.on_corrected(visit, now)


def correct_times(visit, *, reason_code, user, now, check_in_at=None, check_out_at=None, note=""):
    """Record adjusted times for a visit (a supervisor of the bureau or the contractor's manager).
    The recorded times and coordinates never change; the correction may only shorten the visit
    (start no earlier and end no later than the last correction still standing, and still end after
    it starts). The visit no longer counts as recorded live. A supervisor's correction is in force
    at once and the rules run again; a manager's waits for a supervisor's decision."""
    if not user.can("visit.correct", visit):
        raise NotFound(_("No such visit."))
    if reason_code not in CORRECTION_REASONS:
        _refuse("reason_code", _("Choose a reason for the correction."))
    if visit.status == "rejected":
        _refuse("visit", _("A rejected visit cannot be corrected."))
    current_in, current_out = visit.times_with(visit.standing_correction)  # what it must shorten
    if current_out is None:
        _refuse("check_out_at", _("The visit has no check-out yet; it cannot be corrected."))
    new_in = checked_time(check_in_at, "check_in_at") if check_in_at else current_in
    new_out = checked_time(check_out_at, "check_out_at") if check_out_at else current_out
    if new_in < current_in:
        _refuse("check_in_at", _("A correction may only shorten the visit: the start cannot move earlier."))
    if new_out > current_out:
        _refuse("check_out_at", _("A correction may only shorten the visit: the end cannot move later."))
    if new_out <= new_in:
        _refuse("check_out_at", _("The corrected end must be after the corrected start."))
    if (new_in, new_out) == (current_in, current_out):
        _refuse("check_in_at", _("Give a corrected start or end that differs from the times in force."))
    for earlier in visit.corrections:
        if earlier.status == "pending":
            earlier.status = "superseded"
    by_supervisor = user.can("correction.decide")
    correction = VisitCorrection(visit_id=visit.id, adjusted_check_in_at=new_in, adjusted_check_out_at=new_out,
                                 reason_code=reason_code, note=(note or "").strip()[:2000], made_by_id=user.id,
                                 made_at=now, status="accepted" if by_supervisor else "pending",
                                 decided_by_id=user.id if by_supervisor else None,
                                 decided_at=now if by_supervisor else None)
    visit.corrections.append(correction)
    visit.recorded_live = False
    if by_supervisor:
        _rerun_rules(visit, now)
    else:
        db.session.flush()
    return correction


def decide(correction, decision, by, note="", now=None):
    """A supervisor accepts a pending correction (it comes into force and the rules run again with
    the corrected times: what it clears disappears, what it causes is raised) or rejects it (the
    times in force and every finding stay as they are)."""
    if not by.can("correction.decide"):
        raise NotFound(_("No such correction."))
    if decision not in DECISIONS:
        message = _("Choose accept or reject.")
        raise DomainError(message, {"decision": [message]})
    if correction.status != "pending":
        raise Conflict(_("This correction has already been decided."))
    now = now or utcnow()
    correction.status = "accepted" if decision == "accept" else "rejected"
    correction.decided_by_id, correction.decided_at = by.id, now
    correction.decision_note = (note or "").strip()[:2000]
    if decision == "accept":
        _rerun_rules(correction.visit, now)
    else:
        db.session.flush()
    return correction


def get_correction(visit, correction_id):
    """One correction of ``visit`` (whose reader was already checked), else NotFound."""
    found = next((c for c in visit.corrections if c.id == correction_id), None)
    if found is None:
        raise NotFound(_("No such correction."))
    return found


def pending_corrections(user):
    """The corrections waiting for a supervisor that ``user`` may see, oldest first."""
    visible = visits_visible_to(user).with_only_columns(Visit.id)
    return (select(VisitCorrection).where(VisitCorrection.status == "pending",
                                          VisitCorrection.visit_id.in_(visible))
            .order_by(VisitCorrection.made_at, VisitCorrection.id))
