"""What the supervision pages read and do: who may see which violations, the decisions on them,
the figures of the supervision home and the contracts flagged for suspension review. The rules
that record violations live in ``detection.py``."""
from flask_babel import gettext as _
from sqlalchemy import false, func, select

from portal.accounts.permissions import reach
from portal.contractors.models import StaffMember
from portal.contracts.models import Contract
from portal.core.errors import NotFound
from portal.extensions import db
from portal.jobs.models import JobRun
from portal.jobs.queue import enqueue
from portal.violations.detection import review_suspension_flag
from portal.violations.models import VIOLATION_KINDS, VIOLATION_STATUSES, Violation

DETECTION_JOB = "supervision.detect_violations"
# Evidence about other organisations is the bureau's business, not the contractor's.
BUREAU_ONLY_EVIDENCE = ("other_roster", "insured_by_name")


def visible_violations(user):
    """The violations ``user`` may see in the current bureau, as a select (newest first)."""
    stmt = select(Violation).order_by(Violation.occurred_on.desc(), Violation.id.desc())
    limit = reach(user)
    if limit.kind == "organisation":
        return stmt.join(Contract, Violation.contract_id == Contract.id).where(
            Contract.contractor_id == limit.contractor_id)
    if user.can("violation.read_all"):
        return stmt
    return stmt.where(false())


def filtered_violations(user, *, kind="", status="", contract_id=None, staff_id=None):
    """``visible_violations`` narrowed by the list's filters (unknown values are ignored)."""
    stmt = visible_violations(user)
    if kind in VIOLATION_KINDS:
        stmt = stmt.where(Violation.kind == kind)
    if status in VIOLATION_STATUSES:
        stmt = stmt.where(Violation.status == status)
    if contract_id:
        stmt = stmt.where(Violation.contract_id == contract_id)
    if staff_id:
        stmt = stmt.where(Violation.staff_id == staff_id)
    return stmt


def filter_choices(user):
    """(contracts, workers) that appear in the violations ``user`` may see, for the filters."""
    visible = visible_violations(user).order_by(None).subquery()
    contracts = db.session.scalars(select(Contract).where(Contract.id.in_(select(visible.c.contract_id)))
                                   .order_by(Contract.number)).all()
    workers = db.session.scalars(select(StaffMember).where(StaffMember.id.in_(select(visible.c.staff_id)))
                                 .order_by(StaffMember.name, StaffMember.id)).all()
    return contracts, workers


def get_violation(violation_id, user):
    """One violation ``user`` may see, or NotFound (another bureau's, or another contractor's)."""
    violation = db.session.scalars(visible_violations(user).where(Violation.id == violation_id)).first()
    if violation is None:
        raise NotFound(_("No such violation."))
    return violation


def decide(violation, action, by, note):
    """Confirm or dismiss an open violation with a note (audited as a row change). Dismissing
    one may bring its contract under three violations within 12 months: the flag is cleared."""
    if action == "confirm":
        violation.confirm(by, note)
    else:
        violation.dismiss(by, note)
    db.session.flush()
    if action == "dismiss" and violation.contract is not None:
        review_suspension_flag(violation.contract, may_clear=True)
    return violation


def evidence_rows(violation, user):
    """The evidence as (key, value) pairs for ``user``; contractors do not see other organisations."""
    hidden = BUREAU_ONLY_EVIDENCE if reach(user).kind == "organisation" else ()
    return [(key, value) for key, value in (violation.evidence or {}).items()
            if key not in hidden and value not in (None, "")]


def counts_by_kind():
    """{kind: {status: n}} for every kind, the supervision home's figures."""
    counts = {kind: dict.fromkeys(VIOLATION_STATUSES, 0) for kind in VIOLATION_KINDS}
    rows = db.session.execute(select(Violation.kind, Violation.status, func.count())
                              .group_by(Violation.kind, Violation.status)).all()
    for kind, status, n in rows:
        counts.setdefault(kind, dict.fromkeys(VIOLATION_STATUSES, 0))[status] = n
    return counts


def flagged_contracts():
    """Contracts of the bureau flagged for suspension review (暂停审查), latest flag first."""
    return db.session.scalars(select(Contract).where(Contract.suspension_review_flagged_at.is_not(None))
                              .order_by(Contract.suspension_review_flagged_at.desc(), Contract.id)).all()


def flagged_count():
    return db.session.execute(select(func.count()).select_from(Contract)
                              .where(Contract.suspension_review_flagged_at.is_not(None))).scalar_one()


def start_detection():
    """Queue the detectors for the current bureau now (the daily run does the same)."""
    return enqueue(DETECTION_JOB)


def recent_detection_runs(limit=5):
    """The latest runs of the detectors in this bureau, with their progress."""
    return db.session.scalars(select(JobRun).where(JobRun.name == DETECTION_JOB)
                              .order_by(JobRun.enqueued_at.desc()).limit(limit)).all()
