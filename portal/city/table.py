"""The figures of the city's view, in the order the page, the Excel export and the API give them:
(key, label, kind) with kind "count" (an integer), "fen" (integer fen), "rate" (a Fraction shown
as a percentage) or "score" (points, a Fraction shown with two decimals)."""
from flask_babel import lazy_gettext as _l

from portal.core.money import format_fen
from portal.core.numbers import percent_text

FIGURES = (
    ("tenders_published", _l("Tender notices published"), "count"),
    ("awards", _l("Awards confirmed"), "count"),
    ("contracts_signed", _l("Contracts signed"), "count"),
    ("contracts_signed_late", _l("Contracts signed late"), "count"),
    ("contracts", _l("Contracts on the year's budget lines"), "count"),
    ("contracted_fen", _l("Contracted (yuan)"), "fen"),
    ("budget_fen", _l("Budget of the year's lines (yuan)"), "fen"),
    ("budget_paid_fen", _l("Paid on the year's budget lines (yuan)"), "fen"),
    ("budget_execution", _l("Budget execution (paid ÷ budget)"), "rate"),
    ("settled_fen", _l("Statements of the year approved or paid (yuan)"), "fen"),
    ("paid_fen", _l("Statements of the year paid (yuan)"), "fen"),
    ("visits", _l("Visits recorded"), "count"),
    ("visits_verified", _l("Visits verified"), "count"),
    ("visits_exception", _l("Visits with an exception"), "count"),
    ("exception_rate", _l("Visit exception rate"), "rate"),
    ("spot_checks", _l("Spot checks decided"), "count"),
    ("confirmation_rate", _l("Spot-check confirmation rate"), "rate"),
    ("scorecards", _l("Quarterly scorecards"), "count"),
    ("average_score", _l("Average quarterly score"), "score"),
    ("disclosures_late", _l("Disclosures overdue or published late"), "count"),
    ("feedback_due", _l("Public feedback due in the year"), "count"),
    ("feedback_counted", _l("Public feedback answered or past its due day"), "count"),
    ("feedback_on_time", _l("Public feedback answered on time"), "count"),
    ("feedback_on_time_rate", _l("Public feedback answered on time (rate)"), "rate"),
    ("feedback_overdue", _l("Public feedback overdue now"), "count"),
)


def value_text(value, kind):
    """A figure as the page shows it; "—" for a rate or score with nothing to divide."""
    if kind == "fen":
        return format_fen(value)
    if kind in ("rate", "score"):
        if value is None:
            return "—"
        if kind == "rate":
            return percent_text(value.numerator, value.denominator) + " %"
        return percent_text(value.numerator, value.denominator * 100)
    return str(value)


def api_value(value, kind):
    """A figure as the API gives it: integers as they are, a rate 0–1 rounded to 4 places, a
    score rounded to 2, None when there is nothing to divide."""
    if kind in ("rate", "score"):
        return None if value is None else round(float(value), 4 if kind == "rate" else 2)
    return value


def api_item(district):
    item = {"tenant": district.tenant.code, "name": district.tenant.name}
    for key, _label, kind in FIGURES:
        item[key] = api_value(getattr(district, key), kind)
    return item
