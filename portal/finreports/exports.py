"""The financial reports list and the overdue list as Excel workbooks (openpyxl, write-only);
amounts are exact decimals of yuan from integer fen, user text never written as a formula."""
import io

from flask_babel import gettext as _
from openpyxl import Workbook

from portal.core.xlsx import append_row, money_cell
from portal.finreports.forms import CATEGORY_LABELS, STATUS_LABELS
from portal.finreports.models import CATEGORIES


def _book(title, widths):
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    for column, width in zip("ABCDEFGHIJKLMN", widths):
        sheet.column_dimensions[column].width = width
    return book, sheet


def _bytes(book):
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def reports_workbook(reports):
    """One row per report: contract, contractor, period, status, each category, total, settled
    (kept at review), difference, due day."""
    book, sheet = _book(_("Financial reports"), (18, 30, 9, 12, *(12,) * len(CATEGORIES), 14, 14, 14, 12))
    append_row(sheet, [_("Contract"), _("Contractor"), _("Reporting period"), _("Status"),
                       *[f"{CATEGORY_LABELS[c]}" for c in CATEGORIES], _("Total (yuan)"),
                       _("Settled (yuan)"), _("Difference (yuan)"), _("Due on")])
    for report in reports:
        settled = report.settled_fen
        append_row(sheet, [report.contract.number, report.contractor.name, report.period,
                           str(STATUS_LABELS[report.status]),
                           *[money_cell(sheet, int((report.amounts or {}).get(c, 0))) for c in CATEGORIES],
                           money_cell(sheet, report.total_fen),
                           money_cell(sheet, settled) if settled is not None else None,
                           money_cell(sheet, report.total_fen - settled) if settled is not None else None,
                           report.due_on.isoformat()])
    return _bytes(book)


def overdue_workbook(rows):
    """One row per overdue month: contract, contractor, month, due day, days late, report status."""
    book, sheet = _book(_("Overdue financial reports"), (18, 30, 9, 12, 10, 16))
    append_row(sheet, [_("Contract"), _("Contractor"), _("Reporting period"), _("Due on"), _("Days late"), _("Status")])
    for row in rows:
        append_row(sheet, [row.contract.number, row.contract.contractor.name, row.period, row.due_on.isoformat(),
                           row.days_late, str(STATUS_LABELS[row.report.status]) if row.report else _("Not written")])
    return _bytes(book)
