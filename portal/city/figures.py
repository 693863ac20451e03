"""One district's figures for one year, for the city's view (issue 20 part 5). Each district is
computed inside ``tenant_scope`` of that district, so the ordinary tenant filter (and on
PostgreSQL row-level security) applies: never ``all_tenants()``. Only counts and sums leave
here: never a beneficiary's identity.

- procurement: tender notices published in the year, awards confirmed in it (not cancelled),
  contracts signed in it and those of them signed late (with a late-signing reason);
- contracts: those in force on the year's budget lines (billing.budget.budget_view), their
  contracted total (amount plus amendments), settled (approved and paid statements) and paid;
  budget execution = paid ÷ the year's budget lines;
- settlements: the net of the statements of the year's months, approved or paid / paid;
- visits checked in during the year (Beijing): recorded, verified, with an exception; exception
  rate = with an exception ÷ recorded;
- spot checks completed in the year: confirmation rate = confirmed ÷ decided;
- scorecards: the average score of the year's quarters (hundredths of a point, exact);
- disclosures due in the year and late (unpublished past the due day or published after it);
- public feedback due in the year (due_on in it): answered on time = answered on or before the due
  day (Beijing) ÷ those already judged (answered, or unanswered with the due day before today: an
  unanswered item due today or later is neither on time nor late); overdue now = due in the year,
  unanswered, due day before today
  (portal/feedback/stats.py, docs/DOMAIN.md §9 "Public feedback").

Rates are ``Fraction`` (None when there is nothing to divide)."""
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from sqlalchemy import func, select

from portal.billing.budget import budget_view
from portal.billing.models import Statement
from portal.contracts.models import Contract
from portal.core.timeutil import local_midnight_utc, local_today
from portal.disclosures import Disclosure, is_late
from portal.extensions import db
from portal.feedback.stats import due_in_year
from portal.scorecards.models import Scorecard
from portal.spotchecks.models import SpotCheck
from portal.tenancy.models import Tenant
from portal.tenancy.scope import tenant_scope
from portal.tenders.models import Award, Tender
from portal.visits.models import Visit

YEAR_LOW, YEAR_HIGH = 2000, 2099


def rate(part, whole):
    return Fraction(part, whole) if whole else None


@dataclass
class ContractRow:
    """One contract of a district's drill-down: no person's name, only the contract's figures."""
    number: str
    title: str
    contractor: str
    status: str
    contracted_fen: int
    settled_fen: int
    paid_fen: int
    visits: int = 0
    verified: int = 0


@dataclass
class District:
    tenant: Tenant
    year: int
    tenders_published: int = 0
    awards: int = 0
    contracts_signed: int = 0
    contracts_signed_late: int = 0
    contracts: int = 0
    contracted_fen: int = 0
    budget_fen: int = 0
    budget_paid_fen: int = 0
    settled_fen: int = 0
    paid_fen: int = 0
    visits: int = 0
    visits_verified: int = 0
    visits_exception: int = 0
    spot_checks: int = 0
    spot_checks_confirmed: int = 0
    scorecards: int = 0
    score_centi_total: int = 0
    disclosures_late: int = 0
    feedback_due: int = 0
    feedback_counted: int = 0
    feedback_on_time: int = 0
    feedback_overdue: int = 0
    rows: list = field(default_factory=list)

    @property
    def exception_rate(self):
        return rate(self.visits_exception, self.visits)

    @property
    def verified_rate(self):
        return rate(self.visits_verified, self.visits)

    @property
    def confirmation_rate(self):
        return rate(self.spot_checks_confirmed, self.spot_checks)

    @property
    def budget_execution(self):
        return rate(self.budget_paid_fen, self.budget_fen)

    @property
    def feedback_on_time_rate(self):
        return rate(self.feedback_on_time, self.feedback_counted)

    @property
    def average_score(self):
        """The average of the year's quarterly scores, in points (a Fraction), None without any."""
        return rate(self.score_centi_total, self.scorecards * 100)


def granted_tenants(user):
    """The districts ``user`` is granted (active ones), by code: a district not granted never appears."""
    ids = user.tenant_ids()
    if not ids:
        return []
    return list(db.session.execute(select(Tenant).where(Tenant.id.in_(ids), Tenant.active.is_(True))
                                   .order_by(Tenant.code)).scalars())


def _count(stmt):
    return int(db.session.execute(stmt).scalar_one() or 0)


def _year_bounds(year):
    return local_midnight_utc(date(year, 1, 1)), local_midnight_utc(date(year + 1, 1, 1))


def district_figures(tenant, year, with_rows=False, today=None):
    """The figures of ``tenant`` for ``year``, computed as that tenant."""
    with tenant_scope(tenant.id):
        return _figures(District(tenant, year), with_rows, today or local_today())


def _figures(d, with_rows, today):
    year = d.year
    start, end = _year_bounds(year)
    first, last = date(year, 1, 1), date(year, 12, 31)
    count = select(func.count())
    d.tenders_published = _count(count.select_from(Tender).where(
        Tender.notice_published_at >= start, Tender.notice_published_at < end))
    d.awards = _count(count.select_from(Award).where(
        Award.confirmed_on.between(first, last), Award.cancelled_at.is_(None)))
    signed = count.select_from(Contract).where(Contract.signed_on.between(first, last))
    d.contracts_signed = _count(signed)
    d.contracts_signed_late = _count(signed.where(Contract.late_signing_reason != ""))
    lines = budget_view(year)
    items = [item for line in lines for item in line.contracts]
    d.contracts = len(items)
    d.budget_fen = sum(line.budget_fen for line in lines)
    d.contracted_fen = sum(item.contracted_fen for item in items)
    d.budget_paid_fen = sum(item.paid_fen for item in items)
    months = Statement.month.like(f"{year}-%")
    net = select(func.coalesce(func.sum(Statement.net_fen), 0)).where(months)
    d.settled_fen = _count(net.where(Statement.status.in_(("approved", "paid"))))
    d.paid_fen = _count(net.where(Statement.status == "paid"))
    visits = count.select_from(Visit).where(Visit.check_in_at >= start, Visit.check_in_at < end)
    d.visits = _count(visits)
    d.visits_verified = _count(visits.where(Visit.status == "verified"))
    d.visits_exception = _count(visits.where(Visit.status == "exception"))
    checks = count.select_from(SpotCheck).where(
        SpotCheck.completed_at >= start, SpotCheck.completed_at < end, SpotCheck.outcome.is_not(None))
    d.spot_checks = _count(checks)
    d.spot_checks_confirmed = _count(checks.where(SpotCheck.outcome == "confirmed"))
    quarters = Scorecard.quarter.like(f"{year}-Q%")
    d.scorecards = _count(count.select_from(Scorecard).where(quarters))
    d.score_centi_total = _count(select(func.coalesce(func.sum(Scorecard.score_centi), 0)).where(quarters))
    due = db.session.execute(select(Disclosure).where(Disclosure.due_on.between(first, last))).scalars()
    d.disclosures_late = sum(1 for disclosure in due if is_late(disclosure, today))
    d.feedback_due, d.feedback_counted, d.feedback_on_time, d.feedback_overdue = due_in_year(year, today)
    if with_rows:
        d.rows = _contract_rows(items, start, end)
    return d


def _contract_rows(items, start, end):
    ids = [item.contract.id for item in items]
    per = select(Visit.contract_id, func.count()).where(
        Visit.contract_id.in_(ids), Visit.check_in_at >= start, Visit.check_in_at < end).group_by(Visit.contract_id)
    recorded = dict(db.session.execute(per).all())
    verified = dict(db.session.execute(per.where(Visit.status == "verified")).all())
    return [ContractRow(item.contract.number, item.contract.title, item.contract.contractor.name,
                        item.contract.status_label, item.contracted_fen, item.settled_fen, item.paid_fen,
                        int(recorded.get(item.contract.id, 0)), int(verified.get(item.contract.id, 0)))
            for item in items]


def city_overview(user, year, today=None):
    """Every district granted to ``user``, its figures for ``year``."""
    return [district_figures(tenant, year, today=today) for tenant in granted_tenants(user)]
