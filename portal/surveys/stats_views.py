"""The survey statistics page and the monthly report to the bureau (docs/DOMAIN.md §6): per
township and category, the families surveyed, eligible, marginal, not eligible and exits, and the
average per-capita income against the average standard, for a month or a run of months, with a bar
chart and an Excel copy; the monthly report adds the re-check results per contractor and the
re-surveys due and overdue, as a printable page (A4, with a signature block) and as Excel.

Bureau readers only (survey.stats). The tables are aggregates bounded by the bureau's townships
and the four categories, so they are shown whole, not paged."""
import io

from flask import render_template, request
from flask_babel import gettext as _
from openpyxl import Workbook

from portal.core import months
from portal.core.auth import capability_required
from portal.core.money import format_fen
from portal.core.timeutil import local_today
from portal.core.xlsx import append_row, money_cell, xlsx_download
from portal.surveys import schedule, stats
from portal.surveys.blueprint import bp
from portal.surveys.rechecks import DiscrepancyRow, discrepancies_by_contractor
from portal.surveys.labels import CATEGORY_LABELS, label


def _period():
    """(first month, last month, message or None) of the query's ``month`` and ``to`` (YYYY-MM):
    this month by default; a malformed month, or a last month before the first, gives this month
    and a message (never an error page)."""
    this_month = months.first_day(local_today())
    raw_first, raw_last = request.args.get("month", "").strip(), request.args.get("to", "").strip()
    first = months.month_or_none(raw_first) if raw_first else this_month
    last = months.month_or_none(raw_last) if raw_last else first
    if first is None or last is None:
        return this_month, this_month, _("Give the months as YYYY-MM; this month is shown.")
    if last < first:
        return this_month, this_month, _("The last month is before the first; this month is shown.")
    return first, last, None


def _report_month():
    """(month, message or None) of the report: ``month`` (YYYY-MM), else last month."""
    default = months.previous_month(local_today())
    raw = request.args.get("month", "").strip()
    month = months.month_or_none(raw) if raw else default
    if month is None:
        return default, _("Give the month as YYYY-MM; last month is shown.")
    return month, None


def _figures(first, last):
    start, end = months.month_bounds(first)[0], months.month_bounds(last)[1]
    rows = stats.township_rows(start, end)
    townships = stats.per_township(rows)
    return rows, townships, stats.combined(rows, _("Total"))


def _period_text(first, last):
    return months.month_text(first) if first == last else f"{months.month_text(first)} – {months.month_text(last)}"


@bp.route("/stats")
@capability_required("survey.stats")
def stats_page():
    """The figures per township and category of the months asked for, a chart and the totals."""
    first, last, message = _period()
    rows, townships, total = _figures(first, last)
    return render_template("surveys/stats.html", first=months.month_text(first), last=months.month_text(last),
                           period=_period_text(first, last), message=message, rows=rows, townships=townships,
                           total=total, chart=stats.chart(townships), categories=CATEGORY_LABELS, label=label)


def _figure_headers():
    return [_("Township (street)"), _("Category"), _("Families surveyed"), _("Eligible"), _("Marginal"),
            _("Not eligible"), _("Exits"), _("Average per-capita income (yuan)"), _("Average standard (yuan)")]


def _figure_values(row, money=format_fen):
    """A row's figures; ``money`` turns fen into what the reader gets (text on the page, a number
    cell in a workbook)."""
    return [row.township, str(label(CATEGORY_LABELS, row.category)) if row.category else "", row.surveyed,
            row.eligible, row.marginal, row.not_eligible, row.exits, money(row.average_income_fen),
            money(row.average_standard_fen)]


def _figures_sheet(sheet, title, period, rows, total):
    append_row(sheet, [title, period])
    append_row(sheet, _figure_headers())
    for row in rows + [total]:
        append_row(sheet, _figure_values(row, lambda fen: money_cell(sheet, fen)))


def _download(book, name):
    out = io.BytesIO()
    book.save(out)
    return xlsx_download(out.getvalue(), name, "surveys.xlsx")


@bp.route("/stats.xlsx")
@capability_required("survey.stats")
def stats_export():
    """The same figures as an Excel workbook: per township and category, then per township."""
    first, last, _message = _period()
    rows, townships, total = _figures(first, last)
    period = _period_text(first, last)
    book = Workbook()
    sheet = book.active
    sheet.title = _("By category")[:31]
    _figures_sheet(sheet, _("Household economic surveys"), period, rows, total)
    _figures_sheet(book.create_sheet(_("By township")[:31]), _("Household economic surveys"), period, townships, total)
    return _download(book, f"surveys-{months.month_text(first)}-{months.month_text(last)}.xlsx")


def _report(month):
    start, end = months.month_bounds(month)
    rows, townships, total = _figures(month, month)
    rechecks = discrepancies_by_contractor(start, end)
    recheck_total = DiscrepancyRow(None, _("Total"), sum(r.rechecked for r in rechecks),
                                   sum(r.discrepancies for r in rechecks))
    today = local_today()
    return {"month": months.month_text(month), "rows": rows, "townships": townships, "total": total,
            "rechecks": rechecks, "recheck_total": recheck_total, "today": today,
            "due_counts": schedule.due_counts(today)}


@bp.route("/report")
@capability_required("survey.stats")
def report():
    """The monthly report to the bureau, made for printing (A4): the month's figures per township
    and category, the re-checks done in the month per contractor, the re-surveys due and overdue
    today, and the signatures."""
    month, message = _report_month()
    return render_template("surveys/report.html", message=message, categories=CATEGORY_LABELS, label=label,
                           **_report(month))


@bp.route("/report.xlsx")
@capability_required("survey.stats")
def report_export():
    """The monthly report as an Excel workbook (figures, re-checks, due and overdue)."""
    month, _message = _report_month()
    data = _report(month)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Figures")[:31]
    _figures_sheet(sheet, _("Monthly report of household economic surveys"), data["month"], data["rows"],
                   data["total"])
    sheet = book.create_sheet(_("Re-checks")[:31])
    append_row(sheet, [_("Re-checks done in the month"), data["month"]])
    append_row(sheet, [_("Contractor"), _("Re-checked"), _("Outcome discrepancies"), _("Outcome discrepancy rate (%)")])
    for row in data["rechecks"] + [data["recheck_total"]]:
        append_row(sheet, [row.contractor, row.rechecked, row.discrepancies, row.percent])
    sheet = book.create_sheet(_("Re-surveys")[:31])
    append_row(sheet, [_("Re-surveys as of %(day)s", day=data["today"].isoformat())])
    append_row(sheet, [_("Due within 30 days"), data["due_counts"]["due"]])
    append_row(sheet, [_("Overdue"), data["due_counts"]["overdue"]])
    return _download(book, f"survey-report-{data['month']}.xlsx")
