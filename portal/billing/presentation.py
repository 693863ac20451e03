"""What the settlement pages and the Excel export show of a statement: labels, the workflow
history, the entries behind each line. Personal data stays out: a visit is shown by its id,
times, worker, the beneficiary's masked name and the service item, never an ID number, phone,
address or coordinates."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.billing import entries
from portal.billing.models import KIND_LABELS, LINE_KINDS, STATUS_LABELS, StatementLine
from portal.contractors.models import StaffMember
from portal.contracts.models import ServiceItem
from portal.core.crypto import mask_name
from portal.extensions import db

ROLE_LABELS = {"paid": _l("Paid"), "penalty": _l("Penalty"), "capped": _l("Not paid: over the monthly cap or quota"),
               "clawback": _l("Clawed back: paid, then rejected")}
DEDUCTION_KINDS = tuple(kind for kind in LINE_KINDS if kind.startswith("deduction_"))
# The statuses a contractor manager may see (a draft is the bureau's work in progress).
CONTRACTOR_STATUSES = ("sent", "confirmed", "disputed", "approved", "paid")


def _names(user_ids):
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name, User.username).where(User.id.in_(ids))).all()
    return {row.id: row.display_name or row.username for row in rows}


def history(statement):
    """The workflow so far, in order: (step label, who, when as an aware datetime or a date, note)."""
    names = _names([statement.prepared_by_id, statement.sent_by_id, statement.responded_by_id,
                    statement.approved_by_id, statement.paid_by_id, statement.stale_recomputed_by_id])
    steps = []
    if statement.stale_recomputed_at:
        steps.append((_l("Recomputed: its records had changed since it was computed"),
                      names.get(statement.stale_recomputed_by_id, _l("background job")), statement.stale_recomputed_at,
                      ""))
    steps.append((_l("Prepared"), names.get(statement.prepared_by_id, _l("background job")), statement.computed_at, ""))
    if statement.sent_at:
        steps.append((_l("Sent to the contractor"), names.get(statement.sent_by_id, ""), statement.sent_at, ""))
    if statement.responded_at:
        disputed = bool(statement.dispute_reason) and statement.status in ("disputed", "draft")
        label = _l("Disputed by the contractor") if disputed else _l("Confirmed by the contractor")
        steps.append((label, names.get(statement.responded_by_id, ""), statement.responded_at,
                      statement.dispute_reason if disputed else ""))
    if statement.approved_at:
        steps.append((_l("Approved"), names.get(statement.approved_by_id, ""), statement.approved_at, ""))
    if statement.paid_at or statement.paid_on:
        steps.append((_l("Paid"), names.get(statement.paid_by_id, ""), statement.paid_at,
                      " · ".join(filter(None, [str(statement.paid_on or ""), statement.payment_reference]))))
    return steps


def entry_counts(statement):
    """{line id: {"paid": visits paid, "penalty": visits penalised, "violations": violations}}."""
    counts = {}
    kept = entries.rows(statement)
    rows = db.session.execute(
        select(kept.c.line_id, kept.c.role, func.count(kept.c.visit_id), func.count(kept.c.violation_id))
        .group_by(kept.c.line_id, kept.c.role)).all()
    for line_id, role, visits, violations in rows:
        bucket = counts.setdefault(line_id, {"paid": 0, "penalty": 0, "violations": 0})
        bucket[role] = bucket.get(role, 0) + visits
        bucket["violations"] += violations
    return counts


def visit_rows(statement, line_id=None, limit=None):
    """The visits behind the statement's lines (or one line), as plain rows: line position, line
    id, role, visit id, check-in and check-out (UTC, aware), worker name, masked beneficiary
    name, service item, and the household survey (or self-care assessment) the visit was made for,
    so that finance can trace each paid unit to its record. Read in batches, so a large statement
    does not fill the memory."""
    from portal.assessments.models import Assessment
    from portal.beneficiaries.models import Beneficiary
    from portal.surveys.models import HouseholdSurvey
    from portal.visits.models import Visit
    kept = entries.rows(statement)
    stmt = (select(StatementLine.position, kept.c.line_id, kept.c.role, Visit.id, Visit.check_in_at,
                   Visit.check_out_at, StaffMember.name, User.display_name, User.username, Beneficiary.name,
                   ServiceItem.code, ServiceItem.name, HouseholdSurvey.id, Assessment.id)
            .select_from(kept)
            .join(StatementLine, StatementLine.id == kept.c.line_id)
            .join(Visit, Visit.id == kept.c.visit_id)
            .join(Beneficiary, Beneficiary.id == Visit.beneficiary_id)
            .join(ServiceItem, ServiceItem.id == Visit.service_item_id)
            .outerjoin(StaffMember, StaffMember.id == Visit.staff_id)
            .outerjoin(User, User.id == Visit.worker_user_id)
            .outerjoin(HouseholdSurvey, HouseholdSurvey.visit_id == Visit.id)
            .outerjoin(Assessment, Assessment.visit_id == Visit.id)
            .order_by(StatementLine.position, kept.c.line_id, Visit.check_in_at, Visit.id))
    if line_id is not None:
        stmt = stmt.where(kept.c.line_id == line_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    for row in db.session.execute(stmt.execution_options(yield_per=500)):
        (position, row_line_id, role, visit_id, check_in, check_out, staff_name, display_name, username,
         beneficiary_name, item_code, item_name, survey_id, assessment_id) = row
        yield {"position": position, "line_id": row_line_id, "role": role, "visit_id": visit_id,
               "check_in_at": check_in, "check_out_at": check_out,
               "worker": staff_name or display_name or username or "",
               "beneficiary": mask_name(beneficiary_name), "item": f"{item_code} {item_name}",
               "survey_id": survey_id, "assessment_id": assessment_id}


def violation_rows(statement, line_id=None):
    """The violations behind the statement's deduction lines: line position, line id, violation
    id, kind, day, worker name (never an ID number)."""
    from portal.violations.models import Violation
    kept = entries.rows(statement)
    stmt = (select(StatementLine.position, kept.c.line_id, Violation.id, Violation.kind, Violation.occurred_on,
                   StaffMember.name)
            .select_from(kept)
            .join(StatementLine, StatementLine.id == kept.c.line_id)
            .join(Violation, Violation.id == kept.c.violation_id)
            .outerjoin(StaffMember, StaffMember.id == Violation.staff_id)
            .order_by(StatementLine.position, Violation.occurred_on, Violation.id))
    if line_id is not None:
        stmt = stmt.where(kept.c.line_id == line_id)
    return [{"position": p, "line_id": lid, "violation_id": vid, "kind": kind, "occurred_on": day,
             "worker": staff or ""} for p, lid, vid, kind, day, staff in db.session.execute(stmt)]


def final_payment_note(statement):
    """Why approving or paying this statement will be refused for want of a passed acceptance
    (the final payment, acceptance/results.py), or None; only while it can still be approved or paid."""
    from portal.acceptance.results import final_payment_refusal
    if statement.status not in ("draft", "sent", "confirmed", "disputed", "approved"):
        return None
    return final_payment_refusal(statement.contract, statement.month)
