"""Preparing, reviewing and publishing the annual performance evaluation (绩效评价, docs/DOMAIN.md §7,
§9), and the contracts it flags for the renewal decision.

A year is evaluated once it has ended in Beijing time (from January 1st of the next year). The
quarters of the year that overlap the contract's period must each have a scorecard; the year's
scorecard figure is their average, exact, rounded half-up once. The bureau's indicators (the
``evaluation_weights`` parts other than "scorecards") are scored 0–100 by the preparer. The score
is (scorecards weight × scorecard figure + Σ indicator weight × indicator score) / Σ weights,
rounded half-up once; the weights are kept with the evaluation. Four eyes, the review and publishing:
portal/evaluations/review.py."""
import re
from datetime import date, timedelta
from fractions import Fraction

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from portal.acceptance.results import result_for
from portal.contractors.models import Contractor
from portal.contracts.models import Contract
from portal.core import query
from portal.core.cards import card
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import local_today, utcnow
from portal.evaluations.models import PerformanceEvaluation
from portal.extensions import db
from portal.finreports.summary import year_summary
from portal.scorecards.models import Scorecard
from portal.scorecards.services import half_up, parse_quarter
from portal.tenancy.settings import int_parts_setting, int_setting
from portal.tenancy.settings_catalogue import EVALUATION_PARTS

PART_LABELS = dict(EVALUATION_PARTS)
INDICATORS = tuple(code for code, _label in EVALUATION_PARTS if code != "scorecards")
STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Awaiting review"), "returned": _l("Returned"),
                 "approved": _l("Approved and published")}
OPEN_STATUSES = ("draft", "returned")
NOTE_LIMIT = 2000
CONCLUSION_LIMIT = 8000
POINTS_RE = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?$")
FIRST_YEAR = 2000  # no evaluation of a year before it (a typed year is checked against it)


# --- settings ---------------------------------------------------------------------------------------

def evaluation_weights(tenant):
    """The tenant's ``evaluation_weights`` as non-negative integers per part (a bad value: the
    default's)."""
    return int_parts_setting(tenant, "evaluation_weights")


def threshold_centi(tenant):
    return int_setting(tenant, "evaluation_threshold", 0, 100) * 100


def due_on(tenant, year):
    """Dec 31 of ``year`` + ``evaluation_due_days`` (docs/DOMAIN.md §9)."""
    return date(int(year), 12, 31) + timedelta(days=int_setting(tenant, "evaluation_due_days", 1, 365))


# --- years and quarters -------------------------------------------------------------------------------

def ended_years(today, count=5):
    """The ``count`` latest years that have ended, newest first (what may be evaluated)."""
    return [today.year - n for n in range(1, count + 1)]


def refuse_open_year(year, now=None):
    """A year is evaluated only once it has ended in Beijing time (DomainError naming the first
    allowed day), and never before FIRST_YEAR."""
    today = local_today(now or utcnow())
    if not FIRST_YEAR <= int(year) <= today.year:
        message = _("Choose a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=today.year - 1)
        raise DomainError(message, {"year": [message]})
    first = date(int(year) + 1, 1, 1)
    if today < first:
        message = _("The year %(year)s has not ended: it can be evaluated from %(day)s on.", year=year,
                    day=first.isoformat())
        raise DomainError(message, {"year": [message]})


def year_quarters(contract, year):
    """The quarters ("YYYY-Qn") of ``year`` that overlap the contract's period."""
    quarters = []
    for number in range(1, 5):
        start, end = parse_quarter(f"{year}-Q{number}")
        if start <= contract.ends_on and end >= contract.starts_on:
            quarters.append(f"{year}-Q{number}")
    return quarters


def year_scorecards(contract, year):
    """[(quarter, Scorecard)] of the year's quarters the contract ran in; DomainError naming the
    quarters without a scorecard yet, or when the contract did not run in the year."""
    quarters = year_quarters(contract, year)
    if not quarters:
        message = _("Contract %(number)s did not run in %(year)s.", number=contract.number, year=year)
        raise DomainError(message, {"year": [message]})
    found = {card.quarter: card for card in db.session.scalars(select(Scorecard).where(
        Scorecard.contract_id == contract.id, Scorecard.quarter.in_(quarters)))}
    missing = [q for q in quarters if q not in found]
    if missing:
        message = _("These quarters have no scorecard yet: %(quarters)s. Compute them first.",
                    quarters=", ".join(missing))
        raise DomainError(message, {"year": [message]})
    return [(q, found[q]) for q in quarters]


# --- the score ----------------------------------------------------------------------------------------

def parse_points(text):
    """'85', '85.5' or '85.25' (0–100, at most two decimals) -> hundredths (8525); None if empty;
    DomainError otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    match = POINTS_RE.match(text)
    if match is None or int(match.group(1)) > 100 or (int(match.group(1)) == 100 and int(match.group(2) or 0)):
        raise DomainError(_("Give points from 0 to 100, with at most two decimals."))
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def scorecard_average(scores):
    """The average of the scorecards' hundredths, exact, rounded half-up once."""
    return half_up(Fraction(sum(scores), len(scores)))


def weighted_score(weights, scorecard_centi, indicator_centi):
    """(weights["scorecards"] × scorecard_centi + Σ weights[code] × indicator_centi[code]) / Σ
    weights, rounded half-up once; None while an indicator with a weight is not scored."""
    if any(indicator_centi.get(code) is None and weights.get(code) for code in INDICATORS):
        return None
    total = sum(weights.get(code, 0) for code, _label in EVALUATION_PARTS)
    if total <= 0:
        raise DomainError(_("The evaluation weights add up to nothing: set them in the bureau's settings."))
    points = weights.get("scorecards", 0) * scorecard_centi + sum(
        weights.get(code, 0) * (indicator_centi.get(code) or 0) for code in INDICATORS)
    return half_up(Fraction(points, total))


def missing_indicators(evaluation):
    """The codes of the weighed indicators not scored yet."""
    return [row["code"] for row in evaluation.indicators if row["weight"] and row["score_centi"] is None]


def is_complete(evaluation):
    """Every weighed indicator scored (the score is then final)."""
    return not missing_indicators(evaluation)


# --- finding ------------------------------------------------------------------------------------------

def get_evaluation(evaluation_id):
    evaluation = db.session.get(PerformanceEvaluation, evaluation_id) if query.is_id(evaluation_id) else None
    if evaluation is None:
        raise NotFound(_("No such evaluation."))
    return evaluation


def find(contract_id, year):
    return db.session.scalar(select(PerformanceEvaluation).where(
        PerformanceEvaluation.contract_id == contract_id, PerformanceEvaluation.year == int(year)))


def evaluable_pairs(today):
    """[(contract, year)] that may be evaluated now: a year that has ended (ended_years), a contract
    (signed or later) that ran in it and has no evaluation of it yet; by contract number, newest
    year first."""
    years = ended_years(today)
    done = set(db.session.execute(select(PerformanceEvaluation.contract_id, PerformanceEvaluation.year)).all())
    contracts = db.session.scalars(select(Contract).where(Contract.status != "draft").order_by(Contract.number)).all()
    return [(contract, year) for contract in contracts for year in years
            if contract.starts_on <= date(year, 12, 31) and contract.effective_end >= date(year, 1, 1)
            and (contract.id, year) not in done]


def _locked(evaluation):
    db.session.refresh(evaluation, with_for_update=True)


def note_editor(evaluation, user):
    """Add ``user`` to the evaluation's editors (kept for good: none of them may review it)."""
    if user.id not in (evaluation.editors or []):
        evaluation.editors = [*(evaluation.editors or []), user.id]  # a new list: the JSON column sees it


# --- preparing ----------------------------------------------------------------------------------------

def _indicator_rows(weights, scores):
    return [{"code": code, "name": str(PART_LABELS[code]), "weight": weights[code], "score_centi": scores.get(code)}
            for code in INDICATORS]


def _compute(evaluation, contract, tenant, user, now, scores):
    cards = year_scorecards(contract, evaluation.year)
    weights = evaluation_weights(tenant)
    evaluation.quarters = [{"quarter": q, "scorecard_id": card.id, "score_centi": card.score_centi,
                            "published": card.published_at is not None} for q, card in cards]
    evaluation.scorecard_centi = scorecard_average([card.score_centi for _q, card in cards])
    evaluation.weights = weights
    evaluation.indicators = _indicator_rows(weights, scores)
    score = weighted_score(weights, evaluation.scorecard_centi, scores)
    evaluation.score_centi = score or 0
    evaluation.threshold_centi = threshold_centi(tenant)
    evaluation.below_threshold = score is not None and score < evaluation.threshold_centi
    evaluation.finance = year_summary(contract, evaluation.year)
    evaluation.acceptance = result_for(contract, evaluation.year)
    evaluation.due_on = due_on(tenant, evaluation.year)
    evaluation.computed_at = now
    note_editor(evaluation, user)


def start(contract, year, user, *, tenant, now=None):
    """A new draft evaluation of ``contract`` for ``year`` (the indicators not scored yet).
    Refused before the year has ended, without every quarter's scorecard, or when one exists."""
    now = now or utcnow()
    year = int(year)
    refuse_open_year(year, now)
    if find(contract.id, year) is not None:
        raise Conflict(_("Contract %(number)s already has an evaluation for %(year)s.", number=contract.number,
                         year=year))
    evaluation = PerformanceEvaluation(contract_id=contract.id, year=year, status="draft", conclusion="",
                                       review_note="", prepared_by_id=user.id, editors=[])
    evaluation.contract = contract
    _compute(evaluation, contract, tenant, user, now, {})
    try:
        with db.session.begin_nested():
            db.session.add(evaluation)
            db.session.flush()
    except IntegrityError:
        raise Conflict(_("Contract %(number)s already has an evaluation for %(year)s.", number=contract.number,
                         year=year)) from None
    return evaluation


def recompute(evaluation, user, *, tenant, scores=None, conclusion=None, now=None):
    """Score the indicators (``scores`` {code: text}), write the conclusion and compute again from
    the stored scorecards; only while a draft or returned."""
    _locked(evaluation)
    if evaluation.status not in OPEN_STATUSES:
        raise Conflict(_("This evaluation is “%(status)s”: it can no longer be changed.",
                         status=STATUS_LABELS[evaluation.status]))
    current = {row["code"]: row["score_centi"] for row in evaluation.indicators}
    errors = {}
    for code, text in (scores or {}).items():
        if code in INDICATORS:
            try:
                current[code] = parse_points(text)
            except DomainError as exc:
                errors[code] = [exc.message]
    if conclusion is not None and len(conclusion.strip()) > CONCLUSION_LIMIT:
        errors["conclusion"] = [_("At most %(n)s characters.", n=CONCLUSION_LIMIT)]
    if errors:
        raise DomainError(_("The evaluation is not saved: correct the marked fields."), errors)
    if conclusion is not None:
        evaluation.conclusion = conclusion.strip()
    _compute(evaluation, evaluation.contract, tenant, user, now or utcnow(), current)
    db.session.flush()
    return evaluation


# --- lists --------------------------------------------------------------------------------------------

def _latest_approved():
    """Per contract, the year of its latest approved evaluation (a subquery)."""
    return (select(PerformanceEvaluation.contract_id, func.max(PerformanceEvaluation.year).label("year"))
            .where(PerformanceEvaluation.status == "approved").group_by(PerformanceEvaluation.contract_id)
            .subquery())


def flagged_query():
    """The evaluations that flag their contract for the renewal decision: the contract's latest
    approved evaluation, below the threshold."""
    latest = _latest_approved()
    return (select(PerformanceEvaluation)
            .join(latest, (latest.c.contract_id == PerformanceEvaluation.contract_id)
                  & (latest.c.year == PerformanceEvaluation.year))
            .where(PerformanceEvaluation.status == "approved", PerformanceEvaluation.below_threshold.is_(True)))


def evaluations_query(tab="all", year=None, text=""):
    """The bureau's evaluations of a tab (all, review: awaiting review, flagged), of a year, and
    whose contract number or contractor holds ``text``."""
    stmt = flagged_query() if tab == "flagged" else select(PerformanceEvaluation)
    if tab == "review":
        stmt = stmt.where(PerformanceEvaluation.status == "submitted")
    stmt = stmt.join(Contract, Contract.id == PerformanceEvaluation.contract_id).join(
        Contractor, Contractor.id == Contract.contractor_id)
    if year:
        stmt = stmt.where(PerformanceEvaluation.year == year)
    if text:
        pattern = query.like_pattern(text)
        stmt = stmt.where(or_(Contract.number.ilike(pattern, escape="\\"), Contractor.name.ilike(pattern, escape="\\")))
    return stmt.order_by(PerformanceEvaluation.year.desc(), Contract.number, PerformanceEvaluation.id)


def flagged_count():
    return db.session.scalar(select(func.count()).select_from(flagged_query().subquery()))


def renewal_card():
    """The home page's card: contracts flagged for the renewal decision (portal/dashboard)."""
    return card(_l("Contracts flagged for the renewal decision"), flagged_count(), "evaluations.flagged")
