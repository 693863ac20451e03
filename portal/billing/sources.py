"""Where the computed lines of a statement come from (docs/DOMAIN.md §8).

Paying lines, per service item, in this order:

* ``service``: payable units = min(verified units of the month, the item's monthly cap, the quota
  left after the contract's approved statements, what the contract total still allows), amount =
  units × unit price. A visit counts in the month of its check-in when it is "verified", has no V01
  finding (work of a worker on no roster is never paid, whatever its exception's status), no
  approved statement paid it already, and — when it carries a self-care assessment or a household
  economic survey — that assessment is "final" or that survey "signed_off"
  (lateness.awaiting_final_record: one made final or signed off after its month was approved is
  paid once, later, as late-verified work; a survey is one payable unit of its home visit). When
  fewer units are payable than verified, the earliest visits (check-in, then id) are paid and the
  rest are listed as unpaid in the line's details;
* ``service`` of an item whose unit visits do not pay (plans.UNIT_LINES): the station-month
  (staffing.py), whose units are the stations the contract staffed that month, within the same
  limits;
* ``late_verified``: visits of an earlier month verified after that month's statement was
  approved (docs/DOMAIN.md §8: a later correction is an adjustment line in a later month), with the
  same exclusions and the quota and contract total left after the service lines.

The contract total is the contract amount plus its amendments; what approved statements paid on
paying lines counts against it, and the line that hits it says so in its description.

Deduction lines come from the registered sources (visits not confirmed by spot checks,
assessments the bureau's re-check found in the wrong class, household surveys whose re-check found
another outcome, subcontracting violations, paid visits rejected since; then station staffing
shortfalls, staffing.py), then the balance an earlier statement could not cover
(``deduction_carried_forward``, see balances.py)."""
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from portal.assessments.models import Assessment, AssessmentRecheck
from portal.billing import balances, lateness
from portal.billing.models import FROZEN_STATUSES, PAYING_KINDS, Statement, StatementEntry, StatementLine
from portal.billing.plans import UNIT_LINES, LinePlan, deduction_source, limited_by_total
from portal.contracts.models import ServiceItem
from portal.extensions import db
from portal.spotchecks.models import SpotCheck
from portal.surveys.models import HouseholdSurvey, SurveyRecheck
from portal.violations.models import Violation
from portal.visits.models import Visit, VisitException

MAX_LISTED_UNPAID = 10_000  # unpaid visit ids kept in a line's details (the count is always exact)
NEVER_PAID_CODE = "V01"     # work of a worker on no roster (docs/DOMAIN.md §6–§7)
CLAWBACK = "clawback"       # entry role: a paid visit rejected since, deducted once


def paid_by_approved(role):
    """True for a visit an approved statement already paid (role "paid") or penalised."""
    return exists().where(StatementEntry.approved_visit_id == Visit.id, StatementEntry.role == role)


def not_confirmed_by_spot_check():
    """True for a visit a spot check did not confirm (the spot-check deduction's, never deducted
    again by another source)."""
    return exists().where(SpotCheck.visit_id == Visit.id, SpotCheck.outcome == "not_confirmed")


RECHECK_DISCREPANCY_KINDS = ("deduction_discrepancy", "deduction_survey_discrepancy")


def penalised_for_discrepancy():
    """True for a visit an approved statement penalised on a re-check discrepancy line (an
    assessment's or a household survey's)."""
    return exists().where(StatementEntry.approved_visit_id == Visit.id, StatementEntry.role == "penalty",
                          StatementEntry.line_id == StatementLine.id,
                          StatementLine.kind.in_(RECHECK_DISCREPANCY_KINDS))


def never_payable():
    """True for a visit with a V01 finding, whatever the exception's status."""
    return exists().where(VisitException.visit_id == Visit.id, VisitException.code == NEVER_PAID_CODE)


def _payable_visits(period, item_id=None):
    """Conditions on Visit for the month's verified visits not yet paid by an approved statement."""
    conditions = [Visit.tenant_id == period.tenant_id, Visit.contract_id == period.contract.id,
                  Visit.status == "verified", Visit.check_in_at >= period.start, Visit.check_in_at < period.end,
                  ~paid_by_approved("paid"), ~never_payable(), ~lateness.awaiting_final_record(Visit)]
    if item_id is not None:
        conditions.append(Visit.service_item_id == item_id)
    return conditions


def _late_visits(period, item_id=None):
    """Conditions on Visit for the contract's late-verified visits of months before ``period``
    (lateness.py: decided from the approved statements' entries) not yet paid by an approved
    statement and with no V01 finding."""
    conditions = [Visit.tenant_id == period.tenant_id, Visit.contract_id == period.contract.id,
                  Visit.check_in_at < period.start, *lateness.late_base(Visit), ~paid_by_approved("paid"),
                  ~never_payable()]
    if item_id is not None:
        conditions.append(Visit.service_item_id == item_id)
    return conditions


def units_approved(contract_id, exclude_statement_id):
    """{service item id: units paid by the contract's approved (or paid) statements}."""
    rows = db.session.execute(
        select(StatementLine.service_item_id, func.coalesce(func.sum(StatementLine.units), 0))
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(Statement.contract_id == contract_id, Statement.status.in_(FROZEN_STATUSES),
               Statement.id != (exclude_statement_id or -1), StatementLine.kind.in_(PAYING_KINDS))
        .group_by(StatementLine.service_item_id)).all()
    return {item_id: int(units) for item_id, units in rows}


def amount_approved(contract_id, exclude_statement_id):
    """What the contract's approved (or paid) statements paid on paying lines and positive
    adjustments, in fen (both count against the contract total)."""
    return int(db.session.execute(
        select(func.coalesce(func.sum(StatementLine.amount_fen), 0))
        .join(Statement, Statement.id == StatementLine.statement_id)
        .where(Statement.contract_id == contract_id, Statement.status.in_(FROZEN_STATUSES),
               Statement.id != (exclude_statement_id or -1),
               or_(StatementLine.kind.in_(PAYING_KINDS),
                   and_(StatementLine.kind == "adjustment", StatementLine.amount_fen > 0)))).scalar_one())


class _Limits:
    """The quota left per item and the contract total left, consumed line by line."""

    def __init__(self, period, items):
        contract = period.contract
        used = units_approved(contract.id, period.statement_id)
        self.quota_left = {item.id: max(item.quota - used.get(item.id, 0), 0) for item in items}
        self.total_fen = contract.total_fen
        self.room_fen = max(self.total_fen - amount_approved(contract.id, period.statement_id), 0)

    def payable(self, item, verified, monthly_cap=None):
        """(units payable, the limit that bound them or None) and the limits consumed."""
        limits = [("monthly_cap", monthly_cap), ("quota", self.quota_left[item.id])]
        if item.unit_price_fen > 0:
            limits.append(("contract_total", self.room_fen // item.unit_price_fen))
        payable, limited_by = verified, None
        for name, limit in limits:
            if limit is not None and limit < payable:
                payable, limited_by = limit, name
        self.quota_left[item.id] -= payable
        self.room_fen -= payable * item.unit_price_fen
        return payable, limited_by


def _paying_line(kind, item, description, ids, payable, limited_by, limits, quota_left, **extra):
    """The line of ``item`` over ``ids``, its payable visits in order (check-in, then id): the
    first ``payable`` are paid, those over the monthly cap or the quota are "capped"."""
    verified = len(ids)
    details = {"code": item.code, "unit": item.unit, "quota": item.quota, "paid_units": payable}
    if limited_by == "contract_total":
        description = limited_by_total(description, details, limits.total_fen)
    capped = []
    if payable < verified:
        details.update(limited_by=limited_by, unpaid_count=verified - payable,
                       unpaid_visit_ids=ids[payable:payable + MAX_LISTED_UNPAID])
        # over the monthly cap or the quota: recorded as "capped", never late-verified payable work
        within = min(limit for limit in (verified, extra.get("monthly_cap"), quota_left) if limit is not None)
        if within < verified:
            capped = ids[within:]
            details["capped_count"] = verified - within
    return LinePlan(kind=kind, description=description, units=payable, unit_price_fen=item.unit_price_fen,
                    amount_fen=payable * item.unit_price_fen, service_item_id=item.id, verified_units=verified,
                    quota_left=quota_left, details=details, selected_ids={"visits": ids[:payable], "capped": capped},
                    **extra)


def paying_lines(period):
    """A ``service`` line per service item, then a ``late_verified`` line per item that has late
    visits (see the module docstring). The month's payable visits are read once, in order, for
    every item (Core rows: a month can hold 100,000; the select carries its tenant filter)."""
    contract = period.contract
    items = db.session.execute(select(ServiceItem).where(ServiceItem.contract_id == contract.id)
                               .order_by(ServiceItem.id)).scalars().all()
    limits = _Limits(period, items)
    payable_ids = {}
    for item_id, visit_id in db.session.connection().execute(
            select(Visit.service_item_id, Visit.id).where(*_payable_visits(period))
            .order_by(Visit.service_item_id, Visit.check_in_at, Visit.id)):
        payable_ids.setdefault(item_id, []).append(visit_id)
    lines = []
    for item in items:
        if item.unit in UNIT_LINES:  # not paid by visits: a station-month (staffing.py)
            lines.append(UNIT_LINES[item.unit](period, item, limits))
            continue
        ids = payable_ids.get(item.id, [])
        quota_left = limits.quota_left[item.id]
        payable, limited_by = limits.payable(item, len(ids), item.monthly_cap)
        lines.append(_paying_line("service", item, f"{item.code} {item.name}", ids, payable, limited_by, limits,
                                  quota_left, monthly_cap=item.monthly_cap))
    late = db.session.execute(
        select(Visit.id, Visit.service_item_id, lateness.local_month(Visit.check_in_at)).where(*_late_visits(period))
        .order_by(Visit.check_in_at, Visit.id)).all()
    if not late:
        return lines
    by_item = {}
    for visit_id, item_id, month in late:
        by_item.setdefault(item_id, {}).setdefault(month, []).append(visit_id)
    paid_in_month = _paid_per_month(contract.id, {month for _id, _item, month in late})
    for item in items:
        if item.id in by_item:
            lines.append(_late_line(item, by_item[item.id], paid_in_month, limits))
    return lines


def _paid_per_month(contract_id, wanted):
    """{(service item id, "YYYY-MM"): visits of the month paid by approved statements}."""
    month = lateness.local_month(Visit.check_in_at)
    rows = db.session.execute(
        select(Visit.service_item_id, month, func.count())
        .where(Visit.contract_id == contract_id, month.in_(sorted(wanted)), paid_by_approved("paid"))
        .group_by(Visit.service_item_id, month)).all()
    return {(item_id, text): int(count) for item_id, text, count in rows}


def _late_line(item, months, paid_in_month, limits):
    """The ``late_verified`` line of one item: per source month, at most what the month's cap
    leaves after what approved statements paid of that month, then the quota and the contract
    total. Visits over a month's cap or the quota are recorded as "capped" (never paid); visits
    held back by the contract total stay late."""
    allowed, over_cap = [], []
    for month in sorted(months):
        ids = months[month]
        room = len(ids)
        if item.monthly_cap is not None:
            room = min(room, max(item.monthly_cap - paid_in_month.get((item.id, month), 0), 0))
        allowed.extend(ids[:room])
        over_cap.extend(ids[room:])
    verified = len(allowed) + len(over_cap)
    quota_left = limits.quota_left[item.id]
    payable, limited_by = limits.payable(item, len(allowed))
    within_quota = min(len(allowed), quota_left)
    capped = over_cap + allowed[within_quota:]
    if limited_by is None and over_cap:
        limited_by = "monthly_cap"
    description = _("Visits verified after their month was approved: %(item)s", item=f"{item.code} {item.name}")
    details = {"code": item.code, "unit": item.unit, "quota": item.quota, "paid_units": payable}
    if limited_by == "contract_total":
        description = limited_by_total(description, details, limits.total_fen)
    if payable < verified:
        unpaid = (allowed[payable:] + over_cap)[:MAX_LISTED_UNPAID]
        details.update(limited_by=limited_by, unpaid_count=verified - payable, unpaid_visit_ids=unpaid,
                       capped_count=len(capped))
    entries = [("paid", visit_id, None) for visit_id in allowed[:payable]]
    entries += [(lateness.CAPPED, visit_id, None) for visit_id in capped]
    return LinePlan(kind="late_verified", description=description, units=payable, unit_price_fen=item.unit_price_fen,
                    amount_fen=payable * item.unit_price_fen, service_item_id=item.id, verified_units=verified,
                    quota_left=quota_left, details=details, entries=entries)


@deduction_source
def spot_check_deductions(period):
    """Each visit of the contract that a spot check did not confirm, checked in up to the end of
    the month and not yet penalised by an approved statement: its unit price × the contract's
    penalty multiplier. One line per unit price (service item)."""
    contract = period.contract
    rows = db.session.execute(
        select(Visit.id, Visit.service_item_id, ServiceItem.code, ServiceItem.name, ServiceItem.unit_price_fen)
        .join(ServiceItem, ServiceItem.id == Visit.service_item_id)
        .where(Visit.tenant_id == period.tenant_id, Visit.contract_id == contract.id, Visit.check_in_at < period.end,
               ~paid_by_approved("penalty"),  # driven by the few visits spot checks did not confirm
               Visit.id.in_(select(SpotCheck.visit_id).where(SpotCheck.outcome == "not_confirmed")))
        .order_by(Visit.service_item_id, Visit.check_in_at, Visit.id)).all()
    multiplier = contract.spot_check_penalty_multiplier or 1
    by_item = {}
    for visit_id, item_id, code, name, price in rows:
        by_item.setdefault(item_id, (code, name, price, []))[3].append(visit_id)
    lines = []
    for item_id, (code, name, price, visit_ids) in by_item.items():
        units = len(visit_ids)
        lines.append(LinePlan(
            kind="deduction_spot_check",
            description=_("Visits not confirmed by spot checks: %(item)s", item=f"{code} {name}"),
            units=units, unit_price_fen=price, multiplier=multiplier, amount_fen=units * price * multiplier,
            service_item_id=item_id, details={"visit_ids": visit_ids},
            entries=[("penalty", visit_id, None) for visit_id in visit_ids]))
    return lines


def _recheck_penalties(period, record, recheck, recheck_record_id, kind, description, ids_key):
    """The penalty lines for the contract's visits whose ``record`` (an assessment, a survey) the
    bureau's ``recheck`` found wrong (``discrepancy``), re-checked up to the end of the month and
    not yet penalised by an approved statement: unit price × the contract's penalty multiplier (the
    spot checks' one), entry role "penalty" like spot checks, so a visit is penalised once. A visit
    a spot check did not confirm is left to the spot-check deduction, never deducted twice. One
    line per service item; ``description`` words it with the item."""
    contract = period.contract
    rows = db.session.execute(
        select(Visit.id, Visit.service_item_id, ServiceItem.code, ServiceItem.name, ServiceItem.unit_price_fen,
               record.id)
        .join(record, record.visit_id == Visit.id)
        .join(recheck, recheck_record_id == record.id)
        .join(ServiceItem, ServiceItem.id == Visit.service_item_id)
        .where(Visit.tenant_id == period.tenant_id, Visit.contract_id == contract.id,
               record.tenant_id == period.tenant_id, recheck.discrepancy.is_(True),
               recheck.rechecked_at.is_not(None), recheck.rechecked_at < period.end,
               ~paid_by_approved("penalty"),
               ~not_confirmed_by_spot_check())
        .order_by(Visit.service_item_id, Visit.check_in_at, Visit.id)).all()
    multiplier = contract.spot_check_penalty_multiplier or 1
    by_item = {}
    for visit_id, item_id, code, name, price, record_id in rows:
        found = by_item.setdefault(item_id, (code, name, price, [], []))
        found[3].append(visit_id)
        found[4].append(record_id)
    return [LinePlan(kind=kind, description=description(f"{code} {name}"),
                     units=len(visit_ids), unit_price_fen=price, multiplier=multiplier,
                     amount_fen=len(visit_ids) * price * multiplier, service_item_id=item_id,
                     details={"visit_ids": visit_ids, ids_key: record_ids},
                     entries=[("penalty", visit_id, None) for visit_id in visit_ids])
            for item_id, (code, name, price, visit_ids, record_ids) in by_item.items()]


@deduction_source
def discrepancy_deductions(period):
    """Each visit of the contract whose assessment the bureau's re-check put in another class
    (docs/DOMAIN.md §6, §8): its unit price × the contract's penalty multiplier, once, never
    together with a spot-check deduction of that visit (see _recheck_penalties)."""
    return _recheck_penalties(
        period, Assessment, AssessmentRecheck, AssessmentRecheck.assessment_id, "deduction_discrepancy",
        lambda item: _("Assessments found in another class on re-check: %(item)s", item=item), "assessment_ids")


@deduction_source
def survey_discrepancy_deductions(period):
    """Each visit of the contract whose household survey the bureau's re-check by home visit found
    with another outcome (docs/DOMAIN.md §6, §8: surveys found wrong on re-check are deducted like
    spot checks): its unit price × the contract's penalty multiplier, once, never together with a
    spot-check deduction of that visit (see _recheck_penalties)."""
    return _recheck_penalties(
        period, HouseholdSurvey, SurveyRecheck, SurveyRecheck.survey_id, "deduction_survey_discrepancy",
        lambda item: _("Household surveys found with another outcome on re-check: %(item)s", item=item),
        "survey_ids")


@deduction_source
def violation_deductions(period):
    """Each subcontracting violation of the contract that occurred by the end of the month, is not
    dismissed and was not deducted by an approved statement: the contract's fixed penalty."""
    contract = period.contract
    rows = db.session.execute(
        select(Violation.id, Violation.kind, Violation.occurred_on)
        .where(Violation.tenant_id == period.tenant_id, Violation.contract_id == contract.id,
               Violation.status != "dismissed", Violation.occurred_on <= period.last_day,
               ~exists().where(StatementEntry.approved_violation_id == Violation.id))
        .order_by(Violation.occurred_on, Violation.id)).all()
    if not rows:
        return []
    penalty = contract.violation_penalty_fen or 0
    return [LinePlan(
        kind="deduction_violation", description=_("Subcontracting violations"), units=len(rows),
        unit_price_fen=penalty, amount_fen=len(rows) * penalty,
        details={"violations": [{"id": vid, "kind": kind, "occurred_on": on.isoformat()} for vid, kind, on in rows]},
        entries=[("penalty", None, vid) for vid, _kind, _on in rows])]


@deduction_source
def clawback_deductions(period):
    """Each visit of the contract an approved statement paid that is now rejected, checked in up to
    the end of the month and not clawed back by an approved statement yet: its unit price, once
    (entry role "clawback"). A visit rejected by a spot check is left to the spot-check deduction
    (price × multiplier), never deducted twice — unless an approved statement already penalised it
    for an assessment's or a survey's re-check discrepancy, which takes the visit's one penalty:
    then its price is clawed back here, so a paid visit found not to have happened is never kept. One line per service item."""
    rejected = aliased(Visit)  # driven by the contract's few rejected visits, not all its visits
    rows = db.session.execute(
        select(Visit.id, Visit.service_item_id, ServiceItem.code, ServiceItem.name, ServiceItem.unit_price_fen)
        .join(ServiceItem, ServiceItem.id == Visit.service_item_id)
        .where(Visit.tenant_id == period.tenant_id, Visit.contract_id == period.contract.id,
               Visit.id.in_(select(rejected.id).where(rejected.status == "rejected",
                                                      rejected.contract_id == period.contract.id)),
               Visit.status == "rejected", Visit.check_in_at < period.end, paid_by_approved("paid"),
               ~paid_by_approved(CLAWBACK),
               or_(~not_confirmed_by_spot_check(),
                   penalised_for_discrepancy()))
        .order_by(Visit.service_item_id, Visit.check_in_at, Visit.id)).all()
    by_item = {}
    for visit_id, item_id, code, name, price in rows:
        by_item.setdefault(item_id, (code, name, price, []))[3].append(visit_id)
    return [LinePlan(kind="deduction_clawback",
                     description=_("Paid visits rejected since: %(item)s", item=f"{code} {name}"),
                     units=len(visit_ids), unit_price_fen=price, amount_fen=len(visit_ids) * price,
                     service_item_id=item_id, details={"visit_ids": visit_ids},
                     entries=[(CLAWBACK, visit_id, None) for visit_id in visit_ids])
            for item_id, (code, name, price, visit_ids) in by_item.items()]


def carried_forward_lines(period):
    """The balance earlier approved statements of the contract could not cover, deducted here in
    full (what this statement cannot cover in turn is carried out again)."""
    owed, sources = balances.owed_before(period.contract.id, period.month, period.statement_id)
    if owed <= 0:
        return []
    months = "、".join(source["month"] for source in sources)
    return [LinePlan(kind="deduction_carried_forward",
                     description=_("Deductions carried forward from earlier statements (%(months)s)", months=months),
                     units=1, unit_price_fen=owed, amount_fen=owed,
                     details={"owed_fen": owed, "from_statements": sources})]
