"""The figures of the bureau's re-checks of assessments (docs/DOMAIN.md §6: "discrepancy rate per
contractor"): how many re-checks were done in a period and how many of them found another class —
per contract (the quarterly scorecard's component, portal/scorecards/services.py), and per
contractor and per assessor (the discrepancy page, stats_views.py).

A re-check counts in the period its ``rechecked_at`` falls in (start ≤ t < end, aware UTC bounds,
as ``portal.core.months.month_bounds`` gives them); one drawn but not done yet counts nowhere. The
assessor of a row is the one whose assessment was re-checked (the work being judged), never the
one who re-checked it. Counts only: no indicator, note or person ever leaves this module."""
from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import case, func, select

from portal.accounts.models import User
from portal.assessments.models import Assessment, AssessmentRecheck
from portal.contractors.models import Contractor
from portal.core.numbers import percent_text
from portal.extensions import db


@dataclass(frozen=True)
class DiscrepancyRow:
    """One contractor's or assessor's re-checks of a period: ``rechecked`` done, ``discrepancies``
    among them that found another class. ``contractor`` is the assessor's contractor (its own name
    on a contractor row)."""
    key: int
    name: str
    contractor: str
    rechecked: int
    discrepancies: int

    @property
    def rate(self):
        """discrepancies / rechecked, exact (None without re-checks)."""
        return Fraction(self.discrepancies, self.rechecked) if self.rechecked else None

    @property
    def percent(self):
        """The rate as a percentage with two decimals, rounded half-up ("12.50"); "" without re-checks."""
        return percent_text(self.discrepancies, self.rechecked)


def _done_in(start, end):
    return [AssessmentRecheck.rechecked_at.is_not(None), AssessmentRecheck.rechecked_at >= start,
            AssessmentRecheck.rechecked_at < end]


def _figures():
    """(re-checks done, discrepancies among them) as aggregate columns."""
    return (func.count(AssessmentRecheck.id),
            func.coalesce(func.sum(case((AssessmentRecheck.discrepancy.is_(True), 1), else_=0)), 0))


def discrepancy_counts(contract_id, start, end):
    """(re-checks done in [start, end), discrepancies among them) of the assessments of one contract."""
    rechecked, found = db.session.execute(
        select(*_figures()).join(Assessment, Assessment.id == AssessmentRecheck.assessment_id)
        .where(Assessment.contract_id == contract_id, *_done_in(start, end))).one()
    return int(rechecked), int(found or 0)


def per_contractor(start, end):
    """[DiscrepancyRow] of every contractor of the current bureau whose assessments were re-checked
    in [start, end), by contractor name."""
    rows = db.session.execute(
        select(Contractor.id, Contractor.name, *_figures())
        .select_from(AssessmentRecheck)
        .join(Assessment, Assessment.id == AssessmentRecheck.assessment_id)
        .join(Contractor, Contractor.id == Assessment.contractor_id)
        .where(*_done_in(start, end))
        .group_by(Contractor.id, Contractor.name)
        .order_by(Contractor.name, Contractor.id)).all()
    return [DiscrepancyRow(cid, name, name, int(done), int(found or 0)) for cid, name, done, found in rows]


def per_assessor(start, end):
    """[DiscrepancyRow] of every assessor whose assessments were re-checked in [start, end), by
    contractor, then name."""
    rows = db.session.execute(
        select(User.id, User.display_name, User.username, Contractor.name, *_figures())
        .select_from(AssessmentRecheck)
        .join(Assessment, Assessment.id == AssessmentRecheck.assessment_id)
        .join(User, User.id == Assessment.assessor_user_id)
        .join(Contractor, Contractor.id == Assessment.contractor_id)
        .where(*_done_in(start, end))
        .group_by(User.id, User.display_name, User.username, Contractor.name)
        .order_by(Contractor.name, User.username, User.id)).all()
    return [DiscrepancyRow(uid, display or username, contractor, int(done), int(found or 0))
            for uid, display, username, contractor, done, found in rows]


def totals(rows):
    """The sum of ``rows`` as one DiscrepancyRow (key 0, no name)."""
    return DiscrepancyRow(0, "", "", sum(row.rechecked for row in rows), sum(row.discrepancies for row in rows))
