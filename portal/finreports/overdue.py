"""Overdue financial reports (docs/DOMAIN.md §7 "Financial reports"): for each contract in delivery
(Contract.in_delivery) and each month of it that has ended, the month report is due on the month's
last day + ``financial_report_due_days``; from the day after that (Beijing time) a month without a
submitted or accepted report (none, a draft, or a returned one) is overdue. A submitted or accepted
report of the month's year ("YYYY") reports its twelve months too. The due day itself is not
overdue. A manager sees its organisation's contracts only."""
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.contracts.models import Contract
from portal.core.cards import card
from portal.core.months import last_day, month_text, months_between
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.finreports.models import FinancialReport
from portal.finreports.services import due_days, reports_visible_to

DONE = ("submitted", "accepted")


@dataclass
class OverdueMonth:
    contract: Contract
    period: str
    due_on: date
    report: FinancialReport | None

    @property
    def days_late(self):
        return (local_today() - self.due_on).days


def _done(report):
    return report is not None and report.status in DONE


def overdue_months(user, today=None, contract_id=None):
    """[OverdueMonth] of the contracts ``user`` reaches (the bureau's readers all, a manager its
    organisation's), the longest overdue first."""
    today = today or local_today()
    days = due_days()
    stmt = select(Contract).where(Contract.in_delivery).order_by(Contract.number)
    if not user.can("finreport.read_all"):
        if user.contractor_id is None or not user.can("finreport.read"):
            return []
        stmt = stmt.where(Contract.contractor_id == user.contractor_id)
    if contract_id is not None:
        stmt = stmt.where(Contract.id == contract_id)
    contracts = db.session.execute(stmt).scalars().all()
    reports = {(r.contract_id, r.period): r for r in db.session.execute(select(FinancialReport).where(
        FinancialReport.contract_id.in_([c.id for c in contracts]))).scalars()} if contracts else {}
    rows = []
    for contract in contracts:
        for month in months_between(contract.starts_on, contract.effective_end):
            due = last_day(month) + timedelta(days=days)
            if due >= today:
                break
            period = month_text(month)
            report = reports.get((contract.id, period))
            if not _done(report) and not _done(reports.get((contract.id, period[:4]))):
                rows.append(OverdueMonth(contract, period, due, report))
    rows.sort(key=lambda row: (row.due_on, row.contract.number))
    return rows


def home_cards(user):
    """The home page's cards (portal/dashboard): for finance, the reports awaiting its review and
    the overdue months; for a contractor manager, its organisation's returned reports and overdue
    months; none for anyone else."""
    if user.can("finreport.review"):
        status, title = "submitted", _l("Financial reports awaiting review")
    elif user.can("finreport.submit"):
        status, title = "returned", _l("Financial reports returned to you")
    else:
        return []
    waiting = db.session.scalar(select(func.count()).select_from(
        reports_visible_to(user).where(FinancialReport.status == status).subquery()))
    return [card(title, waiting, "finreports.index", {"status": status}),
            card(_l("Months with a financial report overdue"), len(overdue_months(user)), "finreports.overdue_page")]
