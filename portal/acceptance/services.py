"""Creating an acceptance and gathering the opinions (docs/DOMAIN.md §7 "Acceptance").

The sample: the people served by the contract in the period are the beneficiaries with at least
one visit under the contract, checked in within the period (Beijing days) and verified, ordered by
id. ``random.Random(seed)`` shuffles them once and the sample is the first
max(acceptance_sample_min, ceil(acceptance_sample_percent × N / 100)) of that order, never more than
N. The seed is stored: an auditor redrawing with it (``redraw``) gets the same people."""
import math
import random
import secrets
from datetime import timedelta
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.acceptance.models import METHODS, OPINIONS, RESPONDENTS, STATUSES, Acceptance, AcceptanceOpinion
from portal.contracts.models import Contract, lock_contract_row
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import local_midnight_utc, local_today, utcnow
from portal.extensions import db
from portal.tenancy.settings import int_setting
from portal.visits.models import Visit

COMMENT_LIMIT = 2000

# Service units delivered to a person at home (tenders/models.py SERVICE_UNITS): a contract with one
# of them is accepted with the opinions of the people it served.
PER_PERSON_UNITS = ("visit", "assessment", "household_survey")


def acceptance_sample_size(population, tenant):
    """max(minimum, ceil(percent × population / 100)), never more than the population."""
    percent = int_setting(tenant, "acceptance_sample_percent", 1, 100)
    minimum = int_setting(tenant, "acceptance_sample_min", 1, 200)
    share = math.ceil(Decimal(percent * population) / 100)  # exact, and // would truncate toward zero
    return min(population, max(minimum, share))


def people_served(contract_id, period_start, period_end):
    """Ids of the beneficiaries with a verified visit of the contract checked in within the period."""
    start, end = local_midnight_utc(period_start), local_midnight_utc(period_end + timedelta(days=1))
    return sorted(db.session.scalars(select(Visit.beneficiary_id).distinct().where(
        Visit.contract_id == contract_id, Visit.status == "verified", Visit.beneficiary_id.is_not(None),
        Visit.check_in_at >= start, Visit.check_in_at < end)).all())


def draw_people(people, seed, size):
    """The first ``size`` of ``people`` (sorted ids) shuffled by ``seed``: a pure function."""
    order = sorted(people)
    random.Random(seed).shuffle(order)  # nosec B311 # a reproducible draw: the seed is secrets.token_hex(16), stored so that an auditor can redraw
    return order[:size]


def create(contract, period_start, period_end, *, tenant, user, seed=None):
    """A new acceptance of ``contract`` for the period, with its sample drawn. Refused outside the
    contract's period, for a period not yet ended, or twice for one start; refused with nobody
    served when the contract pays per person (PER_PERSON_UNITS). A contract that serves no one in
    person (stations staffed by the month, training sessions) is accepted on the committee's
    record alone: its sample is empty."""
    errors = {}
    if contract is None:
        errors["contract"] = [_("Choose a contract of this bureau.")]
    elif period_start is None or period_end is None or period_end < period_start:
        errors["period_end"] = [_("The period ends on or after its first day.")]
    elif period_start < contract.starts_on or period_end > contract.ends_on:
        errors["period_start"] = [_("The period lies within the contract's period (%(start)s – %(end)s).",
                                    start=contract.starts_on.isoformat(), end=contract.ends_on.isoformat())]
    elif period_end >= local_today():
        errors["period_end"] = [_("The period has not ended yet: an acceptance is of a period that has ended.")]
    if errors:
        raise DomainError(_("The acceptance cannot be created."), errors)
    lock_contract_row(contract.id)  # two creations for one contract see each other
    attempt = _attempt(contract, period_start, period_end)
    people = people_served(contract.id, period_start, period_end)
    if not people and any(item.unit in PER_PERSON_UNITS for item in contract.items):
        message = _("Nobody was served under this contract in the period (no verified visit).")
        raise DomainError(message, {"period_start": [message]})
    seed = seed or secrets.token_hex(16)
    chosen = draw_people(people, seed, acceptance_sample_size(len(people), tenant))
    row = Acceptance(contract_id=contract.id, period_start=period_start, period_end=period_end, status="open",
                     attempt=attempt, seed=seed, sample_size=len(chosen), members=[], conclusion="",
                     created_by_id=user.id, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:  # a second click that slipped past the check: the unique constraint refuses it
        raise Conflict(_("This contract already has an acceptance starting on that day.")) from None
    for position, person_id in enumerate(chosen, start=1):
        db.session.add(AcceptanceOpinion(acceptance_id=row.id, beneficiary_id=person_id, position=position,
                                         comment=""))
    db.session.flush()
    return row


def _attempt(contract, period_start, period_end):
    """The attempt number of a new acceptance of the period: 1, or the next one after a failed
    acceptance of the same period (re-run after rectification). A period overlapping an open or
    passed acceptance of the contract is refused (Conflict)."""
    overlapping = db.session.scalars(select(Acceptance).where(
        Acceptance.contract_id == contract.id, Acceptance.status.in_(("open", "passed")),
        Acceptance.period_start <= period_end, Acceptance.period_end >= period_start)
        .order_by(Acceptance.period_start)).first()
    if overlapping is not None:
        message = _("The period overlaps this contract's acceptance of %(start)s – %(end)s, open or passed; only a "
                    "failed acceptance may be run again.", start=overlapping.period_start.isoformat(),
                    end=overlapping.period_end.isoformat())
        raise Conflict(message, {"period_start": [message]})
    last = db.session.scalars(select(Acceptance).where(
        Acceptance.contract_id == contract.id, Acceptance.period_start == period_start)
        .order_by(Acceptance.attempt.desc())).first()
    return 1 if last is None else last.attempt + 1


def rerun_refusal(acceptance):
    """Why ``acceptance`` cannot be run again, or None: only a failed one, the latest attempt of its
    period."""
    if acceptance.status != "failed":
        return _("Only a failed acceptance can be run again.")
    later = db.session.scalar(select(Acceptance.id).where(
        Acceptance.contract_id == acceptance.contract_id, Acceptance.period_start == acceptance.period_start,
        Acceptance.attempt > acceptance.attempt).limit(1))
    return _("This acceptance has already been run again.") if later is not None else None


def attempt_of(acceptance, attempt):
    """The acceptance of the same contract and period with ``attempt`` (the one it re-runs, or its
    re-run), or None."""
    return db.session.scalar(select(Acceptance).where(
        Acceptance.contract_id == acceptance.contract_id, Acceptance.period_start == acceptance.period_start,
        Acceptance.attempt == attempt))


def rerun(acceptance, *, tenant, user):
    """A new attempt of a failed acceptance, same period, a new sample (``create``)."""
    refusal = rerun_refusal(acceptance)
    if refusal:
        raise Conflict(refusal)
    return create(acceptance.contract, acceptance.period_start, acceptance.period_end, tenant=tenant, user=user)


def redraw(acceptance, tenant):
    """The draw run again from the stored seed over the people served now; nothing is written."""
    people = people_served(acceptance.contract_id, acceptance.period_start, acceptance.period_end)
    again = draw_people(people, acceptance.seed, acceptance_sample_size(len(people), tenant))
    stored = [row.beneficiary_id for row in acceptance.opinions]
    return {"beneficiary_ids": again, "stored": stored, "matches": again == stored, "population": len(people)}


def get(acceptance_id, lock=False):
    """One acceptance of the current bureau (locked for update when asked), or NotFound."""
    row = None
    if query.is_id(acceptance_id):
        stmt = select(Acceptance).where(Acceptance.id == acceptance_id)
        row = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound(_("No such acceptance."))
    return row


def get_opinion(acceptance, opinion_id):
    row = db.session.get(AcceptanceOpinion, opinion_id) if query.is_id(opinion_id) else None
    if row is None or row.acceptance_id != acceptance.id:
        raise NotFound(_("No such person in this sample."))
    return row


def record_opinion(acceptance, opinion_row, *, respondent, method, opinion, comment, asked_on, user):
    """Record what one sampled person (or their guardian) said. Refused once the acceptance is
    decided; ``asked_on`` not in the future nor before the period's first day."""
    if acceptance.status != "open":
        raise Conflict(_("This acceptance has been decided; its opinions no longer change."))
    errors = {}
    if respondent not in RESPONDENTS:
        errors["respondent"] = [_("Choose the person or a guardian.")]
    if method not in METHODS:
        errors["method"] = [_("Choose a phone call or a home visit.")]
    if opinion not in OPINIONS:
        errors["opinion"] = [_("Choose satisfied, basically satisfied, not satisfied or unreachable.")]
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if len(comment) > COMMENT_LIMIT:
        errors["comment"] = [_("At most %(n)s characters.", n=COMMENT_LIMIT)]
    if asked_on is None:
        errors["asked_on"] = [_("Give the day the person was asked.")]
    elif asked_on > local_today():
        errors["asked_on"] = [_("The day asked cannot be in the future.")]
    elif asked_on < acceptance.period_start:
        errors["asked_on"] = [_("The day asked cannot be before the period's first day.")]
    if errors:
        raise DomainError(_("The opinion is not valid."), errors)
    opinion_row.respondent, opinion_row.method, opinion_row.opinion = respondent, method, opinion
    opinion_row.comment, opinion_row.asked_on = comment, asked_on
    opinion_row.recorded_by_id, opinion_row.recorded_at = user.id, utcnow()
    db.session.flush()
    return opinion_row


def acceptances_query(number="", status=""):
    """The current bureau's acceptances, newest period first, narrowed by contract number and status."""
    stmt = (select(Acceptance).join(Contract, Contract.id == Acceptance.contract_id)
            .order_by(Acceptance.period_end.desc(), Acceptance.id.desc()))
    number = (number or "").strip()[:64]
    if number:
        stmt = stmt.where(Contract.number.ilike(query.like_pattern(number), escape="\\"))
    if status in STATUSES:
        stmt = stmt.where(Acceptance.status == status)
    return stmt


def contracts():
    """The current bureau's contracts an acceptance can be made for."""
    return db.session.scalars(select(Contract).order_by(Contract.number)).all()
