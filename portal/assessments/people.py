"""The file of one person (每人一档, docs/DOMAIN.md §2.1, §6): every assessment, re-check, objection,
status change, change report and publicity round of the person, in time order, each with who and
when; and the person's current care class with the monthly care standard it sets.

Who sees a file: the bureau's readers, whole; a contractor's people only when their contractor
has (or had) an assignment for the person, with the name masked and the details (assessor,
indicators, notes, re-checks, objections) of their own contractor's assessments only, and the
notes of the change reports their contractor made — anyone else, and a person of another bureau,
is "not found". An objector's contact never appears; an objection's text is the bureau's."""
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import exists, false, select

from portal.accounts.models import User
from portal.audit.models import AuditEntry
from portal.assessments.models import (WITHDRAWN_EVENT, Assessment, AssessmentObjection, AssessmentPublicity,
                                       AssessmentRecheck, ChangeReport)
from portal.beneficiaries.models import Beneficiary, BeneficiaryStatus
from portal.contracts.models import Assignment, Contract
from portal.core.crypto import mask_name
from portal.core.errors import NotFound
from portal.core.timeutil import local_midnight_utc
from portal.extensions import db
from portal.tenancy.services import settings_for
from portal.visits.reports import user_name

# Within one moment the file reads in the order things happen to a person.
KIND_ORDER = {"status": 0, "change": 1, "assessment": 2, "submission": 3, "withdrawal": 4, "publicity": 5,
              "objection": 6, "answer": 7, "recheck": 8}


def assigned_to_contractor(contractor_id):
    """The condition "the person has (or had) an assignment on a contract of ``contractor_id``"."""
    if contractor_id is None:
        return false()
    return exists().where(Assignment.beneficiary_id == Beneficiary.id, Assignment.contract_id == Contract.id,
                          Contract.contractor_id == contractor_id)


def people_condition(user):
    """The condition on Beneficiary of the people whose files ``user`` reaches: None (all of the
    bureau) for its readers, those assigned to their contractor for a contractor's people."""
    return None if user.can("assessment.read_all") else assigned_to_contractor(user.contractor_id)


def visible_person(beneficiary_id, user):
    """The person whose file ``user`` may open, else NotFound (never 403: that would tell that the
    person exists). The lookup is tenant-scoped, so another bureau's person is not found either."""
    person = None
    if user.can("assessment.read_all"):
        person = db.session.get(Beneficiary, beneficiary_id)
    elif user.can("assessment.read"):
        person = db.session.execute(select(Beneficiary).where(
            Beneficiary.id == beneficiary_id, people_condition(user))).scalar_one_or_none()
    if person is None:
        raise NotFound(_("No such beneficiary."))
    return person


def shown_name(person, user):
    """The bureau's readers see the name; a contractor's people the masked name (张*丰)."""
    return person.name if user.can("assessment.read_all") else mask_name(person.name)


def current_assessment(beneficiary_id):
    """The person's latest final assessment (by the day it was made), or None."""
    return db.session.execute(
        select(Assessment).where(Assessment.beneficiary_id == beneficiary_id, Assessment.status == "final")
        .order_by(Assessment.assessed_at.desc(), Assessment.id.desc()).limit(1)).scalar_one_or_none()


def current_class(beneficiary_id):
    """The person's current care class: the final class of their latest final assessment, or None."""
    latest = current_assessment(beneficiary_id)
    return latest.final_class if latest is not None else None


def care_standard_fen(tenant_id, care_class):
    """The monthly care standard of ``care_class`` in the bureau's settings (fen), None without a class."""
    if care_class is None:
        return None
    return int(settings_for(tenant_id)["care_standard_fen"].get(care_class, 0))


@dataclass
class Standing:
    """Where the person stands: the latest final assessment, its class and the care standard."""
    assessment: Assessment | None
    care_class: str | None
    standard_fen: int | None


def standing(person):
    latest = current_assessment(person.id)
    care_class = latest.final_class if latest is not None else None
    return Standing(latest, care_class, care_standard_fen(person.tenant_id, care_class))


@dataclass
class Entry:
    """One line of the file: ``at`` (UTC) orders it, ``kind`` says what ``row`` is, ``who`` acted,
    ``detailed`` whether the viewer may see the details (indicators, notes, texts)."""
    at: datetime
    kind: str
    row: object
    who: str
    detailed: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def key(self):
        return (self.at, KIND_ORDER[self.kind], getattr(self.row, "id", 0))


def _day(value):
    return local_midnight_utc(value)


def _reported_by_contractor(report, contractor_id):
    """Was the report made by someone of ``contractor_id`` (whose note is theirs to read again)?"""
    reporter = db.session.get(User, report.reported_by_id) if report.reported_by_id else None
    return reporter is not None and contractor_id is not None and reporter.contractor_id == contractor_id


def entries(person, user):
    """The person's file as the user may see it, oldest first."""
    bureau, own = user.can("assessment.read_all"), user.contractor_id
    assessments = db.session.scalars(select(Assessment).where(Assessment.beneficiary_id == person.id)
                                     .order_by(Assessment.assessed_at, Assessment.id)).all()
    mine = {a.id for a in assessments if bureau or a.contractor_id == own}
    found = [Entry(a.assessed_at, "assessment", a, user_name(a.assessor_user_id) if a.id in mine else "",
                   detailed=a.id in mine) for a in assessments]
    ids = [a.id for a in assessments]
    rounds = {p.id: p for p in db.session.scalars(select(AssessmentPublicity).where(
        AssessmentPublicity.id.in_({a.publicity_id for a in assessments if a.publicity_id is not None})))}
    found += [Entry(_day(p.starts_on), "publicity", p, user_name(p.opened_by_id)) for p in rounds.values()]
    found += [Entry(a.submitted_at, "submission", a, user_name(a.submitted_by_id))
              for a in assessments if a.submitted_at is not None and a.id in mine]
    found += _withdrawals(person, [a for a in assessments if a.status == "withdrawn"], mine)
    for check in db.session.scalars(select(AssessmentRecheck).where(AssessmentRecheck.assessment_id.in_(ids))):
        # drawn but not done: the bureau's only (the contractor must not learn before the home
        # visit which assessments are re-checked); once done, shown to whoever sees the assessment
        if check.assessment_id in mine and (bureau or check.rechecked_at is not None):
            drawn = rounds[check.publicity_id].drawn_at if check.publicity_id in rounds else None
            found.append(Entry(check.rechecked_at or drawn or check.assessment.assessed_at, "recheck", check,
                               user_name(check.assessor_user_id)))
    for objection in db.session.scalars(select(AssessmentObjection).where(AssessmentObjection.assessment_id.in_(ids))):
        if objection.assessment_id in mine:  # received (by whom, when staff took it down) and answered apart
            received_by = user_name(objection.recorded_by_id) if objection.recorded_by_id else ""
            found.append(Entry(objection.received_at, "objection", objection, received_by, detailed=bureau))
            if objection.answered_at is not None:
                found.append(Entry(objection.answered_at, "answer", objection, user_name(objection.answered_by_id),
                                   detailed=bureau))
    for entry in db.session.scalars(select(BeneficiaryStatus).where(BeneficiaryStatus.beneficiary_id == person.id)):
        found.append(Entry(_day(entry.effective_on), "status", entry, user_name(entry.recorded_by_id), detailed=bureau))
    for report in db.session.scalars(select(ChangeReport).where(ChangeReport.beneficiary_id == person.id)):
        found.append(Entry(_day(report.reported_on), "change", report, user_name(report.reported_by_id),
                           detailed=bureau or _reported_by_contractor(report, own)))
    return sorted(found, key=lambda e: e.key)


def _withdrawals(person, withdrawn, mine):
    """The withdrawals of ``withdrawn`` as the audit trail recorded them (who, when, the reason):
    the rows keep only the status. The reason is shown where the assessment's details are."""
    if not withdrawn:
        return []
    by_id = {str(a.id): a for a in withdrawn}
    events = db.session.scalars(select(AuditEntry).where(
        AuditEntry.tenant_id == person.tenant_id, AuditEntry.action == WITHDRAWN_EVENT,
        AuditEntry.object_type == "Assessment", AuditEntry.object_id.in_(list(by_id)))
        .order_by(AuditEntry.id)).all()
    found = []
    for event in events:
        assessment = by_id[event.object_id]
        detailed = assessment.id in mine
        reason = (event.after or {}).get("reason", "") if detailed else ""
        found.append(Entry(event.occurred_at, "withdrawal", assessment,
                           (user_name(event.actor_id) if event.actor_id else event.actor) if detailed else "",
                           detailed=detailed, extra={"reason": reason}))
    return found
