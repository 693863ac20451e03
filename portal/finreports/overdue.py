"""Overdue financial reports (docs/DOMAIN.md §7 "Financial reports"): for each contract in delivery
(Contract.in_delivery) and each month of it that has ended, the month report is due on the month's
last day + ``financial_report_due_days``; from the day after that (Beijing time) a month without a
submitted or accepted report (none, a draft, or a returned one) is overdue. The due day itself is
not overdue. A manager sees its organisation's contracts only."""
from dataclasses import dataclass
from datetime import date, timedelta

from flask import g, request
from flask_babel import gettext as _
from sqlalchemy import select

from portal.contracts.models import Contract
from portal.core.errors import DomainError
from portal.core.months import last_day, month_text, next_month
from portal.core.pagination import page_size
from portal.core.query import page_arg, per_page_arg
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.finreports.models import FinancialReport
from portal.finreports.services import due_days

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
        end, month = contract.effective_end, contract.starts_on.replace(day=1)
        while month <= end:
            due = last_day(month) + timedelta(days=days)
            if due >= today:
                break
            period = month_text(month)
            report = reports.get((contract.id, period))
            if report is None or report.status not in DONE:
                rows.append(OverdueMonth(contract, period, due, report))
            month = next_month(month)
    rows.sort(key=lambda row: (row.due_on, row.contract.number))
    return rows


class RowsPage:
    """One page of a list computed in Python, shaped like core/pagination's pages (the pager macro
    reads it); kept on ``g.list_page`` like them."""

    def __init__(self, rows, number, per_page, notice=None):
        self.total, self.per_page, self.page = len(rows), per_page, number
        self.pages = max(1, -(-self.total // per_page)) if self.total else 0
        self.items = rows[(number - 1) * per_page:number * per_page]
        self.has_prev, self.prev_num = number > 1, number - 1
        self.has_next, self.next_num = number < self.pages, number + 1
        self.notice = notice


def page_of_rows(rows, per_page=None):
    """The page of ``rows`` the ``page`` and ``per_page`` query parameters ask for; a bad number
    shows the first page with a notice, a number past the last an empty page with a notice."""
    notice, number, asked = None, 1, None
    try:
        number, asked = page_arg(), per_page_arg()
    except DomainError as exc:
        notice = exc.message
    page = RowsPage(rows, number, page_size(asked or per_page), notice)
    if notice is None and number > 1 and number > page.pages and request:
        page.notice = _("There is no page %(page)s; the last page is %(last)s.", page=number, last=max(page.pages, 1))
    g.list_page = page
    return page
