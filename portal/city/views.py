"""The city's view for the auditor (issue 20 part 5): the districts granted side by side for a
year, the same as an Excel workbook, and one district's drill-down with its contracts. Read-only."""
from io import BytesIO

from flask import abort, render_template
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook

from portal.city.blueprint import bp
from portal.city.figures import YEAR_HIGH, YEAR_LOW, city_overview, district_figures, granted_tenants
from portal.city.table import FIGURES, value_text
from portal.core import query
from portal.core.auth import capability_required
from portal.core.timeutil import local_today
from portal.core.xlsx import append_row, money_cell, xlsx_download

CHART_WIDTH = 300  # pixels of a full bar (100 %)
CHART_RATES = ("verified_rate", "confirmation_rate", "budget_execution")


def year_arg(required=False):
    """The ``year`` query parameter, YEAR_LOW … YEAR_HIGH; this year when absent on a page."""
    message = _("Give a year from %(low)s to %(high)s.", low=YEAR_LOW, high=YEAR_HIGH)
    year = query.whole_number_arg("year", YEAR_LOW, YEAR_HIGH, message)
    if year is None:
        if required:
            query.refuse("year", message)
        year = local_today().year
    return year


def _chart(districts):
    """Bars of a few rates per district: (label, [(rate label, width px, text)])."""
    labels = {"verified_rate": _("Visits verified"), "confirmation_rate": _("Spot-check confirmation rate"),
              "budget_execution": _("Budget execution (paid ÷ budget)")}
    rows = []
    for district in districts:
        bars = []
        for key in CHART_RATES:
            value = getattr(district, key)
            width = 0 if value is None else min(CHART_WIDTH, int(value * CHART_WIDTH))
            bars.append({"label": labels[key], "width": width, "text": value_text(value, "rate")})
        rows.append({"name": district.tenant.name, "bars": bars})
    return rows


@bp.get("/")
@capability_required("city.read")
def overview():
    """The districts granted to the auditor side by side for the year."""
    year = year_arg()
    districts = city_overview(current_user, year)
    return render_template("city/overview.html", year=year, districts=districts, figures=FIGURES,
                           value_text=value_text, chart=_chart(districts), chart_width=CHART_WIDTH)


@bp.get("/overview.xlsx")
@capability_required("city.read")
def overview_xlsx():
    """The overview as a workbook: one row per figure, one column per district; money as numbers."""
    year = year_arg()
    districts = city_overview(current_user, year)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("City overview %(year)s", year=year))
    append_row(sheet, [_("Figure")] + [f"{d.tenant.name} ({d.tenant.code})" for d in districts])
    for key, label, kind in FIGURES:
        cells = []
        for district in districts:
            value = getattr(district, key)
            if kind == "fen":
                cells.append(money_cell(sheet, value))
            elif kind in ("rate", "score"):
                cells.append(value_text(value, kind))
            else:
                cells.append(value)
        sheet.append([str(label)] + cells)
    out = BytesIO()
    book.save(out)
    return xlsx_download(out.getvalue(), f"city-overview-{year}.xlsx", "city-overview.xlsx")


@bp.get("/<code>")
@capability_required("city.read")
def district(code):
    """One granted district's figures with its contracts; a district not granted is a 404."""
    year = year_arg()
    tenant = next((t for t in granted_tenants(current_user) if t.code == code), None)
    if tenant is None:
        abort(404)
    figures = district_figures(tenant, year, with_rows=True)
    return render_template("city/district.html", year=year, district=figures, figures=FIGURES,
                           value_text=value_text)
