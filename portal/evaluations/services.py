"""Preparing, reviewing and publishing the annual performance evaluation (绩效评价, docs/DOMAIN.md §7,
§9), and the contracts it flags for the renewal decision.

A year is evaluated once it has ended in Beijing time (from January 1st of the next year). The
quarters of the year that overlap the contract's period must each have a scorecard; the year's
scorecard figure is their average, exact, rounded half-up once. The bureau's indicators (the
``evaluation_weights`` parts other than "scorecards") are scored 0–100 by the preparer. The score
is (scorecards weight × scorecard figure + Σ indicator weight × indicator score) / Σ weights,
rounded half-up once; the weights are kept with the evaluation. Four eyes: whoever prepared it
cannot approve it; an approved evaluation is published at once and never changes."""
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
from portal.core.errors import Conflict, DomainError, Forbidden, NotFound
from portal.core.timeutil import local_today, utcnow
from portal.disclosures import publish as publish_disclosure
from portal.evaluations.models import PerformanceEvaluation
from portal.extensions import db
from portal.feedback.services import names_in
from portal.finreports.summary import year_summary
from portal.i18n import record_locale
from portal.scorecards.models import Scorecard
from portal.scorecards.services import centi_text, half_up, parse_quarter
from portal.tenancy.settings import DEFAULT_SETTINGS
from portal.tenancy.settings_catalogue import EVALUATION_PARTS

PART_LABELS = dict(EVALUATION_PARTS)
INDICATORS = tuple(code for code, _label in EVALUATION_PARTS if code != "scorecards")
STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Awaiting review"), "returned": _l("Returned"),
                 "approved": _l("Approved and published")}
OPEN_STATUSES = ("draft", "returned")
NOTE_LIMIT = 2000
CONCLUSION_LIMIT = 8000
POINTS_RE = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?$")


# --- settings ---------------------------------------------------------------------------------------

def _int_setting(tenant, key, low, high):
    value = tenant.setting(key) if tenant is not None else None
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return value
    return DEFAULT_SETTINGS[key]


def evaluation_weights(tenant):
    """The tenant's ``evaluation_weights`` as non-negative integers per part (a bad value: the
    default's)."""
    defaults = DEFAULT_SETTINGS["evaluation_weights"]
    configured = (tenant.setting("evaluation_weights") if tenant is not None else None) or {}
    weights = {}
    for code, _label in EVALUATION_PARTS:
        value = configured.get(code, defaults[code]) if isinstance(configured, dict) else defaults[code]
        weights[code] = value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 \
            else defaults[code]
    return weights


def threshold_centi(tenant):
    return _int_setting(tenant, "evaluation_threshold", 0, 100) * 100


def due_on(tenant, year):
    """Dec 31 of ``year`` + ``evaluation_due_days`` (docs/DOMAIN.md §9)."""
    return date(int(year), 12, 31) + timedelta(days=_int_setting(tenant, "evaluation_due_days", 1, 365))


# --- years and quarters -------------------------------------------------------------------------------

def ended_years(today, count=5):
    """The ``count`` latest years that have ended, newest first (what may be evaluated)."""
    return [today.year - n for n in range(1, count + 1)]


def refuse_open_year(year, now=None):
    """A year is evaluated only once it has ended in Beijing time (DomainError naming the first
    allowed day)."""
    first = date(int(year) + 1, 1, 1)
    if local_today(now or utcnow()) < first:
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


def is_complete(evaluation):
    """Every weighed indicator scored (the score is then final)."""
    return all(row["score_centi"] is not None or not row["weight"] for row in evaluation.indicators)


# --- finding ------------------------------------------------------------------------------------------

def get_evaluation(evaluation_id):
    evaluation = db.session.get(PerformanceEvaluation, evaluation_id) if query.is_id(evaluation_id) else None
    if evaluation is None:
        raise NotFound(_("No such evaluation."))
    return evaluation


def find(contract_id, year):
    return db.session.scalar(select(PerformanceEvaluation).where(
        PerformanceEvaluation.contract_id == contract_id, PerformanceEvaluation.year == int(year)))


def evaluable_contracts():
    """The bureau's contracts that have started (signed or in delivery or over)."""
    return db.session.scalars(select(Contract).where(Contract.status != "draft").order_by(Contract.number)).all()


def _locked(evaluation):
    db.session.refresh(evaluation, with_for_update=True)


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
    evaluation.prepared_by_id, evaluation.computed_at = user.id, now


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
                                       review_note="")
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


# --- four eyes ----------------------------------------------------------------------------------------

def submit(evaluation, user, now=None):
    _locked(evaluation)
    if evaluation.status not in OPEN_STATUSES:
        raise Conflict(_("This evaluation has already been submitted."))
    errors = {}
    if not is_complete(evaluation):
        errors["indicators"] = [_("Score every indicator before submitting.")]
    if not (evaluation.conclusion or "").strip():
        errors["conclusion"] = [_("Write the conclusion before submitting.")]
    elif names_in(evaluation.conclusion):  # it is published: docs/DOMAIN.md §9
        errors["conclusion"] = [_("The conclusion names a person served or a worker; write it without the name.")]
    if errors:
        raise DomainError(_("The evaluation cannot be submitted yet."), errors)
    evaluation.status, evaluation.submitted_at = "submitted", now or utcnow()
    db.session.flush()
    return evaluation


def _refuse_own(evaluation, user):
    if evaluation.prepared_by_id == user.id:
        raise Forbidden(_("You prepared this evaluation: another person must review it (four eyes)."))


def _reviewable(evaluation, user):
    _locked(evaluation)
    if evaluation.status != "submitted":
        raise Conflict(_("This evaluation is not awaiting review: it has already been decided."))
    _refuse_own(evaluation, user)


def send_back(evaluation, user, note, now=None):
    """Return the evaluation to its preparer with a note (required)."""
    note = (note or "").strip()
    if not note or len(note) > NOTE_LIMIT:
        message = _("Say what should be changed.") if not note else _("At most %(n)s characters.", n=NOTE_LIMIT)
        raise DomainError(message, {"note": [message]})
    _reviewable(evaluation, user)
    evaluation.status, evaluation.review_note = "returned", note
    evaluation.reviewed_by_id, evaluation.reviewed_at = user.id, now or utcnow()
    db.session.flush()
    return evaluation


def approve(evaluation, user, now=None):
    """Approve and publish at once: a disclosure of kind "performance_evaluation"."""
    _reviewable(evaluation, user)
    now = now or utcnow()
    evaluation.status, evaluation.reviewed_by_id, evaluation.reviewed_at = "approved", user.id, now
    disclosure = _publish(evaluation, now)
    evaluation.published_at, evaluation.disclosure_id = now, disclosure.id
    db.session.flush()
    return evaluation


def public_data(evaluation, approved_on):
    """The disclosure's data: contract, contractor, year, the figures — nothing about any person."""
    contract = evaluation.contract
    return {"contract_number": contract.number, "contractor": contract.contractor.name, "year": evaluation.year,
            "score_centi": evaluation.score_centi, "scorecard_centi": evaluation.scorecard_centi,
            "threshold_centi": evaluation.threshold_centi, "below_threshold": evaluation.below_threshold,
            "quarters": [{"quarter": q["quarter"], "score_centi": q["score_centi"]} for q in evaluation.quarters],
            "indicators": [{"code": i["code"], "weight": i["weight"], "score_centi": i["score_centi"]}
                           for i in evaluation.indicators],
            "approved_on": approved_on.isoformat()}


def public_body(evaluation):
    contract = evaluation.contract
    lines = [_("Contract: %(number)s %(title)s", number=contract.number, title=contract.title),
             _("Contractor: %(name)s", name=contract.contractor.name),
             _("Year: %(year)s", year=evaluation.year),
             _("Score: %(score)s of 100", score=centi_text(evaluation.score_centi)), ""]
    lines.append(_("%(part)s (weight %(weight)s): %(score)s", part=str(PART_LABELS["scorecards"]),
                   weight=evaluation.weights.get("scorecards", 0), score=centi_text(evaluation.scorecard_centi)))
    for row in evaluation.quarters:
        lines.append(f"  {row['quarter']}: {centi_text(row['score_centi'])}")
    for row in evaluation.indicators:
        lines.append(_("%(part)s (weight %(weight)s): %(score)s", part=str(PART_LABELS[row["code"]]),
                       weight=row["weight"], score=centi_text(row["score_centi"] or 0)))
    if evaluation.below_threshold:
        lines += ["", _("Below the threshold of %(threshold)s: the contract is flagged for the renewal decision.",
                        threshold=centi_text(evaluation.threshold_centi))]
    lines += ["", _("Conclusion:"), evaluation.conclusion]
    return "\n".join(lines)


def _publish(evaluation, now):
    from portal.core.timeutil import to_local
    contract = evaluation.contract
    with record_locale():  # a public notice, in the bureau's language whoever approves it
        title = _("Annual performance evaluation %(year)s: %(number)s %(contractor)s", year=evaluation.year,
                  number=contract.number, contractor=contract.contractor.name)
        body = public_body(evaluation)
    return publish_disclosure("performance_evaluation", title[:300], body, evaluation, evaluation.due_on, now,
                              data=public_data(evaluation, to_local(now).date()))


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
    return {"title": _l("Contracts flagged for the renewal decision"), "value": flagged_count(),
            "endpoint": "evaluations.flagged"}
