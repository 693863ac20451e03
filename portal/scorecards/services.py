"""The quarterly scorecard (季度考核, docs/DOMAIN.md §7) of one contract, 0–100, explained component by
component. Every figure is exact (``Fraction``); the score is rounded half-up to hundredths once.

Components (each a rate between 0 and 1), over the quarter's days in Beijing time:

- completion: Σ per service item min(delivered, expected) / Σ expected, where delivered is the
  item's verified visits checked in during the quarter and expected = quota × (days of the
  contract period inside the quarter) / (days of the whole contract period). Capping each item
  at its expected share stops over-delivery of one item from hiding a shortfall of another.
  Not applicable when nothing is expected (no quota, or the period misses the quarter).
- verification: verified / (verified + exception + rejected) among the contract's visits checked
  in during the quarter (pending visits are not judged yet). Not applicable without such visits.
- confirmation: confirmed / (confirmed + not confirmed) among the spot checks of the quarter's
  three monthly samples; unreachable checks are left out. Not applicable without such checks.
- satisfaction: the average satisfaction / 5 (Σ satisfaction / (5 × answers)). Not applicable
  without answers.
- violations: 100 % without violations, minus VIOLATION_STEP points per violation of the contract
  found in the quarter and not dismissed, never below 0. Always applicable.
- recheck: 1 − discrepancies / re-checks among the bureau's re-checks of the contract's
  assessments done during the quarter (portal/assessments/stats.py: a re-check that found another
  class than the assessor's is a discrepancy, docs/DOMAIN.md §6). Not applicable without a
  re-check done in the quarter.
- care_plans: person-months delivered in full / person-months with a care plan in force, over the
  quarter's three months (portal/careplans/delivery.py month_of_plans for the contract: a month is
  delivered in full when the person was not missed — no service short of the plan, enough visits
  in person). Not applicable when no plan was in force in the quarter.
- complaints: scored like violations: 100 % without upheld complaints, minus COMPLAINT_STEP points
  per public complaint about the contract's contractor (FeedbackItem.contractor_id) upheld in the
  quarter, never below 0. A finding counts in the quarter it is made (answered_at, Beijing days),
  whenever the complaint was received (portal/feedback/stats.py, docs/DOMAIN.md §9 "Public
  feedback"). Applicable when at least one complaint about the contractor got a finding (upheld
  or not upheld) in the quarter; not applicable otherwise. The contractor's complaints count for
  each of its contracts in delivery.

Weights come from the tenant setting ``scorecard_weights``. The weight of a component that is not
applicable is shared out over the applicable ones in proportion to their weights: points =
rate × weight × 100 / (sum of the applicable weights)."""
import re
from datetime import date, timedelta
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.assessments.stats import discrepancy_counts
from portal.careplans.scoring import quarter_rate
from portal.contracts.models import Contract
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import local_midnight_utc, local_today, utcnow
from portal.disclosures import publish as publish_disclosure
from portal.extensions import db
from portal.feedback.stats import complaint_counts
from portal.i18n import record_locale
from portal.scorecards.models import Scorecard
from portal.spotchecks.models import SpotCheck, SpotCheckSample
from portal.tenancy.settings import int_parts_setting
from portal.violations.models import Violation
from portal.visits.models import Visit

COMPONENTS = ("completion", "verification", "confirmation", "satisfaction", "violations", "recheck", "care_plans",
              "complaints")
LABELS = {"completion": _l("Completion against quota"), "verification": _l("Verification pass rate"),
          "confirmation": _l("Spot-check confirmation rate"), "satisfaction": _l("Average satisfaction"),
          "violations": _l("Violations"), "recheck": _l("Assessment re-check discrepancy"),
          "care_plans": _l("Care plans delivered in full"),
          "complaints": _l("Upheld public complaints")}
VIOLATION_STEP = 20  # points (of 100) lost per violation that is not dismissed
COMPLAINT_STEP = 20  # points (of 100) lost per public complaint upheld
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")


# --- quarters ----------------------------------------------------------------------------------

def parse_quarter(text):
    """'YYYY-Qn' -> (first day, last day); DomainError (field ``quarter``) otherwise."""
    match = QUARTER_RE.match((text or "").strip().upper())
    if not match or not 2000 <= int(match.group(1)) <= 2999:
        message = _("Give the quarter as YYYY-Qn, for example 2026-Q3.")
        raise DomainError(message, {"quarter": [message]})
    year, number = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * number - 2, 1)
    end = (date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)) - timedelta(days=1)
    return start, end


def quarter_of(day):
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def previous_quarter(today):
    return quarter_of(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1) - timedelta(days=1))


def first_allowed_day(quarter):
    """The first day a quarter's scorecard may be computed: the day after the quarter ends."""
    return parse_quarter(quarter)[1] + timedelta(days=1)


def refuse_open_quarter(quarter, now=None):
    """A quarter is scored only once it has ended (Beijing time): a scorecard computed earlier
    would miss the rest of the quarter's work and be frozen once published (DomainError naming
    the first allowed date)."""
    allowed = first_allowed_day(quarter)
    if local_today(now or utcnow()) < allowed:
        message = _("The quarter %(quarter)s has not ended: its scorecard can be computed from %(day)s on.",
                    quarter=quarter.strip().upper(), day=allowed.isoformat())
        raise DomainError(message, {"quarter": [message]})


def ended_quarters(today, count=6):
    """The ``count`` latest quarters that have ended, newest first (what may be scored)."""
    return recent_quarters(parse_quarter(quarter_of(today))[0] - timedelta(days=1), count)


def recent_quarters(today, count=6):
    quarters, day = [], today
    for _i in range(count):
        quarters.append(quarter_of(day))
        day = parse_quarter(quarter_of(day))[0] - timedelta(days=1)
    return quarters


# --- exact arithmetic --------------------------------------------------------------------------------

def half_up(value):
    """A non-negative Fraction rounded half-up to an integer."""
    return int(value + Fraction(1, 2))


def centi_text(centi):
    return f"{centi // 100}.{centi % 100:02d}"


def percent_text(rate):
    """A rate (Fraction) as a percentage with two decimals, rounded half-up: 7/8 -> '87.50'."""
    return centi_text(half_up(rate * 10000))


def fraction_text(value):
    return f"{value.numerator}/{value.denominator}"


def weights_of(tenant):
    """The tenant's ``scorecard_weights`` as non-negative integers (a bad value: the default)."""
    return int_parts_setting(tenant, "scorecard_weights")


# --- the components ------------------------------------------------------------------------------

def _component(key, rate, raw, note=""):
    return {"key": key, "applicable": rate is not None, "rate": rate, "raw": raw, "note": note}


def _completion(contract, start, end):
    period_days = (contract.ends_on - contract.starts_on).days + 1
    overlap = (min(end, contract.ends_on) - max(start, contract.starts_on)).days + 1
    overlap = max(0, overlap)
    first, after = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
    delivered = dict(db.session.execute(
        select(Visit.service_item_id, func.count(Visit.id))
        .where(Visit.contract_id == contract.id, Visit.status == "verified", Visit.check_in_at >= first,
               Visit.check_in_at < after).group_by(Visit.service_item_id)).all())
    items, expected_total, credited_total = [], Fraction(0), Fraction(0)
    for item in contract.items:
        expected = Fraction(item.quota * overlap, period_days) if period_days > 0 else Fraction(0)
        done = int(delivered.get(item.id, 0))
        expected_total += expected
        credited_total += min(Fraction(done), expected)
        items.append({"code": item.code, "quota": item.quota, "delivered": done,
                      "expected": fraction_text(expected), "expected_text": centi_text(half_up(expected * 100))})
    raw = {"period_days": period_days, "days_in_quarter": overlap, "items": items,
           "credited": fraction_text(credited_total), "expected": fraction_text(expected_total)}
    rate = credited_total / expected_total if expected_total > 0 else None
    return _component("completion", rate, raw)


def _verification(contract, start, end):
    first, after = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
    counts = dict(db.session.execute(
        select(Visit.status, func.count(Visit.id))
        .where(Visit.contract_id == contract.id, Visit.check_in_at >= first, Visit.check_in_at < after)
        .group_by(Visit.status)).all())
    raw = {status: int(counts.get(status, 0)) for status in ("verified", "exception", "rejected", "pending")}
    judged = raw["verified"] + raw["exception"] + raw["rejected"]
    return _component("verification", Fraction(raw["verified"], judged) if judged else None, raw)


def _checks_of_quarter(contract, start, end, *columns):
    """A select of ``columns`` over the checks of the quarter's monthly samples of ``contract``."""
    months = [f"{start.year}-{m:02d}" for m in range(start.month, end.month + 1)]
    return (select(*columns).select_from(SpotCheck)
            .join(SpotCheckSample, SpotCheckSample.id == SpotCheck.sample_id)
            .where(SpotCheckSample.contract_id == contract.id, SpotCheckSample.month.in_(months)))


def _confirmation(contract, start, end):
    counts = dict(db.session.execute(
        _checks_of_quarter(contract, start, end, SpotCheck.outcome, func.count(SpotCheck.id))
        .group_by(SpotCheck.outcome)).all())
    raw = {"confirmed": int(counts.get("confirmed", 0)), "not_confirmed": int(counts.get("not_confirmed", 0)),
           "unreachable": int(counts.get("unreachable", 0)), "open": int(counts.get(None, 0))}
    decided = raw["confirmed"] + raw["not_confirmed"]
    return _component("confirmation", Fraction(raw["confirmed"], decided) if decided else None, raw)


def _satisfaction(contract, start, end):
    answers, total = db.session.execute(
        _checks_of_quarter(contract, start, end, func.count(SpotCheck.id),
                           func.coalesce(func.sum(SpotCheck.satisfaction), 0))
        .where(SpotCheck.satisfaction.is_not(None))).one()
    answers, total = int(answers), int(total)
    raw = {"answers": answers, "sum": total,
           "average": centi_text(half_up(Fraction(total * 100, answers))) if answers else None}
    return _component("satisfaction", Fraction(total, 5 * answers) if answers else None, raw)


def _violations(contract, start, end):
    count = db.session.execute(select(func.count(Violation.id)).where(
        Violation.contract_id == contract.id, Violation.occurred_on >= start, Violation.occurred_on <= end,
        Violation.status != "dismissed")).scalar_one()
    points = max(0, 100 - VIOLATION_STEP * count)
    return _component("violations", Fraction(points, 100), {"counted": count, "step": VIOLATION_STEP})


def _recheck(contract, start, end):
    first, after = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
    rechecked, discrepancies = discrepancy_counts(contract.id, first, after)
    raw = {"rechecked": rechecked, "discrepancies": discrepancies}
    if not rechecked:
        return _component("recheck", None, raw, note="no_rechecks")
    return _component("recheck", 1 - Fraction(discrepancies, rechecked), raw)


def _care_plans(contract, start, end):
    rate, raw = quarter_rate(contract.id, start, end)
    return _component("care_plans", rate, raw)


def _complaints(contract, start, end):
    first, after = local_midnight_utc(start), local_midnight_utc(end + timedelta(days=1))
    found, upheld = complaint_counts(contract.contractor_id, first, after)
    raw = {"found": found, "upheld": upheld, "step": COMPLAINT_STEP}
    return _component("complaints", Fraction(max(0, 100 - COMPLAINT_STEP * upheld), 100) if found else None, raw)


def compute_components(contract, start, end, weights):
    """The components of ``contract`` over [start, end] with their exact rates and points, and the
    score in hundredths: (score_centi, [component dicts ready to store as JSON])."""
    parts = [builder(contract, start, end) for builder in
             (_completion, _verification, _confirmation, _satisfaction, _violations, _recheck, _care_plans,
                                            _complaints)]
    applicable_weight = sum(weights[p["key"]] for p in parts if p["applicable"])
    total = Fraction(0)
    stored = []
    for part in parts:
        weight = weights[part["key"]]
        entry = {"key": part["key"], "applicable": part["applicable"], "raw": part["raw"], "note": part["note"],
                 "weight": weight, "rate": None, "rate_percent": None, "effective_weight": None,
                 "effective_weight_text": None, "points": None, "points_text": None}
        if part["applicable"] and applicable_weight > 0:
            effective = Fraction(weight * 100, applicable_weight)
            points = part["rate"] * effective
            total += points
            entry.update(rate=fraction_text(part["rate"]), rate_percent=percent_text(part["rate"]),
                         effective_weight=fraction_text(effective),
                         effective_weight_text=centi_text(half_up(effective * 100)),
                         points=fraction_text(points), points_text=centi_text(half_up(points * 100)))
        elif part["applicable"]:
            entry.update(rate=fraction_text(part["rate"]), rate_percent=percent_text(part["rate"]))
        stored.append(entry)
    return half_up(total * 100), stored


# --- scorecards ------------------------------------------------------------------------------------

def find(contract_id, quarter):
    return db.session.scalars(select(Scorecard).where(Scorecard.contract_id == contract_id,
                                                      Scorecard.quarter == quarter)).first()


def get_scorecard(scorecard_id):
    found = db.session.get(Scorecard, scorecard_id) if query.is_id(scorecard_id) else None
    if found is None:
        raise NotFound(_("No such scorecard."))
    return found


def scored_contracts(start, end):
    """Contracts in delivery at some time of [start, end] (not drafts, not merely signed)."""
    return db.session.scalars(select(Contract).where(
        Contract.in_delivery, Contract.starts_on <= end, Contract.ends_on >= start)
        .order_by(Contract.number)).all()


def compute(contract, quarter, *, tenant, now=None, replace=True):
    """Compute ``contract``'s scorecard for ``quarter``. An unpublished scorecard is replaced (or
    kept when ``replace`` is False); a published one never changes (Conflict). A quarter that has
    not ended is refused (``refuse_open_quarter``)."""
    start, end = parse_quarter(quarter)
    now = now or utcnow()
    refuse_open_quarter(quarter, now)
    existing = find(contract.id, quarter)
    if existing is not None and existing.published_at is not None:
        raise Conflict(_("A published scorecard is not changed."))
    if existing is not None and not replace:
        return existing
    weights = weights_of(tenant)
    score_centi, components = compute_components(contract, start, end, weights)
    scorecard = existing or Scorecard(contract_id=contract.id, quarter=quarter)
    scorecard.period_start, scorecard.period_end = start, end
    scorecard.score_centi, scorecard.components, scorecard.weights = score_centi, components, weights
    scorecard.computed_at = now
    if existing is None:
        db.session.add(scorecard)
    db.session.flush()
    return scorecard


def compute_quarter(quarter, *, tenant, now=None, replace=True):
    """Every scored contract's scorecard for ``quarter``; published ones are left as they are.
    Returns [(contract, scorecard or None, changed)]. A quarter that has not ended is refused."""
    start, end = parse_quarter(quarter)
    refuse_open_quarter(quarter, now or utcnow())
    results = []
    for contract in scored_contracts(start, end):
        existing = find(contract.id, quarter)
        if existing is not None and (existing.published_at is not None or not replace):
            results.append((contract, existing, False))
            continue
        results.append((contract, compute(contract, quarter, tenant=tenant, now=now, replace=replace), True))
    return results


def public_body(scorecard):
    """The disclosure text: contract number, contractor, quarter, score and the components —
    nothing about any person."""
    contract = scorecard.contract
    lines = [_("Contract: %(number)s %(title)s", number=contract.number, title=contract.title),
             _("Contractor: %(name)s", name=contract.contractor.name),
             _("Quarter: %(quarter)s (%(start)s – %(end)s)", quarter=scorecard.quarter,
               start=scorecard.period_start.isoformat(), end=scorecard.period_end.isoformat()),
             _("Score: %(score)s of 100", score=centi_text(scorecard.score_centi)), ""]
    for entry in scorecard.components:
        label = str(LABELS[entry["key"]])
        if entry["points_text"] is None:
            lines.append(_("%(component)s: not applicable", component=label))
        else:
            lines.append(_("%(component)s: %(rate)s %% × weight %(weight)s = %(points)s points", component=label,
                           rate=entry["rate_percent"], weight=entry["effective_weight_text"],
                           points=entry["points_text"]))
    return "\n".join(lines)


def publish(scorecard, user, now=None):
    """The officer publishes the scorecard: a disclosure of kind "scorecard" is created and the
    scorecard is frozen. Publishing twice is refused (Conflict)."""
    if scorecard.published_at is not None:
        raise Conflict(_("This scorecard has already been published."))
    now = now or utcnow()
    contract = scorecard.contract
    with record_locale():  # a public notice, in the bureau's language whoever publishes it
        title = _("Quarterly score %(quarter)s: %(number)s %(contractor)s", quarter=scorecard.quarter,
                  number=contract.number, contractor=contract.contractor.name)
        body = public_body(scorecard)
    data = {"contract_number": contract.number, "contractor": contract.contractor.name,
            "quarter": scorecard.quarter, "score_centi": scorecard.score_centi,
            "components": [{"key": c["key"], "applicable": c["applicable"], "rate_percent": c["rate_percent"],
                            "weight": c["weight"], "effective_weight": c["effective_weight_text"],
                            "points": c["points_text"]} for c in scorecard.components]}
    # docs/DOMAIN.md sets no legal deadline for quarterly scores: nothing can be late (due_on None).
    disclosure = publish_disclosure("scorecard", title[:300], body, scorecard, None, now,
                                    data=data)
    scorecard.published_at, scorecard.published_by_id = now, user.id
    scorecard.disclosure_id = disclosure.id
    db.session.flush()
    return disclosure

