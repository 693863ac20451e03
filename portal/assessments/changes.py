"""Change reports (docs/DOMAIN.md §6): a person went to hospital, moved, or their condition changed,
so their self-care class may no longer hold and a re-assessment is due within 10 working days of
the day it was reported (the bureau's working-day calendar). The person's next assessment made on
or after that day answers the report and closes it.

A report is made by the bureau's officers and supervisors or the contractor's manager (for their
own people), and opened by itself when the registry records that the person went to hospital or
moved (``beneficiaries.signals.status_recorded``, connected in receivers.py). The due list shows
the open reports (due) and those past their day (overdue)."""
import logging

from flask_babel import gettext as _
from sqlalchemy import select

from portal.assessments.models import ASSESSMENT_UNIT, CHANGE_KINDS, Assessment, ChangeReport
from portal.assessments.people import people_condition
from portal.beneficiaries.models import Beneficiary
from portal.beneficiaries.services import registered_by
from portal.contracts.models import Assignment, ServiceItem
from portal.core.errors import DomainError
from portal.core.timeutil import local_today, to_local, utcnow
from portal.core.workdays import UnknownCalendarYear
from portal.extensions import db
from portal.tenancy.workdays import tenant_calendar, working_days_after

REASSESSMENT_WORKING_DAYS = 10
# The registry's statuses that open a change report by themselves (of the same kind).
AUTOMATIC_KINDS = ("hospitalised", "moved")
STATES = ("open", "overdue", "closed", "all")
log = logging.getLogger(__name__)


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


def due_day(reported_on):
    """The day the re-assessment is due: 10 working days after ``reported_on`` (not counted). A year
    the calendar does not know is refused with the calendar's own message, on the date field."""
    return working_days_after(reported_on, REASSESSMENT_WORKING_DAYS, "reported_on", tenant_calendar())


def report_change(person, kind, reported_on, *, note="", by=None):
    """Record that ``person``'s situation changed on ``reported_on`` (today or before, not before
    they were registered; never for a person who has died). Returns the open ChangeReport."""
    if kind not in CHANGE_KINDS:
        _refuse("kind", _("Choose what changed."))
    if reported_on is None:
        _refuse("reported_on", _("Give a date (YYYY-MM-DD)."))
    if reported_on > local_today():
        _refuse("reported_on", _("A change cannot be reported ahead of time."))
    registered_by(person, reported_on, "reported_on")
    if person.status == "deceased":
        _refuse("kind", _("The person has died; no re-assessment can be due."))
    report = ChangeReport(beneficiary_id=person.id, kind=kind, reported_on=reported_on, due_on=due_day(reported_on),
                          note=(note or "").strip()[:2000], reported_by_id=by.id if by else None)
    db.session.add(report)
    db.session.flush()
    return report


def open_reports(beneficiary_id, kind=None):
    """The person's change reports still waiting for a re-assessment, oldest first."""
    stmt = select(ChangeReport).where(ChangeReport.beneficiary_id == beneficiary_id, ChangeReport.closed_at.is_(None))
    if kind is not None:
        stmt = stmt.where(ChangeReport.kind == kind)
    return db.session.scalars(stmt.order_by(ChangeReport.reported_on, ChangeReport.id)).all()


def open_on_status_change(entry, person=None, by=None, **_extra):
    """Receiver of ``status_recorded``: the person went to hospital or moved → a change report of
    that kind from the day of the change, unless one of that kind is already open. Only a change
    that is the person's status now counts: a stay back-dated before later changes (or before a
    death) is history, and calls for no re-assessment. The status change itself is never refused:
    when its due day falls in a year the calendar does not know yet, no report is opened (the
    warning says so; a report can be made by hand once the year is imported)."""
    person = person or db.session.get(Beneficiary, entry.beneficiary_id)
    current = (person.status, person.status_since) == (entry.status, entry.effective_on)
    if entry.status not in AUTOMATIC_KINDS or not current:
        return None
    if open_reports(entry.beneficiary_id, entry.status):
        return None
    try:
        tenant_calendar().add_working_days(entry.effective_on, REASSESSMENT_WORKING_DAYS)
    except UnknownCalendarYear as exc:
        log.warning("no change report opened for beneficiary %s: %s", entry.beneficiary_id, exc.message)
        return None
    return report_change(person, entry.status, entry.effective_on, note=entry.note, by=by)


def close_by_assessment(assessment, **_extra):
    """Receiver of ``assessment_recorded``: the person's open reports made on or before the day of
    the assessment are answered by it (recording refuses a time in the future beyond a phone
    clock's tolerance, so every stored assessment counts)."""
    day = to_local(assessment.assessed_at).date()
    closed = []
    for report in open_reports(assessment.beneficiary_id):
        if report.reported_on <= day:
            report.assessment_id, report.closed_at = assessment.id, utcnow()
            closed.append(report)
    if closed:
        db.session.flush()
    return closed


def reopen_for_withdrawn(assessment, **_extra):
    """Receiver of ``assessment_withdrawn``: a withdrawn assessment answers no report. Each report it
    had closed is answered by the person's next assessment still standing, made on or after the
    report day, if there is one; else it is open (and due, or overdue) again."""
    reports = db.session.execute(select(ChangeReport).where(ChangeReport.assessment_id == assessment.id)).scalars().all()
    standing = db.session.execute(
        select(Assessment).where(Assessment.beneficiary_id == assessment.beneficiary_id,
                                 Assessment.status != "withdrawn", Assessment.id != assessment.id)
        .order_by(Assessment.assessed_at, Assessment.id)).scalars().all()
    for report in reports:
        answer = next((a for a in standing if to_local(a.assessed_at).date() >= report.reported_on), None)
        report.assessment_id = answer.id if answer else None
        report.closed_at = utcnow() if answer else None
    if reports:
        db.session.flush()
    return reports


def is_overdue(report, today=None):
    """Open and past its day."""
    return report.closed_at is None and (today or local_today()) > report.due_on


def without_assessor(beneficiary_ids, today=None):
    """Those of ``beneficiary_ids`` whom no assessor can re-assess: no assignment current on
    ``today`` on a contract with an item of unit "assessment". Their reports stay due (or overdue)
    but the list says why nobody acts: the bureau must assign them first."""
    ids = {i for i in beneficiary_ids if i is not None}
    if not ids:
        return set()
    today = today or local_today()
    covered = db.session.scalars(select(Assignment.beneficiary_id).distinct()
                                 .join(ServiceItem, ServiceItem.contract_id == Assignment.contract_id)
                                 .where(Assignment.beneficiary_id.in_(ids), ServiceItem.unit == ASSESSMENT_UNIT,
                                        Assignment.from_on <= today,
                                        (Assignment.until_on.is_(None)) | (Assignment.until_on >= today))).all()
    return ids - set(covered)


def due_query(user, *, township="", state="open", today=None):
    """The select of the change reports ``user`` may list, filtered: the bureau's readers all, a
    contractor's manager those of the people assigned to its contracts. ``state``: "open" (due),
    "overdue" (open and past the day), "closed" or "all"; soonest due first."""
    today = today or local_today()
    stmt = select(ChangeReport).join(Beneficiary, Beneficiary.id == ChangeReport.beneficiary_id)
    condition = people_condition(user)
    if condition is not None:
        stmt = stmt.where(condition)
    if state in ("open", "overdue"):
        stmt = stmt.where(ChangeReport.closed_at.is_(None))
    if state == "overdue":
        stmt = stmt.where(ChangeReport.due_on < today)
    elif state == "closed":
        stmt = stmt.where(ChangeReport.closed_at.is_not(None))
    if township.strip():
        stmt = stmt.where(Beneficiary.township == township.strip())
    return stmt.order_by(ChangeReport.due_on, ChangeReport.id)


def due_townships(user):
    """The townships of the people the user may list, for the filter."""
    stmt = select(Beneficiary.township).distinct().order_by(Beneficiary.township)
    condition = people_condition(user)
    if condition is not None:
        stmt = stmt.where(condition)
    return db.session.scalars(stmt).all()
