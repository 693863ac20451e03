"""Figures of household economic surveys (docs/DOMAIN.md §6) per township and category for a
period: families surveyed, eligible, marginal, not eligible, exits, and the average per-capita
monthly income against the average standard applied — on the surveys signed off, each family
counted once, by its latest signed-off survey made in the period (``surveyed_at`` in [start, end),
aware UTC bounds as ``portal.core.months.month_bounds`` gives them). Averages are integer fen,
rounded half up, from integer sums (never floats).

Also the public counts per township (counts only: no income, no name, no row per family). The
monthly report's re-checks per contractor are rechecks.discrepancies_by_contractor."""
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import aliased

from portal.beneficiaries.models import Beneficiary
from portal.extensions import db
from portal.surveys.models import HouseholdSurvey

PUBLIC_FIGURES = ("surveyed", "eligible", "marginal", "exits")


def half_up(total, count):
    """``total / count`` rounded half up in integers (0 without a count): 5/2 → 3, 7/3 → 2."""
    return (2 * total + count) // (2 * count) if count else 0


@dataclass(frozen=True)
class Figures:
    """One township's (and category's) surveys of a period; income and standard as integer sums."""
    township: str
    category: str
    surveyed: int
    eligible: int
    marginal: int
    not_eligible: int
    exits: int
    income_sum_fen: int
    standard_sum_fen: int

    @property
    def average_income_fen(self):
        """The average per-capita monthly income, fen, rounded half up."""
        return half_up(self.income_sum_fen, self.surveyed)

    @property
    def average_standard_fen(self):
        """The average of the standards the surveys were judged against, fen, rounded half up."""
        return half_up(self.standard_sum_fen, self.surveyed)


def _counted(start, end):
    """The conditions on HouseholdSurvey of the surveys counted for [start, end): signed off,
    made in the period, and the family's latest such survey."""
    other = aliased(HouseholdSurvey)
    later = exists().where(other.beneficiary_id == HouseholdSurvey.beneficiary_id, other.status == "signed_off",
                           other.surveyed_at >= start, other.surveyed_at < end,
                           or_(other.surveyed_at > HouseholdSurvey.surveyed_at,
                               and_(other.surveyed_at == HouseholdSurvey.surveyed_at, other.id > HouseholdSurvey.id)))
    return [HouseholdSurvey.status == "signed_off", HouseholdSurvey.surveyed_at >= start,
            HouseholdSurvey.surveyed_at < end, ~later]


def _outcome(name):
    return func.coalesce(func.sum(case((HouseholdSurvey.outcome == name, 1), else_=0)), 0)


def _aggregates():
    return (func.count(HouseholdSurvey.id), _outcome("eligible"), _outcome("marginal"), _outcome("not_eligible"),
            _outcome("exit"), func.coalesce(func.sum(HouseholdSurvey.per_capita_income_fen), 0),
            func.coalesce(func.sum(HouseholdSurvey.standard_fen), 0))


def township_rows(start, end, *, township="", category=""):
    """[Figures] per township and category of [start, end), by township then category."""
    stmt = (select(Beneficiary.township, HouseholdSurvey.category, *_aggregates())
            .join(Beneficiary, Beneficiary.id == HouseholdSurvey.beneficiary_id)
            .where(*_counted(start, end))
            .group_by(Beneficiary.township, HouseholdSurvey.category)
            .order_by(Beneficiary.township, HouseholdSurvey.category))
    if township.strip():
        stmt = stmt.where(Beneficiary.township == township.strip())
    if category:
        stmt = stmt.where(HouseholdSurvey.category == category)
    return [Figures(t, c, *(int(v or 0) for v in values)) for t, c, *values in db.session.execute(stmt).all()]


def combined(rows, township="", category=""):
    """The sum of ``rows`` as one Figures (named ``township`` and ``category``)."""
    return Figures(township, category, *(sum(getattr(row, name) for row in rows) for name in
                                         ("surveyed", "eligible", "marginal", "not_eligible", "exits",
                                          "income_sum_fen", "standard_sum_fen")))


def per_township(rows):
    """[Figures] of ``rows`` summed per township (category ""), in township order."""
    townships = sorted({row.township for row in rows})
    return [combined([row for row in rows if row.township == name], name) for name in townships]


def public_counts(start, end):
    """[(township, {surveyed, eligible, marginal, exits})] of [start, end): counts only."""
    return [(row.township, {name: getattr(row, name) for name in PUBLIC_FIGURES})
            for row in per_township(township_rows(start, end))]


def chart(rows, width=360, label_width=140, bar_height=22, gap=8):
    """Rows of a bar chart of ``rows`` (per township): the bar is the families surveyed, its dark
    part those found eligible (drawn like templates/visits/counts.html)."""
    most = max([row.surveyed for row in rows] + [1])
    bars = [{"label": row.township, "surveyed": row.surveyed, "eligible": row.eligible,
             "y": index * (bar_height + gap), "track": width * row.surveyed // most,
             "fill": width * row.eligible // most} for index, row in enumerate(rows)]
    return {"rows": bars, "height": max(1, len(bars)) * (bar_height + gap), "label_width": label_width,
            "bar_width": width, "bar_height": bar_height, "width": label_width + width + 120}


