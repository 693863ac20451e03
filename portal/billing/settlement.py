"""Computing monthly statements (docs/DOMAIN.md §8).

For one contract and one calendar month (Beijing time) a statement holds:

* a ``service`` line per service item: payable units = min(verified units of the month, the
  item's monthly cap, the quota left after the contract's approved statements), amount = units ×
  unit price. A visit counts in the month of its check-in when its status is "verified" and no
  approved statement paid it already. When fewer units are payable than verified, the earliest
  visits (check-in, then id) are paid and the rest are listed as unpaid in the line's details;
* deduction lines from the sources in ``DEDUCTION_SOURCES`` (visits not confirmed by spot checks,
  subcontracting violations; more sources register with ``@deduction_source``);
* ``adjustment`` lines added by hand (workflow.add_adjustment); recomputing a draft keeps them.

gross = service lines + positive adjustments; deductions = deduction lines + negative
adjustments; net = gross − deductions, never below zero. Integer fen throughout.

Every amount is traceable: the visits paid and the visits or violations penalised are
StatementEntry rows of their line. They are written with set-based statements (INSERT … SELECT,
one bulk DELETE) because a month can hold 100,000 visits; the audit trail gets one summary event
per computation instead of a row per entry. Those Core statements bypass the ORM's tenant hook,
so each carries its tenant filter explicitly (row-level security still applies on PostgreSQL).

A statement past draft is never recomputed: prepare_statement returns it untouched."""
from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import delete, exists, func, insert, literal, select

from portal.billing.models import FROZEN_STATUSES, Statement, StatementEntry, StatementLine
from portal.contracts.models import Contract, ServiceItem
from portal.core import months
from portal.core.errors import DomainError
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.i18n import record_locale
from portal.supervision.models import Violation
from portal.supervision.spotcheck_models import SpotCheck
from portal.supervision.visit_models import Visit

# Contracts that may have delivered during a month (a draft or merely signed contract has not).
SETTLED_CONTRACT_STATUSES = ("active", "suspended", "completed", "terminated")
MAX_LISTED_UNPAID = 10_000  # unpaid visit ids kept in a line's details (the count is always exact)
ENTRY_CHUNK = 5_000


# --- months ----------------------------------------------------------------------------------------

def parse_month(text) -> str:
    """``"YYYY-MM"`` (years 2000–2099) as given, or DomainError with a ``month`` field error."""
    return months.month_text(months.parse_month(text))


def month_days(month: str):
    """(first day, last day) of the calendar month ``"YYYY-MM"``."""
    first = months.parse_month(month)
    return first, months.last_day(first)


def month_bounds(month: str):
    """(start, end) of the month in Beijing time as aware UTC datetimes: start ≤ t < end."""
    return months.month_bounds(months.parse_month(month))


def month_of(day: date) -> str:
    return months.month_text(day)


def previous_month(day: date) -> str:
    """The calendar month before the one ``day`` falls in."""
    return months.month_text(months.previous_month(day))


# --- what a computation produces --------------------------------------------------------------------

@dataclass
class LinePlan:
    """A line about to be written, with what stands behind it: ``entries`` as (role, visit id,
    violation id) tuples, or ``entry_select``, a select of visit ids inserted set-based."""
    kind: str
    description: str
    units: int = 0
    unit_price_fen: int = 0
    multiplier: int = 1
    amount_fen: int = 0
    service_item_id: int | None = None
    verified_units: int = 0
    monthly_cap: int | None = None
    quota_left: int | None = None
    details: dict = field(default_factory=dict)
    entries: list = field(default_factory=list)
    entry_select: object = None
    entry_role: str = "paid"


@dataclass
class Period:
    """What every line source gets: the contract, the month and its bounds, the statement."""
    contract: Contract
    month: str
    start: object
    end: object
    first_day: date
    last_day: date
    statement_id: int | None

    @property
    def tenant_id(self):
        return self.contract.tenant_id


DEDUCTION_SOURCES = []


def deduction_source(func):
    """Register ``func(period) -> [LinePlan]`` as a source of deduction lines (kinds starting with
    ``deduction_``). Station staffing shortfall will be one more of these."""
    DEDUCTION_SOURCES.append(func)
    return func


def _paid_by_approved(role):
    """True for a visit an approved statement already paid (role "paid") or penalised."""
    return exists().where(StatementEntry.approved_visit_id == Visit.id, StatementEntry.role == role)


def _payable_visits(period, item_id=None):
    """Conditions on Visit for the month's verified visits not yet paid by an approved statement."""
    conditions = [Visit.tenant_id == period.tenant_id, Visit.contract_id == period.contract.id,
                  Visit.status == "verified", Visit.check_in_at >= period.start, Visit.check_in_at < period.end,
                  ~_paid_by_approved("paid")]
    if item_id is not None:
        conditions.append(Visit.service_item_id == item_id)
    return conditions


def units_approved(contract_id, exclude_statement_id):
    """{service item id: units paid by the contract's approved (or paid) statements}."""
    rows = db.session.execute(
        select(StatementLine.service_item_id, func.coalesce(func.sum(StatementLine.units), 0))
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(Statement.contract_id == contract_id, Statement.status.in_(FROZEN_STATUSES),
               Statement.id != (exclude_statement_id or -1), StatementLine.kind == "service")
        .group_by(StatementLine.service_item_id)).all()
    return {item_id: int(units) for item_id, units in rows}


def service_lines(period):
    """A ``service`` line per service item of the contract (see the module docstring)."""
    contract = period.contract
    counts = dict(db.session.execute(
        select(Visit.service_item_id, func.count()).where(*_payable_visits(period))
        .group_by(Visit.service_item_id)).all())
    used = units_approved(contract.id, period.statement_id)
    items = db.session.execute(select(ServiceItem).where(ServiceItem.contract_id == contract.id)
                               .order_by(ServiceItem.id)).scalars().all()
    lines = []
    for item in items:
        verified = int(counts.get(item.id, 0))
        quota_left = max(item.quota - used.get(item.id, 0), 0)
        payable, limited_by = verified, None
        if item.monthly_cap is not None and item.monthly_cap < payable:
            payable, limited_by = item.monthly_cap, "monthly_cap"
        if quota_left < payable:
            payable, limited_by = quota_left, "quota"
        in_order = (select(Visit.id).where(*_payable_visits(period, item.id))
                    .order_by(Visit.check_in_at, Visit.id))
        details = {"code": item.code, "unit": item.unit, "quota": item.quota, "paid_units": payable}
        if payable < verified:
            unpaid = db.session.execute(in_order.offset(payable).limit(MAX_LISTED_UNPAID)).scalars().all()
            details.update(limited_by=limited_by, unpaid_count=verified - payable, unpaid_visit_ids=list(unpaid))
        lines.append(LinePlan(
            kind="service", description=f"{item.code} {item.name}", units=payable,
            unit_price_fen=item.unit_price_fen, amount_fen=payable * item.unit_price_fen,
            service_item_id=item.id, verified_units=verified, monthly_cap=item.monthly_cap,
            quota_left=quota_left, details=details, entry_select=in_order.limit(payable) if payable else None))
    return lines


@deduction_source
def spot_check_deductions(period):
    """Each visit of the contract that a spot check did not confirm, checked in up to the end of
    the month and not yet penalised by an approved statement: its unit price × the contract's
    penalty multiplier. One line per unit price (service item)."""
    contract = period.contract
    rows = db.session.execute(
        select(Visit.id, Visit.service_item_id, ServiceItem.code, ServiceItem.name, ServiceItem.unit_price_fen)
        .join(ServiceItem, ServiceItem.id == Visit.service_item_id)
        .where(Visit.tenant_id == period.tenant_id, Visit.contract_id == contract.id, Visit.check_in_at < period.end,
               ~_paid_by_approved("penalty"),
               exists().where(SpotCheck.visit_id == Visit.id, SpotCheck.outcome == "not_confirmed"))
        .order_by(Visit.service_item_id, Visit.check_in_at, Visit.id)).all()
    multiplier = contract.spot_check_penalty_multiplier or 1
    by_item = {}
    for visit_id, item_id, code, name, price in rows:
        by_item.setdefault(item_id, (code, name, price, []))[3].append(visit_id)
    lines = []
    for item_id, (code, name, price, visit_ids) in by_item.items():
        units = len(visit_ids)
        lines.append(LinePlan(
            kind="deduction_spot_check",
            description=_("Visits not confirmed by spot checks: %(item)s", item=f"{code} {name}"),
            units=units, unit_price_fen=price, multiplier=multiplier, amount_fen=units * price * multiplier,
            service_item_id=item_id, details={"visit_ids": visit_ids},
            entries=[("penalty", visit_id, None) for visit_id in visit_ids]))
    return lines


@deduction_source
def violation_deductions(period):
    """Each subcontracting violation of the contract that occurred by the end of the month, is not
    dismissed and was not deducted by an approved statement: the contract's fixed penalty."""
    contract = period.contract
    rows = db.session.execute(
        select(Violation.id, Violation.kind, Violation.occurred_on)
        .where(Violation.tenant_id == period.tenant_id, Violation.contract_id == contract.id,
               Violation.status != "dismissed", Violation.occurred_on <= period.last_day,
               ~exists().where(StatementEntry.approved_violation_id == Violation.id))
        .order_by(Violation.occurred_on, Violation.id)).all()
    if not rows:
        return []
    penalty = contract.violation_penalty_fen or 0
    return [LinePlan(
        kind="deduction_violation", description=_("Subcontracting violations"), units=len(rows),
        unit_price_fen=penalty, amount_fen=len(rows) * penalty,
        details={"violations": [{"id": vid, "kind": kind, "occurred_on": on.isoformat()} for vid, kind, on in rows]},
        entries=[("penalty", None, vid) for vid, _kind, _on in rows])]


# --- totals ------------------------------------------------------------------------------------------

def totals(lines):
    """(gross, deductions, net) of lines: service lines and positive adjustments add to gross,
    deduction lines and negative adjustments to deductions; net never goes below zero."""
    gross = deductions = 0
    for line in lines:
        if line.kind == "service":
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
    """Store the totals of the statement's lines on it (a draft only)."""
    lines = db.session.execute(select(StatementLine).where(StatementLine.statement_id == statement.id)).scalars().all()
    statement.gross_fen, statement.deductions_fen, statement.net_fen = totals(lines)


# --- writing a statement ------------------------------------------------------------------------------

def statement_number(contract, month):
    return f"{contract.number}-{month.replace('-', '')}"


def _existing(contract_id, month):
    return db.session.execute(select(Statement).where(Statement.contract_id == contract_id, Statement.month == month)
                              .with_for_update()).scalar_one_or_none()


def prepare_statement(contract, month, *, by=None, job_run=None):
    """The statement of ``contract`` for ``month`` in the current bureau, computed afresh as a
    draft when there is none or it is a draft (lines and entries replaced, adjustments kept); a
    statement past draft is returned untouched. ``by`` (None for the scheduled job) becomes the
    preparer. Refuses a contract not yet in delivery, a month that has not begun and a month
    outside the contract period."""
    month = parse_month(month)
    if contract.status in ("draft", "signed"):
        raise DomainError(_("A contract that is not yet in delivery has nothing to settle."))
    first_day, last_day = month_days(month)
    if first_day > local_today():
        message = _("A statement cannot be prepared before its month has begun.")
        raise DomainError(message, {"month": [message]})
    if contract.starts_on > last_day or contract.ends_on < first_day:
        message = _("The month is outside the contract period.")
        raise DomainError(message, {"month": [message]})
    statement = _existing(contract.id, month)
    if statement is not None and statement.status != "draft":
        return statement
    if statement is None:
        statement = Statement(contract_id=contract.id, month=month, number=statement_number(contract, month),
                              status="draft", tenant_id=contract.tenant_id)
        db.session.add(statement)
        db.session.flush()
    start, end = month_bounds(month)
    period = Period(contract, month, start, end, first_day, last_day, statement.id)
    with record_locale():  # line descriptions are records, in the bureau's language
        plans = service_lines(period)
        for source in DEDUCTION_SOURCES:
            plans.extend(source(period))
    _replace_lines(statement, plans)
    statement.computed_at = utcnow()
    if by is not None:
        statement.prepared_by_id = by.id
    statement.job_run_id = job_run.id if job_run is not None else None
    apply_totals(statement)
    db.session.flush()
    db.session.expire(statement, ["lines"])
    _record_computation(statement)
    return statement


def _replace_lines(statement, plans):
    """Drop the draft's computed lines and their entries, keep its adjustments, write ``plans``."""
    entries = StatementEntry.__table__
    db.session.flush()
    db.session.connection().execute(delete(entries).where(entries.c.tenant_id == statement.tenant_id,
                                                          entries.c.statement_id == statement.id))
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
        written.append((line, plan))
    for offset, line in enumerate(adjustments, start=len(plans) + 1):
        line.position = offset
    db.session.flush()
    connection = db.session.connection()
    for line, plan in written:
        if plan.entry_select is not None:
            chosen = plan.entry_select.subquery()
            connection.execute(insert(entries).from_select(
                ["tenant_id", "statement_id", "line_id", "role", "visit_id"],
                select(literal(statement.tenant_id), literal(statement.id), literal(line.id),
                       literal(plan.entry_role), chosen.c.id)))
        rows = [{"tenant_id": statement.tenant_id, "statement_id": statement.id, "line_id": line.id, "role": role,
                 "visit_id": visit_id, "violation_id": violation_id}
                for role, visit_id, violation_id in plan.entries]
        for at in range(0, len(rows), ENTRY_CHUNK):
            connection.execute(insert(entries), rows[at:at + ENTRY_CHUNK])


def _record_computation(statement):
    """One audit event for the entries written in bulk (the lines are audited row by row)."""
    from portal.audit.recorder import record_event
    count = db.session.execute(select(func.count()).select_from(StatementEntry)
                               .where(StatementEntry.statement_id == statement.id)).scalar_one()
    record_event(db.session, "statement_computed", tenant_id=statement.tenant_id, object_type="Statement",
                 object_id=str(statement.id),
                 after={"month": statement.month, "entries": count, "gross_fen": statement.gross_fen,
                        "deductions_fen": statement.deductions_fen, "net_fen": statement.net_fen})


def contracts_to_settle(month, contract_id=None):
    """The current bureau's contracts in delivery (or suspended, completed, terminated) whose
    period overlaps ``month``."""
    first_day, last_day = month_days(parse_month(month))
    stmt = (select(Contract).where(Contract.status.in_(SETTLED_CONTRACT_STATUSES), Contract.starts_on <= last_day,
                                   Contract.ends_on >= first_day).order_by(Contract.id))
    if contract_id is not None:
        stmt = stmt.where(Contract.id == contract_id)
    return db.session.execute(stmt).scalars().all()


def prepare_month(month, *, contract_id=None, by=None, progress=None, job_run=None):
    """prepare_statement for every contract of contracts_to_settle(month, contract_id), in id
    order; ``progress(done, total)`` after each. Statements past draft come back untouched."""
    month = parse_month(month)
    contracts = contracts_to_settle(month, contract_id)
    statements = []
    for done, contract in enumerate(contracts, start=1):
        statements.append(prepare_statement(contract, month, by=by, job_run=job_run))
        if progress is not None:
            progress(done, len(contracts))
    return statements
