"""Computing monthly statements (docs/DOMAIN.md §8).

For one contract and one calendar month (Beijing time) that has ended, a statement holds the
computed lines of sources.py and staffing.py — paying lines (``service`` per item, a station-month
item paying the stations the contract staffed, ``late_verified`` for visits verified after their
month was approved; a visit carrying an assessment only once the assessment is final), deduction
lines (spot checks, assessment re-check discrepancies, violations, paid visits rejected since,
station staffing shortfalls, and the balance carried forward from earlier statements) — plus
``adjustment`` lines added by hand (adjustments.add_adjustment; recomputing a draft keeps them) and,
when the deductions exceed the gross, a ``carried_out`` line with the uncovered amount, deducted
from the next statement.

gross = paying lines + positive adjustments; deductions = deduction lines + negative adjustments;
net = gross − deductions, never below zero; carried out = deductions − gross when positive.
Integer fen throughout.

Every amount is traceable: the visits paid and the visits or violations penalised stand behind
their line (and the verified visits a service line leaves over the monthly cap or quota, role
"capped", so they never count as late-verified). The visit ids are read once per line
(LinePlan.selected) and both the digest and what the draft keeps come from that read. A draft keeps
them as one column of each line (entries.py), because a month can hold 100,000 visits and a draft
is computed again and again; approval writes them as StatementEntry rows, once, after re-checking
them (workflow.approve). The audit trail gets one summary event per computation instead of a row
per visit.

The computation's digest (plans.plan_digest) is stored on the statement: ``is_stale`` computes
the plan again in memory and compares, so a draft whose records changed since is refused at
sending and approval (workflow.py) whoever changed them.

A statement past draft is never recomputed here: prepare_statement returns it untouched."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from portal.billing import entries, sources, staffing  # noqa: F401  (staffing registers the station lines)
from portal.billing.models import PAYING_KINDS, Statement, StatementLine
from portal.billing.plans import (DEDUCTION_SOURCES, LinePlan, Period, deduction_source, plan_digest,  # noqa: F401
                                  plan_totals)
from portal.billing.sources import (paying_lines, spot_check_deductions, units_approved,  # noqa: F401
                                    violation_deductions)
from portal.contracts.models import Contract, lock_contract_row
from portal.core import months
from portal.core.errors import DomainError
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.i18n import record_locale


# --- closing periods ------------------------------------------------------------------------------

def first_allowed_day(month: str) -> date:
    """The first day a statement for ``month`` may be prepared: the 1st of the following month."""
    return months.next_month(month)


def ensure_month_ended(month: str, today=None):
    """DomainError (field ``month``) unless ``month`` has ended in Beijing time: the work of its
    last days could never be paid by a statement prepared before."""
    allowed = first_allowed_day(month)
    if (today or local_today()) < allowed:
        message = _("%(month)s has not ended: no statement can be prepared for it before %(day)s.",
                    month=month, day=allowed.isoformat())
        raise DomainError(message, {"month": [message]})


# --- the plan ---------------------------------------------------------------------------------------

def compute_plans(period):
    """The computed lines of ``period``, in order: paying lines, the registered deduction
    sources, the balance carried forward."""
    with record_locale():  # line descriptions are records, in the bureau's language
        plans = sources.paying_lines(period)
        for source in DEDUCTION_SOURCES:
            plans.extend(source(period))
        plans.extend(sources.carried_forward_lines(period))
    return plans


def _period(statement):
    start, end = months.month_bounds(statement.month)
    first_day, last_day = months.month_days(statement.month)
    return Period(statement.contract, statement.month, start, end, first_day, last_day, statement.id)


def current_plan(statement):
    """(plans, digest) of what computing ``statement`` now would write (nothing is written)."""
    plans = compute_plans(_period(statement))
    return plans, plan_digest(plans)


def is_stale(statement):
    """True when computing the statement now would pay or deduct something else than its lines
    (a statement computed before digests existed counts as stale)."""
    _plans, digest = current_plan(statement)
    return statement.plan_digest != digest


# --- totals ------------------------------------------------------------------------------------------

def totals(lines):
    """(gross, deductions, net) of lines: service lines and positive adjustments add to gross,
    deduction lines and negative adjustments to deductions; net never goes below zero."""
    gross = deductions = 0
    for line in lines:
        if line.kind in PAYING_KINDS:
            gross += line.amount_fen
        elif line.kind == "adjustment":
            if line.amount_fen >= 0:
                gross += line.amount_fen
            else:
                deductions += -line.amount_fen
        elif line.kind.startswith("deduction_"):
            deductions += line.amount_fen
    return gross, deductions, max(gross - deductions, 0)


def apply_totals(statement):
    """Store the totals of the statement's lines on it (a draft only), and its ``carried_out``
    line: the deductions the gross leaves uncovered, or none."""
    lines = db.session.execute(select(StatementLine).where(StatementLine.statement_id == statement.id)
                               .order_by(StatementLine.position, StatementLine.id)).scalars().all()
    gross, deductions, net = totals(lines)
    statement.gross_fen, statement.deductions_fen, statement.net_fen = gross, deductions, net
    carried = [line for line in lines if line.kind == "carried_out"]
    uncovered = max(deductions - gross, 0)
    for line in carried[1 if uncovered else 0:]:
        db.session.delete(line)
    if uncovered:
        line = carried[0] if carried else None
        if line is None:
            with record_locale():
                description = _("Deductions not covered by this statement, carried to the contract's next statement")
            line = StatementLine(statement_id=statement.id, kind="carried_out", description=description, units=1,
                                 tenant_id=statement.tenant_id, details={})
            db.session.add(line)
        line.position = max((other.position for other in lines if other is not line), default=0) + 1
        line.unit_price_fen = line.amount_fen = uncovered
    db.session.flush()


# --- writing a statement ------------------------------------------------------------------------------

def statement_number(contract, month):
    return f"{contract.number}-{month.replace('-', '')}"


def lock_settlement(contract_id, statement=None):
    """Serialise the settlement of one contract: lock its Contract row (and ``statement``'s row,
    read afresh) until the transaction ends (SELECT … FOR UPDATE; nothing on SQLite, whose writers
    are serialised anyway). Approving, recomputing, sending and preparing take this lock first, so
    two approvals of different months of one contract never check the quota, the contract total
    or the carried-forward balance without seeing each other."""
    lock_contract_row(contract_id)
    if statement is not None and statement.id is not None:
        db.session.execute(select(Statement).where(Statement.id == statement.id).with_for_update()
                           .execution_options(populate_existing=True)).all()


def _existing(contract_id, month):
    return db.session.execute(select(Statement).where(Statement.contract_id == contract_id, Statement.month == month)
                              .with_for_update()).scalar_one_or_none()


def prepare_statement(contract, month, *, by=None, job_run=None):
    """The statement of ``contract`` for ``month`` in the current bureau, computed afresh as a
    draft when there is none or it is a draft (lines and entries replaced, adjustments kept); a
    statement past draft is returned untouched. ``by`` (None for the scheduled job) becomes the
    preparer. Refuses a contract not yet in delivery, a month that has not ended and a month
    outside the contract period. A draft whose records had changed since it was computed is
    recorded as recomputed for that reason (``stale_recomputed_at``, by ``by``)."""
    month = months.month_text(month)
    if not contract.in_delivery:
        raise DomainError(_("A contract that is not yet in delivery has nothing to settle."))
    first_day, last_day = months.month_days(month)
    ensure_month_ended(month)
    if contract.starts_on > last_day or contract.ends_on < first_day:
        message = _("The month is outside the contract period.")
        raise DomainError(message, {"month": [message]})
    lock_settlement(contract.id)
    statement = _existing(contract.id, month)
    if statement is not None and statement.status != "draft":
        return statement
    if statement is None:
        statement = Statement(contract_id=contract.id, month=month, number=statement_number(contract, month),
                              status="draft", tenant_id=contract.tenant_id)
        db.session.add(statement)
        db.session.flush()
    return _compute(statement, by=by, job_run=job_run)


def _compute(statement, *, by=None, job_run=None):
    """Write the statement's computed lines afresh (a draft), with its digest and totals."""
    start, end = months.month_bounds(statement.month)
    first_day, last_day = months.month_days(statement.month)
    plans = compute_plans(Period(statement.contract, statement.month, start, end, first_day, last_day, statement.id))
    digest = plan_digest(plans)
    if statement.plan_digest is not None and statement.plan_digest != digest:
        statement.stale_recomputed_at = utcnow()
        statement.stale_recomputed_by_id = by.id if by is not None else None
    count = _replace_lines(statement, plans)
    statement.plan_digest = digest
    statement.computed_at = utcnow()
    if by is not None:
        statement.prepared_by_id = by.id
    statement.job_run_id = job_run.id if job_run is not None else None
    apply_totals(statement)
    db.session.flush()
    db.session.expire(statement, ["lines"])
    _record_computation(statement, count)
    return statement


def recompute(statement, by=None):
    """Compute a draft again now (lines and entries replaced, adjustments kept)."""
    return _compute(statement, by=by)


def _replace_lines(statement, plans):
    """Drop the draft's computed lines, keep its adjustments, write ``plans`` and the ids behind
    each line (entries.keep: one column per line; the entry rows are written at approval)."""
    db.session.flush()
    old = db.session.execute(select(StatementLine).where(StatementLine.statement_id == statement.id)
                             .order_by(StatementLine.position, StatementLine.id)).scalars().all()
    adjustments = [line for line in old if line.kind == "adjustment"]
    for line in old:
        if line.kind != "adjustment":
            db.session.delete(line)
    db.session.flush()
    written = []
    for position, plan in enumerate(plans, start=1):
        line = StatementLine(statement_id=statement.id, position=position, kind=plan.kind,
                             service_item_id=plan.service_item_id, description=plan.description,
                             verified_units=plan.verified_units, monthly_cap=plan.monthly_cap,
                             quota_left=plan.quota_left, units=plan.units, unit_price_fen=plan.unit_price_fen,
                             multiplier=plan.multiplier, amount_fen=plan.amount_fen, details=plan.details,
                             tenant_id=statement.tenant_id)
        db.session.add(line)
        written.append((line, entries.pack(plan)))
    for offset, line in enumerate(adjustments, start=len(plans) + 1):
        line.position = offset
    db.session.flush()
    entries.keep(statement, written)
    return sum(entries.count(packed) for _line, packed in written)


def _record_computation(statement, count):
    """One audit event for the ids kept behind the lines (the lines are audited row by row)."""
    from portal.audit.recorder import record_event
    record_event(db.session, "statement_computed", tenant_id=statement.tenant_id, object_type="Statement",
                 object_id=str(statement.id),
                 after={"month": statement.month, "entries": count, "gross_fen": statement.gross_fen,
                        "deductions_fen": statement.deductions_fen, "net_fen": statement.net_fen})


def contracts_to_settle(month, contract_id=None):
    """The current bureau's contracts in delivery (or suspended, completed, terminated) whose
    period overlaps ``month``."""
    first_day, last_day = months.month_days(month)
    stmt = (select(Contract).where(Contract.in_delivery, Contract.starts_on <= last_day,
                                   Contract.ends_on >= first_day).order_by(Contract.id))
    if contract_id is not None:
        stmt = stmt.where(Contract.id == contract_id)
    return db.session.execute(stmt).scalars().all()


def prepare_month(month, *, contract_id=None, by=None, progress=None, job_run=None):
    """prepare_statement for every contract of contracts_to_settle(month, contract_id), in id
    order; ``progress(done, total)`` after each. Statements past draft come back untouched. A
    month that has not ended is refused before anything is read."""
    month = months.month_text(month)
    ensure_month_ended(month)
    contracts = contracts_to_settle(month, contract_id)
    statements = []
    for done, contract in enumerate(contracts, start=1):
        statements.append(prepare_statement(contract, month, by=by, job_run=job_run))
        if progress is not None:
            progress(done, len(contracts))
    return statements
