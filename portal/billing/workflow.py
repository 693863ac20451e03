"""The statement workflow (docs/DOMAIN.md §8) and who may see which statement:

    draft → sent → confirmed → approved → paid
                 ↘ disputed → draft (reworked, recomputed)

Each move checks the person's role, bureau and organisation, records who and when, and raises a
DomainError with a translated message when refused. Bureau readers (finance, officer, auditor,
admin) see every statement of their bureau; a contractor manager sees the statements of their own
organisation's contracts from "sent" on — a draft is the bureau's working copy and stays internal.
Anyone else sees none. Approved and paid statements never change (database triggers too).

A draft pays only what is payable when it moves on: sending and approving compute its plan again
in memory and refuse it (StaleStatement, 409) when the records behind it changed since it was
computed; ``recompute`` then brings it up to date (a sent or confirmed statement goes back to
draft, to be sent and confirmed again). Approval also re-checks, in its own transaction, that
every visit it pays is verified at that moment and has no V01 finding."""
from datetime import date

from flask_babel import gettext as _, ngettext
from sqlalchemy import and_, exists, false, func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.acceptance.results import final_payment_refusal
from portal.accounts.permissions import reach
from portal.accounts.permissions import roles_for
from portal.billing import entries, settlement
from portal.billing.models import PAYING_KINDS, Statement, StatementEntry, StatementLine
from portal.contracts.models import Contract, ServiceItem
from portal.core import query
from portal.core import months
from portal.core.errors import Conflict, DomainError, Forbidden, NotFound
from portal.core.money import format_fen
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db

MAX_ADJUSTMENT_FEN = 10**13
RECOMPUTABLE = ("draft", "sent", "confirmed", "disputed")
ADJUSTMENT_EVENTS = ("statement_adjustment_added", "statement_adjustment_removed")


class StaleStatement(Conflict):
    """The records behind a statement changed since it was computed: recompute it first."""

    code = "stale_statement"


# --- who sees what -------------------------------------------------------------------------------------

def visible_statements(user):
    """A select() of the statements ``user`` may read in the current bureau."""
    stmt = select(Statement)
    if user.can("statement.read_all"):
        return stmt
    organisation = reach(user).organisation_id
    if organisation:
        return (stmt.join(Contract, Contract.id == Statement.contract_id)
                .where(Contract.contractor_id == organisation, Statement.status != "draft"))
    return stmt.where(false())


def statement_for(user, statement_id):
    """The statement if ``user`` may read it, else NotFound (never 403: do not reveal it exists)."""
    statement = None
    if query.is_id(statement_id):
        statement = db.session.execute(
            visible_statements(user).where(Statement.id == statement_id)).scalar_one_or_none()
    if statement is None:
        raise NotFound(_("No such statement."))
    return statement


# --- checks ----------------------------------------------------------------------------------------------

def _of_bureau(statement, user, capability):
    """``user`` holds ``capability`` and acts for the statement's bureau; else NotFound for
    people who may not even see it, DomainError for bureau readers without the right."""
    if user is None or statement.tenant_id not in user.tenant_ids():
        raise NotFound(_("No such statement."))
    if not user.can(capability):
        if user.can("statement.read_all"):
            raise Forbidden(_("Your role may not do this to a statement."))
        raise NotFound(_("No such statement."))


def _of_contractor(statement, user):
    """``user`` manages the contractor of the statement's contract, in its bureau."""
    if (user is None or not user.can("statement.answer") or not user.contractor_id
            or user.contractor_id != statement.contract.contractor_id
            or statement.tenant_id not in user.tenant_ids() or statement.status == "draft"):
        if user is not None and user.can("statement.read_all") and statement.tenant_id in user.tenant_ids():
            raise Forbidden(_("Only the contractor's manager may answer a statement."))
        raise NotFound(_("No such statement."))


def _require(statement, *statuses):
    if statement.status not in statuses:
        raise Conflict(_("This statement is %(status)s; that is not possible now.",
                         status=statement.status_label))


# --- moves ---------------------------------------------------------------------------------------------

def send_to_contractor(statement, by):
    """draft → sent, by an officer or finance reviewer of the bureau. The sender becomes the
    preparer when the scheduled job prepared the draft."""
    _of_bureau(statement, by, "statement.prepare")
    settlement.lock_settlement(statement.contract_id, statement)
    _require(statement, "draft")
    ensure_current(statement)
    if statement.prepared_by_id is None:
        statement.prepared_by_id = by.id
    statement.status, statement.sent_by_id, statement.sent_at = "sent", by.id, utcnow()
    statement.responded_by_id = statement.responded_at = None
    db.session.flush()
    return statement


def confirm(statement, by):
    """sent → confirmed, by the manager of the contract's contractor."""
    _of_contractor(statement, by)
    _require(statement, "sent")
    statement.status, statement.responded_by_id, statement.responded_at = "confirmed", by.id, utcnow()
    db.session.flush()
    return statement


def dispute(statement, by, reason, line_ids):
    """sent → disputed, by the contractor's manager, with a reason and at least one of the
    statement's lines marked disputed."""
    _of_contractor(statement, by)
    _require(statement, "sent")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    errors = {}
    if not reason:
        errors["reason"] = [_("Say why the statement is disputed.")]
    elif len(reason) > 2000:
        errors["reason"] = [_("At most %(n)s characters.", n=2000)]
    wanted = set()
    for line_id in line_ids or ():
        try:
            wanted.add(int(line_id))
        except (TypeError, ValueError):
            errors["line_ids"] = [_("Choose lines of this statement.")]
    lines = db.session.execute(select(StatementLine).where(StatementLine.statement_id == statement.id)).scalars().all()
    chosen = [line for line in lines if line.id in wanted]
    if not wanted:
        errors.setdefault("line_ids", [_("Choose at least one disputed line.")])
    elif len(chosen) != len(wanted):
        errors["line_ids"] = [_("Choose lines of this statement.")]
    if errors:
        raise DomainError(_("The dispute cannot be recorded."), errors)
    for line in lines:
        line.disputed = line in chosen
        line.dispute_note = reason if line in chosen else ""
    statement.status, statement.dispute_reason = "disputed", reason
    statement.responded_by_id, statement.responded_at = by.id, utcnow()
    db.session.flush()
    return statement


def rework(statement, by):
    """disputed → draft, by an officer or finance reviewer: the draft is computed again (the
    adjustments kept) and can be corrected and sent again."""
    _of_bureau(statement, by, "statement.prepare")
    _require(statement, "disputed")
    statement.status = "draft"
    statement.sent_by_id = statement.sent_at = None
    db.session.flush()
    return settlement.prepare_statement(statement.contract, statement.month, by=by)


def approve(statement, by):
    """confirmed → approved, by a finance reviewer who neither prepared nor sent it (four eyes).
    Refused when a visit or violation behind it is already in another approved statement, or when
    the units would exceed a service item's quota.

    The entry rows are written here, once, from the ids the draft's lines kept (entries.py), with
    their approved_* columns filled in, before the status changes (the database refuses any change
    to an approved statement's entries), after re-checking those very ids: the plan computed now
    must match the draft's digest and its ids must be the ids kept, every visit paid must be
    verified now with no V01 finding (locked until the approval commits), none may be in an
    approved statement already; the unique constraints refuse whatever slips past (409)."""
    _of_bureau(statement, by, "statement.approve")
    settlement.lock_settlement(statement.contract_id, statement)
    _require(statement, "confirmed")
    if by.id in (statement.prepared_by_id, statement.sent_by_id):
        message = _("The person who prepared or sent a statement cannot approve it.")
        raise Forbidden(message, {"approved_by": [message]})
    if by.id in adjusters(statement):
        message = _("The person who added or removed an adjustment on a statement cannot approve it.")
        raise Forbidden(message, {"approved_by": [message]})
    plans = ensure_current(statement)
    if plans is not None:
        _check_kept_ids(statement, plans)
    _check_paid_visits_payable(statement)
    _check_not_settled_twice(statement)
    _check_quota(statement)
    _check_contract_total(statement)
    _check_final_payment(statement)
    try:
        with db.session.begin_nested():
            entries.write_approved(statement)
    except IntegrityError:  # another approved statement holds one of them (the unique constraints)
        raise Conflict(_already_settled_message(None)) from None
    db.session.flush()
    statement.status, statement.approved_by_id, statement.approved_at = "approved", by.id, utcnow()
    db.session.flush()
    from portal.audit.recorder import record_event
    record_event(db.session, "statement_approved", tenant_id=statement.tenant_id, object_type="Statement",
                 object_id=str(statement.id), after={"net_fen": statement.net_fen})
    return statement


def ensure_current(statement):
    """StaleStatement unless computing the statement now would give exactly its lines; else the
    plans computed now."""
    plans, digest = settlement.current_plan(statement)
    if statement.plan_digest == digest:
        return plans
    gross, deductions = settlement.plan_totals(plans)
    message = _("The records behind this statement changed since it was computed (a visit rejected or verified, "
                "an exception decided, a correction, a violation recorded or dismissed, a station's staffing). "
                "Recomputed now it would pay %(gross)s yuan less %(deductions)s yuan of deductions. Recompute it first.",
                gross=format_fen(gross), deductions=format_fen(deductions))
    raise StaleStatement(message, {"statement": [message]})


def _check_kept_ids(statement, plans):
    """The ids the draft's computed lines kept are exactly those of ``plans``, computed now (what
    approval writes as entries is what the rules pay and deduct at this moment)."""
    lines = StatementLine.__table__
    kept = db.session.connection().execute(
        select(lines.c.position, lines.c.entry_ids).where(lines.c.statement_id == statement.id,
                                                          lines.c.tenant_id == statement.tenant_id,
                                                          lines.c.kind != "adjustment",
                                                          lines.c.kind != "carried_out")
        .order_by(lines.c.position)).all()
    now = [(position, entries.pack(plan)) for position, plan in enumerate(plans, start=1)]
    if [(position, ids or None) for position, ids in kept] != now:
        message = _("The visits kept behind this statement's lines are not those it would pay now. Recompute it first.")
        raise StaleStatement(message, {"statement": [message]})


def _check_paid_visits_payable(statement):
    """Every visit the statement pays is verified now, has no V01 finding and, when it carries an
    assessment or a household survey, that assessment is final or that survey signed off; the rows are locked (shared) until the approval commits,
    so no decision can slip in between."""
    from portal.billing.lateness import awaiting_final_record
    from portal.billing.sources import never_payable
    from portal.visits.models import Visit
    kept = entries.rows(statement)
    paid = select(kept.c.visit_id).where(kept.c.role == "paid", kept.c.visit_id.is_not(None))
    db.session.execute(select(Visit.id).where(Visit.id.in_(paid)).with_for_update(read=True)).all()
    unpayable = db.session.execute(select(func.count()).select_from(Visit).where(
        Visit.id.in_(paid),
        or_(Visit.status != "verified", never_payable(), awaiting_final_record(Visit)))).scalar_one()
    if unpayable:
        message = ngettext("%(num)s visit this statement pays is no longer payable (not verified, or work of a worker "
                           "on no roster). Recompute it first.", "%(num)s visits this statement pays are no longer "
                           "payable (not verified, or work of a worker on no roster). Recompute it first.", unpayable)
        raise StaleStatement(message, {"statement": [message]})


def _check_final_payment(statement):
    """The final payment waits for a passed acceptance (acceptance/results.py)."""
    message = final_payment_refusal(statement.contract, statement.month)
    if message:
        raise DomainError(message, {"statement": [message]})


def _check_contract_total(statement):
    """The paying lines and positive adjustments of the contract's approved statements and this
    one stay within the contract total (contract amount plus amendments)."""
    contract = statement.contract
    paying = sum(line.amount_fen for line in statement.lines
                 if line.pays_visits or (line.kind == "adjustment" and line.amount_fen > 0))
    if settlement.sources.amount_approved(contract.id, statement.id) + paying > contract.total_fen:
        raise Conflict(_("Approving would pay more than the contract total of %(total)s yuan; recompute the "
                         "statement.", total=format_fen(contract.total_fen)))


def finance_reviewers_besides(statement, user_ids):
    """How many active finance reviewers of the statement's bureau are not among ``user_ids``."""
    from portal.accounts.models import User
    excluded = [user_id for user_id in user_ids if user_id] or [-1]
    return db.session.execute(select(func.count()).select_from(User).where(
        User.role.in_(roles_for("statement.approve")), User.tenant_id == statement.tenant_id, User.active.is_(True),
        User.id.not_in(excluded))).scalar_one()


def adjusters(statement):
    """Ids of the people who added an adjustment to the statement (its lines' ``added_by_id``)
    or added or removed one (the audit trail): none of them may approve it (four eyes)."""
    from portal.audit.models import AuditEntry
    found = {line.details.get("added_by_id") for line in db.session.execute(
        select(StatementLine).where(StatementLine.statement_id == statement.id,
                                    StatementLine.kind == "adjustment")).scalars() if line.details}
    found |= set(db.session.execute(select(AuditEntry.actor_id).where(
        AuditEntry.action.in_(ADJUSTMENT_EVENTS), AuditEntry.object_type == "Statement",
        AuditEntry.object_id == str(statement.id))).scalars())
    return {user_id for user_id in found if user_id}


def nobody_can_approve(statement):
    """True when every finance reviewer of the bureau prepared, sent or adjusted the statement."""
    excluded = (statement.prepared_by_id, statement.sent_by_id, *adjusters(statement))
    return finance_reviewers_besides(statement, excluded) == 0


def recompute(statement, by):
    """Compute the statement again now, by an officer or finance reviewer, who becomes its
    preparer. A draft can always be recomputed; a sent, confirmed or disputed statement only when
    its records changed or nobody could approve it as it stands (every finance reviewer prepared
    or sent it): it goes back to draft and must be sent and confirmed again."""
    _of_bureau(statement, by, "statement.prepare")
    settlement.lock_settlement(statement.contract_id, statement)
    _require(statement, *RECOMPUTABLE)
    if statement.status != "draft":
        if (statement.status != "disputed" and not settlement.is_stale(statement)
                and not nobody_can_approve(statement)):
            raise Conflict(_("Nothing behind this statement changed since it was computed; a statement sent to the "
                             "contractor changes only through a dispute."))
        statement.status = "draft"
        statement.sent_by_id = statement.sent_at = None
        statement.responded_by_id = statement.responded_at = None
        db.session.flush()
    settlement.recompute(statement, by=by)
    from portal.audit.recorder import record_event
    record_event(db.session, "statement_recomputed", tenant_id=statement.tenant_id, object_type="Statement",
                 object_id=str(statement.id), after={"net_fen": statement.net_fen, "by": by.id})
    return statement


def _check_not_settled_twice(statement):
    """No visit (in the same role) or violation of this statement is in an approved one already."""
    approved = StatementEntry.__table__.alias("approved")
    mine = entries.rows(statement)
    visits = exists().where(approved.c.approved_visit_id == mine.c.visit_id, approved.c.role == mine.c.role)
    violations = exists().where(approved.c.approved_violation_id == mine.c.violation_id)
    clash = db.session.execute(select(func.count()).select_from(mine).where(
        or_(and_(mine.c.visit_id.is_not(None), visits),
            and_(mine.c.violation_id.is_not(None), violations)))).scalar_one()
    if clash:
        raise DomainError(_already_settled_message(clash))


def _already_settled_message(count):
    if count is None:
        return _("Some visits or violations of this statement are already in an approved statement; rework it "
                 "before approving.")
    return ngettext("%(num)s visit or violation of this statement is already in an approved statement; rework it "
                    "before approving.", "%(num)s visits or violations of this statement are already in an approved "
                    "statement; rework it before approving.", count)


def _check_quota(statement):
    used = settlement.units_approved(statement.contract_id, statement.id)
    lines = db.session.execute(select(StatementLine, ServiceItem).join(
        ServiceItem, ServiceItem.id == StatementLine.service_item_id)
        .where(StatementLine.statement_id == statement.id, StatementLine.kind.in_(PAYING_KINDS))).all()
    units = {}
    for line, item in lines:
        units[item.id] = units.get(item.id, 0) + line.units
        if used.get(item.id, 0) + units[item.id] > item.quota:
            raise DomainError(_("Approving would pay more than the quota of %(item)s; rework the statement.",
                                item=item.code))


def mark_paid(statement, by, paid_on, reference):
    """approved → paid, by a finance reviewer, with the payment day (not in the future) and the
    payment reference; the payment then goes to the open-data releases."""
    _of_bureau(statement, by, "statement.pay")
    settlement.lock_settlement(statement.contract_id, statement)  # the lock deciding an acceptance takes
    _require(statement, "approved")
    _check_final_payment(statement)
    errors = {}
    if not isinstance(paid_on, date):
        errors["paid_on"] = [_("Give the payment day.")]
    elif paid_on > local_today():
        errors["paid_on"] = [_("The payment day cannot be in the future.")]
    elif paid_on < months.first_day(statement.month):
        errors["paid_on"] = [_("The payment day cannot be before the month settled.")]
    reference = reference.strip() if isinstance(reference, str) else ""
    if not reference:
        errors["reference"] = [_("Give the payment reference.")]
    elif len(reference) > 100:
        errors["reference"] = [_("At most %(n)s characters.", n=100)]
    if errors:
        raise DomainError(_("The payment cannot be recorded."), errors)
    statement.status, statement.paid_on, statement.payment_reference = "paid", paid_on, reference
    statement.paid_by_id, statement.paid_at = by.id, utcnow()
    db.session.flush()
    from portal.billing.signals import statement_paid
    statement_paid.send(statement)  # open data records the payment, in this transaction
    return statement
