"""What the financial reports of a contract say beside its settlements: the settled amount of a
period (the net of its approved and paid statements) and the year's summary the annual evaluation
carries (portal/evaluations)."""
from sqlalchemy import func, select

from portal.billing.models import FROZEN_STATUSES, Statement
from portal.extensions import db
from portal.finreports.models import FinancialReport


def period_months(period):
    """The months ("YYYY-MM") a report period covers: itself, or the twelve of a year "YYYY"."""
    if len(period) == 4:
        return [f"{period}-{month:02d}" for month in range(1, 13)]
    return [period]


def settled_fen(contract_id, period):
    """The net of ``contract_id``'s approved or paid statements for the months of ``period``."""
    return int(db.session.execute(select(func.coalesce(func.sum(Statement.net_fen), 0)).where(
        Statement.contract_id == contract_id, Statement.month.in_(period_months(period)),
        Statement.status.in_(FROZEN_STATUSES))).scalar_one())


def year_summary(contract, year):
    """The financial reports of ``contract`` for ``year`` (the monthly ones and the annual one):
    {"reports": n, "accepted": n, "returned": n, "submitted": n, "draft": n,
     "reported_fen": Σ total of the accepted monthly reports (or the accepted annual report when
     there is one), "settled_fen": the year's settled net, "difference_fen": reported − settled}."""
    year = int(year)
    reports = db.session.execute(select(FinancialReport).where(
        FinancialReport.contract_id == contract.id,
        (FinancialReport.period == str(year)) | FinancialReport.period.like(f"{year}-%"))).scalars().all()
    counts = {status: 0 for status in ("draft", "submitted", "returned", "accepted")}
    for report in reports:
        counts[report.status] = counts.get(report.status, 0) + 1
    annual = [r for r in reports if r.period == str(year) and r.status == "accepted"]
    accepted = annual or [r for r in reports if len(r.period) == 7 and r.status == "accepted"]
    reported = sum(r.total_fen for r in accepted)
    settled = settled_fen(contract.id, str(year))
    return {"reports": len(reports), **counts, "reported_fen": reported, "settled_fen": settled,
            "difference_fen": reported - settled}
