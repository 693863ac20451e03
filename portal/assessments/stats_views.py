"""The discrepancy page of the bureau's re-checks (docs/DOMAIN.md §6: "discrepancy rate per
contractor"): for a period of whole months, the re-checks done and the discrepancies found, per
contractor and per assessor, with an Excel copy. Bureau readers only; counts and names of
contractors and assessors, never a person assessed.

The tables are aggregates (one row per contractor or assessor who had re-checks in the period),
bounded by the bureau's contractors and their staff, so they are shown whole, not paged."""
import io

from flask import render_template, request
from flask_babel import gettext as _
from openpyxl import Workbook

from portal.assessments import stats
from portal.assessments.blueprint import bp
from portal.core import months
from portal.core.auth import capability_required
from portal.core.timeutil import local_today
from portal.core.xlsx import append_row, xlsx_download

DEFAULT_MONTHS = 12  # the period shown when none is asked for: the last twelve months, this one included


def _period():
    """(first month, last month, message or None) of the query's ``from`` and ``to`` (YYYY-MM).
    A month left empty takes its default; a malformed one, or a first month after the last,
    gives the default period and a message saying why (never an error page)."""
    last_default = months.first_day(local_today())
    first_default = months.recent_months(last_default, DEFAULT_MONTHS)[-1]
    raw_from, raw_to = request.args.get("from", "").strip(), request.args.get("to", "").strip()
    first = months.month_or_none(raw_from) if raw_from else first_default
    last = months.month_or_none(raw_to) if raw_to else last_default
    if first is None or last is None:
        return first_default, last_default, _("Give the months as YYYY-MM; the last twelve months are shown.")
    if first > last:
        return first_default, last_default, _("The first month is after the last; the last twelve months are shown.")
    return first, last, None


def _figures(first, last):
    start, end = months.month_bounds(first)[0], months.month_bounds(last)[1]
    contractors, assessors = stats.per_contractor(start, end), stats.per_assessor(start, end)
    return contractors, assessors, stats.totals(contractors)


@bp.route("/discrepancies")
@capability_required("assessment.read_all")
def discrepancies():
    """Re-checks done and discrepancies found in a period, per contractor and per assessor."""
    first, last, message = _period()
    contractors, assessors, total = _figures(first, last)
    return render_template("assessments/discrepancies.html", first=months.month_text(first),
                           last=months.month_text(last), message=message, contractors=contractors,
                           assessors=assessors, total=total)


@bp.route("/discrepancies.xlsx")
@capability_required("assessment.read_all")
def discrepancies_export():
    """The same tables as an Excel workbook (one sheet per table)."""
    first, last, _message = _period()
    contractors, assessors, total = _figures(first, last)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Per contractor")[:31]
    period = f"{months.month_text(first)} – {months.month_text(last)}"
    append_row(sheet, [_("Re-check discrepancies"), period])
    append_row(sheet, [_("Contractor"), _("Re-checked"), _("Discrepancies"), _("Discrepancy rate (%)")])
    for row in contractors + [total]:
        append_row(sheet, [row.name or _("Total"), row.rechecked, row.discrepancies, row.percent])
    sheet = book.create_sheet(_("Per assessor")[:31])
    append_row(sheet, [_("Re-check discrepancies"), period])
    append_row(sheet, [_("Assessor"), _("Contractor"), _("Re-checked"), _("Discrepancies"),
                       _("Discrepancy rate (%)")])
    for row in assessors:
        append_row(sheet, [row.name, row.contractor, row.rechecked, row.discrepancies, row.percent])
    out = io.BytesIO()
    book.save(out)
    name = f"discrepancies-{months.month_text(first)}-{months.month_text(last)}.xlsx"
    return xlsx_download(out.getvalue(), name, "discrepancies.xlsx")
