"""What finance follows between statements (docs/DOMAIN.md §8):

* carried-forward balances: the deductions a statement's gross could not cover (its
  ``carried_out`` line) are owed by the contractor and deducted from the contract's next
  statement (``deduction_carried_forward``). What a contract still owes = what its approved
  statements carried out − what its approved statements deducted as carried forward. At the
  contract's end (its last month is approved, or it is completed or terminated) a balance still
  owed cannot be recovered by settlement and is listed for the bureau;
* late-verified visits: visits of an approved month its statement neither paid nor recorded as
  capped (lateness.py: decided from entries, not clocks). The next
  statement computed for the contract pays them on a ``late_verified`` line, each at most once
  (the entries' unique constraint)."""
from dataclasses import dataclass

from sqlalchemy import case, func, select

from portal.billing import lateness
from portal.billing.models import FROZEN_STATUSES, Statement, StatementEntry, StatementLine
from portal.contracts.models import Contract
from portal.core import months
from portal.extensions import db

ENDED_CONTRACT_STATUSES = ("completed", "terminated")


def _approved_lines(contract_id, kind, exclude_statement_id=None):
    stmt = (select(Statement.id, Statement.number, Statement.month, StatementLine.amount_fen)
            .join(StatementLine, StatementLine.statement_id == Statement.id)
            .where(Statement.contract_id == contract_id, Statement.status.in_(FROZEN_STATUSES),
                   StatementLine.kind == kind)
            .order_by(Statement.month, Statement.id))
    if exclude_statement_id is not None:
        stmt = stmt.where(Statement.id != exclude_statement_id)
    return db.session.execute(stmt).all()


def owed_before(contract_id, month, exclude_statement_id=None):
    """(fen owed, the approved statements before ``month`` that carried it out) for the
    statement of ``month``: carried out before it, less every carried-forward deduction approved
    elsewhere (so no balance is deducted twice, whatever the order of approvals)."""
    carried_out = [row for row in _approved_lines(contract_id, "carried_out", exclude_statement_id) if row.month < month]
    deducted = sum(row.amount_fen for row in _approved_lines(contract_id, "deduction_carried_forward",
                                                             exclude_statement_id))
    owed = sum(row.amount_fen for row in carried_out) - deducted
    sources = [{"statement_id": row.id, "number": row.number, "month": row.month, "carried_out_fen": row.amount_fen}
               for row in carried_out]
    return max(owed, 0), sources


@dataclass
class Balance:
    contract: Contract
    owed_fen: int
    last_month: str      # the latest approved statement that carried something out
    unrecoverable: bool  # the contract has ended: settlement can no longer recover it

    @property
    def next_month(self):
        return months.month_text(months.next_month(self.last_month))


def open_balances():
    """Every contract of the current bureau that still owes carried-forward deductions, the
    ones that can no longer be recovered by settlement first."""
    sign = case((StatementLine.kind == "carried_out", StatementLine.amount_fen), else_=-StatementLine.amount_fen)
    rows = db.session.execute(
        select(Statement.contract_id, func.sum(sign),
               func.max(case((StatementLine.kind == "carried_out", Statement.month), else_=None)))
        .join(StatementLine, StatementLine.statement_id == Statement.id)
        .where(Statement.status.in_(FROZEN_STATUSES),
               StatementLine.kind.in_(("carried_out", "deduction_carried_forward")))
        .group_by(Statement.contract_id)).all()
    owing = {contract_id: (int(owed), last_out) for contract_id, owed, last_out in rows if owed and owed > 0}
    if not owing:
        return []
    last_approved = dict(db.session.execute(
        select(Statement.contract_id, func.max(Statement.month))
        .where(Statement.contract_id.in_(owing), Statement.status.in_(FROZEN_STATUSES))
        .group_by(Statement.contract_id)).all())
    contracts = db.session.execute(select(Contract).where(Contract.id.in_(owing)).order_by(Contract.id)).scalars()
    found = []
    for contract in contracts:
        owed, last_out = owing[contract.id]
        ended = (contract.status in ENDED_CONTRACT_STATUSES
                 or last_approved[contract.id] >= months.month_text(contract.ends_on))
        found.append(Balance(contract, owed, last_out, ended))
    return sorted(found, key=lambda b: (not b.unrecoverable, b.contract.number))


@dataclass
class OwedAtEnd:
    contract: Contract
    visits: int      # late-verified visits no statement can pay any more
    value_fen: int   # at their unit prices (the monthly cap and quota may bound what is due)


def late_owed_at_end():
    """Contracts of the current bureau whose last month is approved while late-verified visits
    are still unpaid (no V01 finding): no later statement can pay them, so they are owed to the
    contractor outside settlement."""
    from portal.billing.sources import never_payable, paid_by_approved
    from portal.contracts.models import ServiceItem
    from portal.visits.models import Visit
    rows = db.session.execute(
        select(Visit.contract_id, func.count(), func.sum(ServiceItem.unit_price_fen))
        .join(ServiceItem, ServiceItem.id == Visit.service_item_id)
        .where(*lateness.late_base(Visit), ~paid_by_approved("paid"), ~never_payable())
        .group_by(Visit.contract_id)).all()
    if not rows:
        return []
    last_approved = dict(db.session.execute(
        select(Statement.contract_id, func.max(Statement.month))
        .where(Statement.contract_id.in_([row[0] for row in rows]), Statement.status.in_(FROZEN_STATUSES))
        .group_by(Statement.contract_id)).all())
    found = []
    for contract_id, count, value in rows:
        contract = db.session.get(Contract, contract_id)
        if last_approved.get(contract_id, "") >= months.month_text(contract.ends_on):
            found.append(OwedAtEnd(contract, int(count), int(value or 0)))
    return sorted(found, key=lambda owed: owed.contract.number)


def _approved_months():
    return db.session.execute(
        select(Statement.contract_id, Statement.month, Statement.approved_at, Statement.number)
        .where(Statement.status.in_(FROZEN_STATUSES), Statement.approved_at.is_not(None))).all()


def late_verified_select():
    """A select() of the current bureau's late-verified visits (lateness.py, the definition the
    ``late_verified`` line uses), newest verification first: a visit paid since by a later
    statement and a visit with a V01 finding (never paid) are listed too. One set-based query,
    whatever the number of approved statements."""
    from portal.visits.models import Visit
    return (select(Visit).where(*lateness.late_base(Visit))
            .order_by(Visit.verified_at.desc(), Visit.id.desc()))


def describe_late(visits):
    """Plain rows for late-verified ``visits``: visit id, contract, month, service item, verified
    and approved at, the month's statement, the approved statement that paid it since (or None),
    whether it is never payable (V01). No personal data."""
    from portal.billing.sources import never_payable
    from portal.visits.models import Visit
    ids = [visit.id for visit in visits]
    if not ids:
        return []
    paid = dict(db.session.execute(
        select(StatementEntry.approved_visit_id, Statement.number)
        .join(Statement, Statement.id == StatementEntry.statement_id)
        .where(StatementEntry.approved_visit_id.in_(ids), StatementEntry.role == "paid")).all())
    v01 = set(db.session.execute(select(Visit.id).where(Visit.id.in_(ids), never_payable())).scalars())
    approved = {(c, m): (a, n) for c, m, a, n in _approved_months()}
    rows = []
    for visit in visits:
        month = months.month_text(_local_day(visit.check_in_at))
        approved_at, number = approved.get((visit.contract_id, month), (None, ""))
        rows.append({"visit_id": visit.id, "contract": visit.contract, "month": month,
                     "item": visit.service_item.code, "check_in_at": visit.check_in_at,
                     "verified_at": visit.verified_at, "month_statement": number, "approved_at": approved_at,
                     "paid_in": paid.get(visit.id), "never_paid": visit.id in v01})
    return rows


def _local_day(moment):
    from portal.core.timeutil import to_local
    return to_local(moment).date()
