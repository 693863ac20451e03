"""The monthly trends of one contract (visits verified, spot-check confirmation, satisfaction) and
the geometry of their SVG line chart, shown beside the quarterly scorecards."""
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select

from portal.core.months import month_bounds, month_text
from portal.extensions import db
from portal.supervision.scorecards import centi_text, half_up
from portal.supervision.spotcheck_models import SpotCheck, SpotCheckSample
from portal.supervision.visit_models import Visit

# --- trends (the charts of one contract) -------------------------------------------------------------

CHART = {"width": 640, "height": 260, "left": 48, "right": 16, "top": 16, "bottom": 40}
SERIES = (("verified_share", _l("Verified share of visits"), "#1f5fad", ""),
          ("confirmation", _l("Spot-check confirmation rate"), "#2e7d32", "6 4"),
          ("satisfaction", _l("Average satisfaction (of 5, as %)"), "#b3541e", "2 3"))


def _rate_percent(part, whole):
    return half_up(Fraction(part * 100, whole)) if whole else None


def monthly_figures(contract, months):
    """Per month (first days, oldest first): visits, verified share, spot-check confirmation rate
    and average satisfaction, each as an integer per cent (None without data)."""
    rows = []
    for month in months:
        first, after = month_bounds(month)
        total, verified = db.session.execute(
            select(func.count(Visit.id), func.coalesce(func.sum(case_verified()), 0))
            .where(Visit.contract_id == contract.id, Visit.check_in_at >= first, Visit.check_in_at < after)).one()
        checks = (select(SpotCheck.outcome, SpotCheck.satisfaction).select_from(SpotCheck)
                  .join(SpotCheckSample, SpotCheckSample.id == SpotCheck.sample_id)
                  .where(SpotCheckSample.contract_id == contract.id, SpotCheckSample.month == month_text(month)))
        outcomes = db.session.execute(checks).all()
        confirmed = sum(1 for o, _s in outcomes if o == "confirmed")
        decided = sum(1 for o, _s in outcomes if o in ("confirmed", "not_confirmed"))
        scores = [s for _o, s in outcomes if s is not None]
        rows.append({"month": month, "visits": int(total), "verified": int(verified),
                     "verified_share": _rate_percent(int(verified), int(total)),
                     "checked": decided, "confirmed": confirmed, "confirmation": _rate_percent(confirmed, decided),
                     "answers": len(scores), "satisfaction_avg": centi_text(half_up(Fraction(sum(scores) * 100,
                                                                                            len(scores))))
                     if scores else None,
                     "satisfaction": _rate_percent(sum(scores), 5 * len(scores)) if scores else None})
    return rows


def case_verified():
    return case((Visit.status == "verified", 1), else_=0)


def trend_chart(rows):
    """The geometry of the line chart: one polyline per series over 0–100 %, with its points."""
    c = CHART
    plot_w, plot_h = c["width"] - c["left"] - c["right"], c["height"] - c["top"] - c["bottom"]
    step = plot_w // max(1, len(rows) - 1) if len(rows) > 1 else 0
    xs = [c["left"] + (i * step if len(rows) > 1 else plot_w // 2) for i in range(len(rows))]

    def y(value):
        return c["top"] + plot_h - plot_h * value // 100

    series = []
    for key, label, colour, dash in SERIES:
        points = [{"x": x, "y": y(row[key]), "value": row[key]} for x, row in zip(xs, rows) if row[key] is not None]
        series.append({"key": key, "label": label, "colour": colour, "dash": dash, "points": points,
                       "path": " ".join(f"{p['x']},{p['y']}" for p in points)})
    grid = [{"value": v, "y": y(v)} for v in (0, 25, 50, 75, 100)]
    labels = [{"x": x, "text": row["month"].strftime("%Y-%m")} for x, row in zip(xs, rows)]
    return {**c, "series": series, "grid": grid, "labels": labels, "plot_right": c["width"] - c["right"],
            "axis_y": c["top"] + plot_h}
