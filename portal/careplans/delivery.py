"""Planned against delivered, per person and month (docs/DOMAIN.md §6 "Care plans"): the plan in
force for the month, the verified visits of the person under the plan's contract that month, and
who was missed.

- The plan in force for a month is the approved version (or one superseded since: it governed its
  own months) with the latest ``effective_from`` on or before the month's first day.
- A service is delivered once per verified visit whose ``services`` carry its code, checked in
  within the month (Beijing time). What one service over-delivers never makes up for another:
  ``delivered`` = Σ min(delivered, planned) over the plan's services, so ``delivered < planned``
  exactly when some service fell short.
- A visit in person (探视巡访) is a verified visit at the home: one the geofence rule (V02) found
  nothing against — a verified escort that checked in at the hospital is a service, not a visit at
  home.
- A person-month counts only while the plan's contract runs (its dates overlap the month) and the
  person is assigned to that contract during the month: after the contract ends or the person
  leaves it, the plan governs nothing more (plans_in_force still tells which version it was).
- A person is missed when a service fell short or the visits in person are fewer than the plan's
  ``in_person_per_month`` (at least one) — unless the registry shows them away during the month
  (hospitalised, moved or deceased at its start or from a day within it, ``away``): nobody can be
  visited at home then, and the month is not counted against the contractor. For the current month the figures are those so far:
  the contractor sees who is behind while there is time.

Only verified visits count: pending, exception and rejected ones do not (yet)."""
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import exists, or_, select

from portal.beneficiaries.models import BeneficiaryStatus
from portal.careplans.models import CarePlan
from portal.contracts.models import Assignment, Contract
from portal.core.months import first_day, last_day, month_bounds
from portal.extensions import db
from portal.visits.models import Visit, VisitException

IN_FORCE_STATUSES = ("approved", "superseded")
AT_HOME_RULE = "V02"
ACTIVE = "active"


@dataclass
class PlanMonth:
    """One person's month against the plan in force."""
    plan: CarePlan
    month: object                       # the month's first day
    by_service: dict = field(default_factory=dict)  # {code: (planned, delivered)}
    in_person: int = 0
    away: str | None = None             # the registry's status that excuses the month, or None

    @property
    def beneficiary_id(self):
        return self.plan.beneficiary_id

    @property
    def care_class(self):
        return self.plan.care_class

    @property
    def planned(self):
        return sum(planned for planned, _delivered in self.by_service.values())

    @property
    def delivered(self):
        return sum(min(planned, delivered) for planned, delivered in self.by_service.values())

    @property
    def short_services(self):
        """{code: times still missing} of the services that fell short."""
        return {code: planned - delivered for code, (planned, delivered) in self.by_service.items()
                if delivered < planned}

    @property
    def in_person_short(self):
        return self.in_person < self.plan.in_person_per_month

    @property
    def missed(self):
        return self.away is None and (bool(self.short_services) or self.in_person_short)


def plans_in_force(month, *, contract_id=None, contractor_id=None, beneficiary_ids=None):
    """{beneficiary id: the plan in force in ``month``} (see the module docstring), narrowed to a
    contract, a contractor or some people."""
    start = first_day(month)
    query = select(CarePlan).where(CarePlan.status.in_(IN_FORCE_STATUSES), CarePlan.effective_from <= start)
    if beneficiary_ids is not None:
        query = query.where(CarePlan.beneficiary_id.in_(list(beneficiary_ids)))
    if contract_id is not None or contractor_id is not None:
        # the people with a plan under that contract (contractor); which plan is in force is
        # decided among all their versions, so a person since planned for under another
        # contract is not the old contract's any more
        narrowed = select(CarePlan.beneficiary_id).where(CarePlan.status.in_(IN_FORCE_STATUSES))
        if contract_id is not None:
            narrowed = narrowed.where(CarePlan.contract_id == contract_id)
        if contractor_id is not None:
            narrowed = narrowed.where(CarePlan.contractor_id == contractor_id)
        query = query.where(CarePlan.beneficiary_id.in_(narrowed))
    found = {}
    for plan in db.session.scalars(query.order_by(CarePlan.effective_from, CarePlan.version)):
        found[plan.beneficiary_id] = plan  # later versions win
    return {beneficiary_id: plan for beneficiary_id, plan in found.items()
            if (contract_id is None or plan.contract_id == contract_id)
            and (contractor_id is None or plan.contractor_id == contractor_id)}


def month_of_plans(month, *, contract_id=None, contractor_id=None, beneficiary_ids=None):
    """A PlanMonth per person with a plan in force in ``month``, by beneficiary id."""
    plans = _served(plans_in_force(month, contract_id=contract_id, contractor_id=contractor_id,
                                   beneficiary_ids=beneficiary_ids), month)
    if not plans:
        return []
    start, end = month_bounds(month)
    at_home = ~exists().where(VisitException.visit_id == Visit.id, VisitException.code == AT_HOME_RULE)
    delivered, in_person = Counter(), Counter()
    contracts = {plan.contract_id for plan in plans.values()}
    for beneficiary_id, contract_id_, services, home in db.session.execute(
            select(Visit.beneficiary_id, Visit.contract_id, Visit.services, at_home)
            .where(Visit.status == "verified", Visit.contract_id.in_(contracts),
                   Visit.beneficiary_id.in_(list(plans)), Visit.check_in_at >= start, Visit.check_in_at < end)):
        if plans[beneficiary_id].contract_id != contract_id_:
            continue
        for code in set(services or ()):
            delivered[(beneficiary_id, code)] += 1
        if home:
            in_person[beneficiary_id] += 1
    away = _away(plans, month)
    rows = []
    for beneficiary_id in sorted(plans):
        plan = plans[beneficiary_id]
        by_service = {code: (int(times), delivered[(beneficiary_id, code)])
                      for code, times in sorted((plan.services or {}).items()) if int(times) > 0}
        rows.append(PlanMonth(plan, first_day(month), by_service, in_person[beneficiary_id],
                              away.get(beneficiary_id)))
    return rows


def _served(plans, month):
    """The plans of ``plans`` whose contract runs in ``month`` and whose person is assigned to that
    contract at some time in it."""
    if not plans:
        return plans
    start, end = first_day(month), last_day(month)
    running = set(db.session.scalars(select(Contract.id).where(
        Contract.id.in_({plan.contract_id for plan in plans.values()}),
        Contract.starts_on <= end, Contract.ends_on >= start)))
    assigned = set(db.session.execute(
        select(Assignment.contract_id, Assignment.beneficiary_id)
        .where(Assignment.contract_id.in_(running), Assignment.beneficiary_id.in_(list(plans)),
               Assignment.from_on <= end, or_(Assignment.until_on.is_(None), Assignment.until_on >= start))).all())
    return {beneficiary_id: plan for beneficiary_id, plan in plans.items()
            if (plan.contract_id, beneficiary_id) in assigned}


def _away(plans, month):
    """{beneficiary id: the first status other than active in force during ``month``} — the status
    at the month's start, then each change within it (BeneficiaryStatus rows, in date order)."""
    start, end = first_day(month), last_day(month)
    in_force, away = {}, {}
    for beneficiary_id, status, effective_on in db.session.execute(
            select(BeneficiaryStatus.beneficiary_id, BeneficiaryStatus.status, BeneficiaryStatus.effective_on)
            .where(BeneficiaryStatus.beneficiary_id.in_(list(plans)), BeneficiaryStatus.effective_on <= end)
            .order_by(BeneficiaryStatus.effective_on, BeneficiaryStatus.id)):
        if effective_on <= start:
            in_force[beneficiary_id] = status
        elif status != ACTIVE:
            away.setdefault(beneficiary_id, status)
    for beneficiary_id, status in in_force.items():
        if status != ACTIVE:
            away[beneficiary_id] = status
    return away


def missed(month, **narrow):
    """The PlanMonths of ``month`` whose person was missed (see the module docstring)."""
    return [row for row in month_of_plans(month, **narrow) if row.missed]
