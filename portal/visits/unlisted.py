"""V01 — work by someone on no roster of the contractor that day — is subcontracting (docs/DOMAIN.md §7):
the deliverable is never paid, whatever the contractor answers. A supervisor may only

- confirm the violation (reject the exception: the visit is rejected and the subcontracting
  violation recorded with it is confirmed), or
- when the roster itself was wrong and has since been corrected with employment evidence,
  re-check the roster: the rules run again on the visit, and V01 goes away only because the rule
  no longer finds it (the violation recorded with it is then dismissed: the signal
  ``unlisted_worker_cleared``, received by portal/violations/receivers.py).

Acceptance is refused in exceptions.accept. Settlement excludes every visit with a V01 row whatever
its status, which is why a cleared V01 is deleted (the audit trail keeps the row's history)."""
from flask_babel import gettext as _
from sqlalchemy import select

from portal.contractors.models import StaffEmployment, StaffMember
from portal.core.errors import DomainError, NotFound
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.i18n import record_locale
from portal.visits import exceptions, rules, verification
from portal.visits.signals import unlisted_worker_cleared

CODE = "V01"


def _employment_evidence(visit, day):
    """The roster entry of the visit's worker on ``day`` with a labour contract and social insurance
    paid by the contractor for that month, or None."""
    month = day.replace(day=1)
    members = db.session.scalars(select(StaffMember).where(
        StaffMember.user_id == visit.worker_user_id, StaffMember.contractor_id == visit.contractor_id)).all()
    for member in members:
        if not member.on_roster(day):
            continue
        record = db.session.execute(select(StaffEmployment).where(
            StaffEmployment.staff_id == member.id, StaffEmployment.month == month)).scalar_one_or_none()
        if record is not None and record.labour_contract and record.insured_by_own_contractor:
            return member
    return None


def recheck_roster(exception, by, note="", now=None):
    """A supervisor re-checks a V01 whose roster has been corrected: refused while the rule still
    finds the worker off the roster that day, or while the roster entry has no employment evidence
    for the month; otherwise the V01 row is removed, its violation dismissed, and every rule runs
    again on the visit (its status follows from what is left). Returns the visit."""
    if not by.can("exception.decide"):
        raise NotFound(_("No such exception."))
    if exception.code != CODE:
        raise DomainError(_("Only a V01 finding is re-checked against the roster."))
    if exception.status not in exceptions.DECIDABLE:
        raise DomainError(_("This exception has already been decided."))
    now = now or utcnow()
    visit = exception.visit
    day = rules.visit_day(visit)
    if rules.v01_unlisted_worker(visit, verification.settings_of(visit), now) is not None:
        raise DomainError(_("The worker is still on no roster of the contractor on %(day)s: the V01 finding "
                            "stands.", day=day.isoformat()))
    if _employment_evidence(visit, day) is None:
        raise DomainError(_("The worker's roster entry has no employment evidence for %(month)s (a labour contract "
                            "and social insurance paid by the contractor): the roster is not corrected yet.",
                            month=day.strftime("%Y-%m")))
    with record_locale():
        reason = _("The roster was corrected: the worker was on it on %(day)s with employment evidence.",
                   day=day.isoformat())
    unlisted_worker_cleared.send(exception, by=by, note=f"{reason} {(note or '').strip()}".strip()[:2000])
    visit.exceptions.remove(exception)
    db.session.delete(exception)
    db.session.flush()
    verification.verify_visit(visit.id, now)
    return visit
