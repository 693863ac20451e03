"""Spot checks (抽查, docs/DOMAIN.md §7): each month a random sample of every contract's verified visits,
drawn with a recorded seed, and the phone call-backs (电话回访) and home visits (入户走访) that
check them.

The draw: the population is the contract's visits checked in during the month (Beijing) that are
verified when the sample is drawn, ordered by id. ``random.Random(seed)`` shuffles it once; the
sample takes, in that shuffled order, the first visit of every worker (one per worker who worked),
then more visits until it holds ``ceil(population × rate_permille / 1000)``, or one per worker if
that is more. The seed and the rate are stored, so the same draw can be run again at any time
("redraw") and compared with the stored sample; a redraw never changes anything. One sample per
contract and month: drawing again finds the stored one.

The population of a redraw is the same set as at the draw: visits verified at the moment of the
draw (``verified_at`` not after ``drawn_at``) that are still verified, plus those the sample's own
checks rejected since. A visit that dropped out of "verified" for another reason after the draw is
reported as a changed population, never hidden."""
import random
import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, false, func, or_, select

from portal.contracts.models import Contract
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.months import month_bounds, month_text, next_month, parse_month, previous_month  # noqa: F401
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.jobs.queue import task
from portal.spotchecks.models import (MAX_ATTEMPTS, SPOT_CHECK_METHODS, SPOT_CHECK_OUTCOMES, SpotCheck,
                                      SpotCheckAttempt, SpotCheckSample)
from portal.visits.models import Visit
from portal.accounts.models import User
from portal.jobs.labels import deferred_ngettext
from portal.jobs.queue import report_progress
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id

DRAW_FROM_DAY = 5  # the periodic job draws last month from the 5th on (late uploads and answers first)
TEXT_LIMIT = 4000

METHOD_LABELS = {"phone": _l("Phone call-back"), "home_visit": _l("Home visit")}
OUTCOME_LABELS = {"confirmed": _l("Confirmed"), "not_confirmed": _l("Not confirmed"),
                  "unreachable": _l("Unreachable"), None: _l("Not checked yet")}


# --- the draw ------------------------------------------------------------------------------------

def rate_permille_of(tenant, key="spot_check_percent", default_permille=50):
    """A sampling rate setting of the tenant (a percent: ``spot_check_percent``, default 5; or the
    assessments' ``assessment_recheck_percent``) in thousandths, 1–1000."""
    from decimal import Decimal, InvalidOperation
    try:
        permille = int(Decimal(str(tenant.setting(key))) * 10)
    except (InvalidOperation, ValueError, TypeError):
        permille = default_permille
    return min(max(permille, 1), 1000)


def sample_size(population, workers, rate_permille):
    """ceil(population × rate / 1000), raised to one per worker, never more than the population."""
    base = -(-population * rate_permille // 1000)
    return min(population, max(base, workers))


def choose(population, seed, rate_permille):
    """The visit ids drawn from ``population`` — ``[(visit_id, worker_key)]`` ordered by visit id —
    with ``seed``: a pure function, so the same arguments always give the same sample."""
    order = list(range(len(population)))
    random.Random(seed).shuffle(order)  # nosec B311 # a reproducible draw: the seed is secrets.token_hex(16), stored so that the draw can be rerun
    workers = {worker for _id, worker in population}
    size = sample_size(len(population), len(workers), rate_permille)
    chosen, covered = [], set()
    for index in order:  # one per worker first, each the worker's first visit in the shuffled order
        worker = population[index][1]
        if worker not in covered:
            covered.add(worker)
            chosen.append(index)
    taken = set(chosen)
    for index in order:
        if len(chosen) >= size:
            break
        if index not in taken:
            chosen.append(index)
            taken.add(index)
    return sorted(population[index][0] for index in chosen)


def population(contract_id, month, as_of, sample=None):
    """``[(visit_id, worker_user_id)]``, ordered by id: the contract's visits checked in during
    ``month`` that were verified at ``as_of`` and still are (or were rejected since by one of
    ``sample``'s checks)."""
    start, end = month_bounds(month)
    counted = Visit.status == "verified"
    if sample is not None and sample.id is not None:
        rejected_here = select(SpotCheck.visit_id).where(SpotCheck.sample_id == sample.id,
                                                         SpotCheck.outcome == "not_confirmed")
        counted = or_(counted, and_(Visit.status == "rejected", Visit.id.in_(rejected_here)))
    stmt = (select(Visit.id, Visit.worker_user_id)
            .where(Visit.contract_id == contract_id, Visit.check_in_at >= start, Visit.check_in_at < end, counted,
                   or_(Visit.verified_at.is_(None), Visit.verified_at <= as_of))
            .order_by(Visit.id))
    return [tuple(row) for row in db.session.execute(stmt).all()]


def sampled_contracts(month):
    """The contracts whose visits of ``month`` are sampled: active, suspended, completed or
    terminated, with a period that overlaps the month."""
    return db.session.scalars(select(Contract).where(
        Contract.in_delivery, Contract.starts_on < next_month(month),
        Contract.ends_on >= month).order_by(Contract.number)).all()


def find_sample(contract_id, month):
    return db.session.scalars(select(SpotCheckSample).where(
        SpotCheckSample.contract_id == contract_id, SpotCheckSample.month == month_text(month))).first()


@dataclass
class DrawResult:
    contract: Contract
    sample: SpotCheckSample | None
    created: bool
    note: str = ""
    visits: list = field(default_factory=list)


def draw(contract, month, *, tenant, user=None, now=None, seed=None):
    """Draw ``contract``'s sample for ``month`` (docs/DOMAIN.md §7) unless one exists (then it is
    returned unchanged). A month without verified visits draws nothing (and can be drawn once some
    are verified). Returns a DrawResult."""
    existing = find_sample(contract.id, month)
    if existing is not None:
        return DrawResult(contract, existing, False, _("already drawn"))
    now = now or utcnow()
    if month >= local_today(now).replace(day=1):
        raise DomainError(_("Only a month that has ended can be sampled."),
                          {"month": [_("Only a month that has ended can be sampled.")]})
    visits = population(contract.id, month, now)
    if not visits:
        return DrawResult(contract, None, False, _("no verified visits"))
    rate = rate_permille_of(tenant)
    seed = seed or secrets.token_hex(16)
    chosen = choose(visits, seed, rate)
    sample = SpotCheckSample(contract_id=contract.id, month=month_text(month), seed=seed, rate_permille=rate,
                             population=len(visits), drawn_at=now, drawn_by_id=user.id if user else None)
    db.session.add(sample)
    db.session.flush()
    staff = dict(db.session.execute(select(Visit.id, Visit.staff_id).where(Visit.id.in_(chosen))).all())
    for visit_id in chosen:
        sample.checks.append(SpotCheck(visit_id=visit_id, staff_id=staff.get(visit_id), method="phone",
                                       complaint="", rejection_reason=""))
    db.session.flush()
    return DrawResult(contract, sample, True, visits=chosen)


def draw_month(month, *, tenant, user=None, now=None):
    """Draw ``month`` for every sampled contract of the current bureau; [DrawResult]."""
    now = now or utcnow()
    return [draw(contract, month, tenant=tenant, user=user, now=now) for contract in sampled_contracts(month)]


def redraw(sample):
    """Run the draw again from the stored seed and rate over the same population; nothing is
    written. Returns what the comparison page shows."""
    visits = population(sample.contract_id, parse_month(sample.month), sample.drawn_at, sample)
    again = choose(visits, sample.seed, sample.rate_permille)
    stored = sorted(check.visit_id for check in sample.checks)
    return {"visit_ids": again, "stored": stored, "matches": again == stored,
            "population_now": len(visits), "population_then": sample.population,
            "population_changed": len(visits) != sample.population,
            "missing": sorted(set(stored) - set(again)), "extra": sorted(set(again) - set(stored))}


# --- the checks ----------------------------------------------------------------------------------

def get_check(check_id):
    """One spot check of the current bureau, or NotFound."""
    check = db.session.get(SpotCheck, check_id) if query.is_id(check_id) else None
    if check is None:
        raise NotFound(_("No such spot check."))
    return check


def get_sample(sample_id):
    sample = db.session.get(SpotCheckSample, sample_id) if query.is_id(sample_id) else None
    if sample is None:
        raise NotFound(_("No such sample."))
    return sample


def unreachable_tries(check):
    return sum(1 for attempt in check.attempts if not attempt.reached)


def record_outcome(check, *, method, outcome, user, satisfaction=None, complaint="", reason="", now=None):
    """What one try found (docs/DOMAIN.md §7). ``unreachable`` records a try; the third makes the
    outcome "unreachable" and the visit stays verified. ``confirmed`` decides the check, with
    satisfaction 1–5 and any complaint. ``not_confirmed`` rejects the visit, marks it penalised
    (the settlement deducts the penalty) and records why. A decided check never changes (Conflict)."""
    if check.outcome is not None:
        raise Conflict(_("This spot check has already been decided."))
    errors = {}
    if method not in SPOT_CHECK_METHODS:
        errors["method"] = [_("Choose a phone call-back or a home visit.")]
    if outcome not in SPOT_CHECK_OUTCOMES:
        errors["outcome"] = [_("Choose confirmed, not confirmed or unreachable.")]
    if satisfaction is not None and (isinstance(satisfaction, bool) or not isinstance(satisfaction, int)
                                     or not 1 <= satisfaction <= 5):
        errors["satisfaction"] = [_("Satisfaction is a whole number from 1 to 5.")]
    elif satisfaction is not None and outcome == "unreachable":
        errors["satisfaction"] = [_("Satisfaction can only be recorded when the person was reached.")]
    complaint, reason = (complaint or "").strip(), (reason or "").strip()
    for name, text in (("complaint", complaint), ("reason", reason)):
        if len(text) > TEXT_LIMIT:
            errors[name] = [_("At most %(n)s characters.", n=TEXT_LIMIT)]
    if errors:
        raise DomainError(_("The outcome is not valid."), errors)
    now = now or utcnow()
    reached = outcome != "unreachable"
    check.attempts.append(SpotCheckAttempt(method=method, reached=reached, attempted_at=now, by_id=user.id,
                                           note=reason if outcome == "not_confirmed" else ""))
    check.method = method
    db.session.flush()
    if not reached:
        if unreachable_tries(check) >= MAX_ATTEMPTS:
            _decide(check, "unreachable", user, now)
        return check
    check.satisfaction, check.complaint = satisfaction, complaint
    if outcome == "not_confirmed":
        check.rejection_reason = reason or _("The beneficiary did not confirm this visit (%(method)s).",
                                             method=str(METHOD_LABELS[method]))
        visit = check.visit
        visit.status, visit.penalised = "rejected", True
    _decide(check, outcome, user, now)
    return check


def _decide(check, outcome, user, now):
    check.outcome, check.checked_by_id, check.completed_at = outcome, user.id, now
    db.session.flush()


# --- what the work list reads -------------------------------------------------------------------------

def checks_query(*, month=None, contract_id=None, state="", method=""):
    """The checks of the current bureau, by contract and visit time, narrowed by the filters:
    ``state`` open / decided / an outcome; ``method`` phone / home_visit."""
    stmt = (select(SpotCheck).join(SpotCheckSample, SpotCheckSample.id == SpotCheck.sample_id)
            .join(Visit, Visit.id == SpotCheck.visit_id)
            .order_by(SpotCheckSample.month.desc(), SpotCheckSample.contract_id, Visit.check_in_at, SpotCheck.id))
    if month is not None:
        stmt = stmt.where(SpotCheckSample.month == month_text(month))
    if contract_id:
        stmt = stmt.where(SpotCheckSample.contract_id == contract_id)
    if state == "open":
        stmt = stmt.where(SpotCheck.outcome.is_(None))
    elif state == "decided":
        stmt = stmt.where(SpotCheck.outcome.is_not(None))
    elif state in SPOT_CHECK_OUTCOMES:
        stmt = stmt.where(SpotCheck.outcome == state)
    elif state:
        stmt = stmt.where(false())
    if method in SPOT_CHECK_METHODS:
        stmt = stmt.where(SpotCheck.method == method)
    return stmt


def progress(month):
    """Per sample of ``month`` and method: total, done and open checks, with the share done in
    per cent (integer, for the bar). One grouped query."""
    decided = case((SpotCheck.outcome.is_not(None), 1), else_=0)
    rows = db.session.execute(
        select(SpotCheckSample, SpotCheck.method, func.count(SpotCheck.id), func.sum(decided))
        .join(SpotCheck, SpotCheck.sample_id == SpotCheckSample.id)
        .where(SpotCheckSample.month == month_text(month))
        .group_by(SpotCheckSample.id, SpotCheck.method)).all()
    by_sample = {}
    for sample, method, total, done in rows:
        entry = by_sample.setdefault(sample.id, {"sample": sample, "methods": [], "total": 0, "done": 0})
        done = int(done or 0)
        entry["methods"].append({"method": method, "total": total, "done": done, "open": total - done})
        entry["total"] += total
        entry["done"] += done
    result = []
    for entry in by_sample.values():
        entry["open"] = entry["total"] - entry["done"]
        entry["percent"] = entry["done"] * 100 // entry["total"] if entry["total"] else 0
        entry["methods"].sort(key=lambda m: SPOT_CHECK_METHODS.index(m["method"]))
        result.append(entry)
    return sorted(result, key=lambda e: e["sample"].contract.number)


def months_with_samples(limit=24):
    rows = db.session.scalars(select(SpotCheckSample.month).distinct().order_by(SpotCheckSample.month.desc())
                              .limit(limit)).all()
    return [parse_month(m) for m in rows]


# --- jobs ------------------------------------------------------------------------------------------

def current_tenant():
    """The bureau the current job runs for (the jobs of spot checks and scorecards)."""
    return db.session.get(Tenant, current_tenant_id())


@task("supervision.draw_samples")
def draw_samples(month=None, user_id=None):
    """Draw the spot-check samples of ``month`` (YYYY-MM) for the current bureau. Without a month
    (the daily periodic run) it draws last month, from the DRAW_FROM_DAY-th of this month on.
    Idempotent: a contract's sample, once drawn, is found again and left as it is."""
    today = local_today()
    if month is None:
        if today.day < DRAW_FROM_DAY:
            return
        first = previous_month(today)
    else:
        first = parse_month(month)
    user = db.session.get(User, user_id) if user_id else None
    results = draw_month(first, tenant=current_tenant(), user=user)
    report_progress(100, deferred_ngettext("%(month)s: %(num)s sample drawn.", "%(month)s: %(num)s samples drawn.",
                                           sum(r.created for r in results), month=month_text(first)))
