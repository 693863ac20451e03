"""The budget view (docs/DOMAIN.md §8): per budget line and contract, what is contracted, settled,
paid and remaining, in integer fen.

- contracted: the contract's amount plus what its amendments added (contracts in force only:
  a draft commits nothing yet);
- settled: the net of its approved and paid statements;
- paid: the net of its paid statements;
- remaining: contracted − settled.

A budget line's totals add up its contracts, and the line's own amount is shown beside what is
contracted on it. Everything is summed in SQL, one query per figure, whatever the number of
statements."""
from dataclasses import dataclass, field

from sqlalchemy import func, select

from portal.billing.models import Statement
from portal.contracts.lifecycle import IN_FORCE
from portal.contracts.models import Amendment, Contract
from portal.extensions import db
from portal.tenders.models import BudgetLine

SETTLED_STATUSES = ("approved", "paid")

# Geometry of the server-rendered SVG bars (attributes only: the Content-Security-Policy forbids
# inline styles).
BAR_HEIGHT = 22
BAR_GAP = 14
LABEL_WIDTH = 240
BAR_WIDTH = 360
VALUE_WIDTH = 320


@dataclass
class ContractFigures:
    contract: Contract
    contracted_fen: int
    settled_fen: int
    paid_fen: int

    @property
    def remaining_fen(self):
        return self.contracted_fen - self.settled_fen


@dataclass
class LineFigures:
    line: BudgetLine
    contracts: list = field(default_factory=list)

    @property
    def budget_fen(self):
        return self.line.amount_fen

    @property
    def contracted_fen(self):
        return sum(c.contracted_fen for c in self.contracts)

    @property
    def settled_fen(self):
        return sum(c.settled_fen for c in self.contracts)

    @property
    def paid_fen(self):
        return sum(c.paid_fen for c in self.contracts)

    @property
    def remaining_fen(self):
        return self.contracted_fen - self.settled_fen

    @property
    def uncontracted_fen(self):
        """What the line's budget still leaves beyond its contracts."""
        return self.budget_fen - self.contracted_fen


def _sums(stmt):
    return {key: int(value or 0) for key, value in db.session.execute(stmt).all()}


def budget_years():
    """The years that have budget lines, newest first."""
    return list(db.session.execute(select(BudgetLine.year).distinct().order_by(BudgetLine.year.desc())).scalars())


def budget_view(year=None, budget_line_id=None):
    """LineFigures for every budget line (of ``year`` / only ``budget_line_id`` when given),
    each with its contracts in force, ordered by year (newest first), name and contract number."""
    lines_stmt = select(BudgetLine).order_by(BudgetLine.year.desc(), BudgetLine.name, BudgetLine.id)
    if year:
        lines_stmt = lines_stmt.where(BudgetLine.year == year)
    if budget_line_id:
        lines_stmt = lines_stmt.where(BudgetLine.id == budget_line_id)
    lines = [LineFigures(line) for line in db.session.execute(lines_stmt).scalars()]
    if not lines:
        return []
    by_line = {figures.line.id: figures for figures in lines}
    contracts = db.session.execute(
        select(Contract).where(Contract.budget_line_id.in_(by_line), Contract.status.in_(IN_FORCE))
        .order_by(Contract.number, Contract.id)).scalars().all()
    ids = [c.id for c in contracts]
    added = _sums(select(Amendment.contract_id, func.sum(Amendment.added_fen))
                  .where(Amendment.contract_id.in_(ids)).group_by(Amendment.contract_id))
    settled = _sums(select(Statement.contract_id, func.sum(Statement.net_fen))
                    .where(Statement.contract_id.in_(ids), Statement.status.in_(SETTLED_STATUSES))
                    .group_by(Statement.contract_id))
    paid = _sums(select(Statement.contract_id, func.sum(Statement.net_fen))
                 .where(Statement.contract_id.in_(ids), Statement.status == "paid")
                 .group_by(Statement.contract_id))
    for contract in contracts:
        by_line[contract.budget_line_id].contracts.append(ContractFigures(
            contract, contract.amount_fen + added.get(contract.id, 0), settled.get(contract.id, 0),
            paid.get(contract.id, 0)))
    return lines


def _width(value, scale):
    """A bar's width in whole pixels for ``value`` fen on a scale where ``scale`` fen fill the bar
    (at least one pixel for any money at all, so a small amount is not drawn as none)."""
    if scale <= 0 or value <= 0:
        return 0
    return min(BAR_WIDTH, max(1, value * BAR_WIDTH // scale))


def line_chart(figures):
    """The geometry of one budget line's bars: a first row with the budget behind what is
    contracted, then one row per contract with the contracted amount behind what is settled and
    what is paid. All rows share one scale, the larger of the budget and the contracted total."""
    scale = max(figures.budget_fen, figures.contracted_fen, 1)
    step = BAR_HEIGHT + BAR_GAP
    rows = [{"label": figures.line.name, "y": 0, "track": _width(figures.budget_fen, scale),
             "settled": _width(figures.contracted_fen, scale), "paid": 0, "budget_row": True,
             "figures": figures}]
    for index, item in enumerate(figures.contracts, start=1):
        rows.append({"label": item.contract.number, "y": index * step, "track": _width(item.contracted_fen, scale),
                     "settled": _width(item.settled_fen, scale), "paid": _width(item.paid_fen, scale),
                     "budget_row": False, "figures": item})
    return {"rows": rows, "height": len(rows) * step, "width": LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
            "label_width": LABEL_WIDTH, "bar_width": BAR_WIDTH, "bar_height": BAR_HEIGHT}


def publish_execution(year, by, now=None):
    """Publish the year's budget execution summary (预算执行情况, docs/DOMAIN.md §9): per budget line
    the budget, what is contracted, settled, paid and remaining, in the bureau's language of
    record. Only totals of lines and contracts go out — nothing about any person. Each
    publication is a new notice (the figures move every month); returns the disclosure."""
    from flask_babel import gettext as _

    from portal.core.errors import DomainError
    from portal.core.money import format_fen
    from portal.core.timeutil import local_today, utcnow
    from portal.disclosures import publish
    from portal.i18n import record_locale
    if not by.can("budget.publish"):
        raise DomainError(_("Only procurement officers and finance staff publish the budget execution summary."))
    lines = budget_view(year=year)
    if not lines:
        raise DomainError(_("There is no budget line for %(year)s.", year=year))
    now = now or utcnow()
    with record_locale():
        title = _("Budget execution summary %(year)s (as of %(day)s)", year=year,
                  day=local_today(now).isoformat())
        rows = [_("%(name)s: budget %(budget)s yuan, contracted %(contracted)s, settled %(settled)s, "
                  "paid %(paid)s, remaining %(remaining)s.", name=f.line.name, budget=format_fen(f.budget_fen),
                  contracted=format_fen(f.contracted_fen), settled=format_fen(f.settled_fen),
                  paid=format_fen(f.paid_fen), remaining=format_fen(f.remaining_fen)) for f in lines]
    data = {"year": year, "lines": [
        {"name": f.line.name, "fund_source": f.line.fund_source, "budget_fen": f.budget_fen,
         "contracted_fen": f.contracted_fen, "settled_fen": f.settled_fen, "paid_fen": f.paid_fen,
         "remaining_fen": f.remaining_fen,
         "contracts": [{"number": c.contract.number, "contractor": c.contract.contractor.name,
                        "contracted_fen": c.contracted_fen, "settled_fen": c.settled_fen,
                        "paid_fen": c.paid_fen} for c in f.contracts]} for f in lines]}
    # no statutory deadline is set for this summary in docs/DOMAIN.md: it is never late (due_on None)
    return publish("budget_execution", title[:300], "\n".join(rows), None, None, now, data=data)
