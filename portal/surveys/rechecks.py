"""The bureau's re-check of household surveys by home visit (抽查复核, docs/DOMAIN.md §6, §7).

The draw: per contract and month (of ``surveyed_at``, Beijing time), once the month has ended, a
sample of that month's signed-off surveys: ``survey_recheck_percent`` of them (default 10), at
least one per surveyor, drawn exactly as spot checks are (``portal.spotchecks.services.choose``:
the population ordered by id, shuffled once by ``random.Random(seed)``, the first of each surveyor,
then more up to the rate's share rounded up). The seed and the rate are stored on the draw; the
population is the surveys signed off by the moment of the draw, so ``redraw`` gives the same
surveys at any time. One draw per contract and month: drawing again returns it unchanged.

A re-check is recorded by a supervisor who neither reviewed nor signed off the survey: the outcome
and the per-capita income found at the family's home; a discrepancy is another outcome than the
survey's, counted per contractor (``discrepancies_by_contractor``) and deducted by settlement like
a visit a spot check did not confirm. Counts only leave this module, never a family's figures."""
import secrets
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from portal.audit.recorder import record_event
from portal.contractors.models import Contractor
from portal.contracts.models import Contract, ServiceItem
from portal.core import query
from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.months import first_day, month_bounds, month_text
from portal.core.numbers import percent_text
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.spotchecks.services import choose, rate_permille_of
from portal.surveys.models import OUTCOMES, SURVEY_UNIT, HouseholdSurvey, SurveyRecheck, SurveyRecheckDraw
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id
from portal.visits.rules import CLOCK_SKEW

RATE_SETTING = "survey_recheck_percent"
DEFAULT_PERMILLE = 100  # 10 %
NOTES_LIMIT = 4000
MAX_MEMBERS = 99


# --- the draw ------------------------------------------------------------------------------------

def survey_contracts():
    """The contracts of the current bureau with an item of unit "household_survey", by number."""
    return db.session.scalars(select(Contract).where(Contract.id.in_(
        select(ServiceItem.contract_id).where(ServiceItem.unit == SURVEY_UNIT))).order_by(Contract.number)).all()


def population(contract_id, month, as_of):
    """``[(survey_id, surveyor_user_id)]`` ordered by id: the contract's surveys of ``month``
    (surveyed_at, Beijing) signed off by ``as_of``."""
    start, end = month_bounds(month)
    stmt = (select(HouseholdSurvey.id, HouseholdSurvey.surveyor_user_id)
            .where(HouseholdSurvey.contract_id == contract_id, HouseholdSurvey.surveyed_at >= start,
                   HouseholdSurvey.surveyed_at < end, HouseholdSurvey.status == "signed_off",
                   HouseholdSurvey.signed_off_at <= as_of)
            .order_by(HouseholdSurvey.id))
    return [tuple(row) for row in db.session.execute(stmt).all()]


def find_draw(contract_id, month):
    return db.session.scalars(select(SurveyRecheckDraw).where(
        SurveyRecheckDraw.contract_id == contract_id, SurveyRecheckDraw.month == month_text(month))).first()


def draw(contract, month, user, now, *, seed=None):
    """The re-check sample of ``contract``'s surveys of ``month`` (a date in it or "YYYY-MM"):
    drawn once the month has ended (the current or a later month is refused, 422 on ``month``),
    returned unchanged when drawn already. A month without signed-off surveys draws nothing (422:
    it can be drawn once some are signed off)."""
    month = first_day(month)
    if month >= local_today(now).replace(day=1):
        message = _("Only a month that has ended can be drawn: %(month)s has not ended yet.", month=month_text(month))
        raise DomainError(message, {"month": [message]})
    if contract is None or contract.id not in {c.id for c in survey_contracts()}:
        message = _("Choose a contract with household surveys.")
        raise DomainError(message, {"contract": [message]})
    # two supervisors drawing at once: the second waits for the first and finds its draw
    db.session.execute(select(Contract.id).where(Contract.id == contract.id).with_for_update()).all()
    existing = find_draw(contract.id, month)
    if existing is not None:
        return existing
    surveys = population(contract.id, month, now)
    if not surveys:
        message = _("No survey of %(month)s on this contract is signed off yet: nothing to draw.",
                    month=month_text(month))
        raise DomainError(message, {"month": [message]})
    tenant = db.session.get(Tenant, current_tenant_id())
    rate = rate_permille_of(tenant, RATE_SETTING, DEFAULT_PERMILLE)
    seed = seed or secrets.token_hex(16)
    chosen = choose(surveys, seed, rate)
    drawn = SurveyRecheckDraw(contract_id=contract.id, month=month_text(month), seed=seed, rate_permille=rate,
                              drawn_at=now, drawn_by_id=user.id if user else None)
    db.session.add(drawn)
    db.session.flush()
    for survey_id in chosen:
        db.session.add(SurveyRecheck(survey_id=survey_id, draw_id=drawn.id, method="home_visit",
                                     discrepancy=False, notes=""))
    db.session.flush()
    record_event(db.session, "survey_recheck_drawn", tenant_id=current_tenant_id(), actor=user,
                 object_type="SurveyRecheckDraw", object_id=str(drawn.id),
                 after={"contract_id": contract.id, "month": drawn.month, "population": len(surveys),
                        "drawn": len(chosen), "rate_permille": rate})
    return drawn


def redraw(drawn):
    """The draw run again from its stored seed and rate over the surveys signed off by its moment;
    nothing is written. ``matches``: the same surveys as stored."""
    again = choose(population(drawn.contract_id, drawn.month, drawn.drawn_at), drawn.seed, drawn.rate_permille)
    stored = sorted(r.survey_id for r in drawn.rechecks)
    return {"survey_ids": again, "stored": stored, "matches": again == stored}


def draws_query(contract_id=None, month=None):
    """The draws of the current bureau, newest month first, optionally of one contract or month."""
    stmt = select(SurveyRecheckDraw)
    if contract_id:
        stmt = stmt.where(SurveyRecheckDraw.contract_id == contract_id)
    if month:
        stmt = stmt.where(SurveyRecheckDraw.month == month_text(month))
    return stmt.order_by(SurveyRecheckDraw.month.desc(), SurveyRecheckDraw.id.desc())


def rechecks_query(contract_id=None, month=None, state=""):
    """The re-checks of the current bureau's draws (open ones first), filtered like draws_query and
    by ``state`` ("open", "done", "discrepancy")."""
    stmt = select(SurveyRecheck).join(SurveyRecheckDraw, SurveyRecheckDraw.id == SurveyRecheck.draw_id)
    if contract_id:
        stmt = stmt.where(SurveyRecheckDraw.contract_id == contract_id)
    if month:
        stmt = stmt.where(SurveyRecheckDraw.month == month_text(month))
    if state == "open":
        stmt = stmt.where(SurveyRecheck.rechecked_at.is_(None))
    elif state == "done":
        stmt = stmt.where(SurveyRecheck.rechecked_at.is_not(None))
    elif state == "discrepancy":
        stmt = stmt.where(SurveyRecheck.discrepancy.is_(True))
    return stmt.order_by(SurveyRecheck.rechecked_at.is_not(None), SurveyRecheckDraw.month.desc(), SurveyRecheck.id)


def get_recheck(recheck_id):
    """One re-check of the current bureau, or NotFound."""
    found = db.session.get(SurveyRecheck, recheck_id) if query.is_id(recheck_id) else None
    if found is None:
        raise NotFound(_("No such re-check."))
    return found


# --- the re-check --------------------------------------------------------------------------------

def recheck_refusal(recheck, user):
    """Why ``user`` may not record ``recheck`` (a message), or None."""
    if not user.can("survey.recheck"):
        return _("Only a supervisor of the bureau records a re-check.")
    if recheck.rechecked_at is not None:
        return _("This re-check has already been recorded.")
    survey = recheck.survey
    if user.id in (survey.reviewed_by_id, survey.signed_off_by_id):
        return _("You reviewed or signed off this survey: another supervisor must re-check it.")
    return None


def _whole(value, low, high):
    return value if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high else None


def record_recheck(recheck, user, now, *, outcome_found, per_capita_found_fen, members_found, notes,
                   rechecked_at):
    """What the supervisor found at the family's home: the outcome (one of OUTCOMES), the per-capita
    monthly income (fen ≥ 0), the members (optional) and notes, at ``rechecked_at`` (aware, not
    before the survey nor in the future). A discrepancy is another outcome than the survey's.
    Recorded once (Conflict), never by the survey's reviewer or signer (422)."""
    if recheck is None:
        raise NotFound(_("No such re-check."))
    db.session.refresh(recheck, ["rechecked_at"], with_for_update=True)
    if recheck.rechecked_at is not None:
        raise Conflict(_("This re-check has already been recorded."))
    refused = recheck_refusal(recheck, user)
    if refused:
        raise DomainError(refused, {"checker": [refused]})
    survey, errors = recheck.survey, {}
    if outcome_found not in OUTCOMES:
        errors["outcome_found"] = [_("Choose the outcome found.")]
    per_capita = _whole(per_capita_found_fen, 0, 2**31 - 1)
    if per_capita is None:
        errors["per_capita_found_fen"] = [_("Give the per-capita monthly income found, 0 or more.")]
    members = _whole(members_found, 1, MAX_MEMBERS) if members_found is not None else None
    if members_found is not None and members is None:
        errors["members_found"] = [_("Give the members found, from 1 to %(n)s.", n=MAX_MEMBERS)]
    notes = (notes or "").strip()
    if len(notes) > NOTES_LIMIT:
        errors["notes"] = [_("At most %(n)s characters.", n=NOTES_LIMIT)]
    if not isinstance(rechecked_at, datetime) or rechecked_at.tzinfo is None:
        errors["rechecked_at"] = [_("Give the day and time of the home visit.")]
    elif rechecked_at > now + CLOCK_SKEW:
        errors["rechecked_at"] = [_("The home visit cannot be in the future.")]
    elif rechecked_at < survey.surveyed_at:
        errors["rechecked_at"] = [_("The re-check cannot be before the survey.")]
    if errors:
        raise DomainError(_("The re-check is not valid."), errors)
    recheck.outcome_found, recheck.per_capita_found_fen, recheck.members_found = outcome_found, per_capita, members
    recheck.discrepancy = outcome_found != survey.outcome
    recheck.notes, recheck.rechecked_at = notes, rechecked_at
    recheck.checker_user_id = recheck.recorded_by_id = user.id
    db.session.flush()
    record_event(db.session, "survey_rechecked", tenant_id=current_tenant_id(), actor=user,
                 object_type="SurveyRecheck", object_id=str(recheck.id),
                 after={"survey_id": survey.id, "discrepancy": recheck.discrepancy})
    return recheck


# --- discrepancies per contractor ----------------------------------------------------------------

@dataclass(frozen=True)
class DiscrepancyRow:
    """One contractor's surveys re-checked in a period and the discrepancies among them."""
    contractor_id: int
    contractor: str
    rechecked: int
    discrepancies: int

    @property
    def rate(self):
        """discrepancies / rechecked, exact (None without re-checks)."""
        return Fraction(self.discrepancies, self.rechecked) if self.rechecked else None

    @property
    def percent(self):
        """The rate in percent with two decimals, rounded half-up ("12.50"); "" without re-checks."""
        return percent_text(self.discrepancies, self.rechecked)


def discrepancies_by_contractor(start, end):
    """[DiscrepancyRow] of every contractor whose surveys were re-checked with ``rechecked_at`` in
    [start, end) (aware UTC bounds, e.g. portal.core.months.month_bounds), by contractor name."""
    rows = db.session.execute(
        select(Contractor.id, Contractor.name, func.count(SurveyRecheck.id),
               func.coalesce(func.sum(case((SurveyRecheck.discrepancy.is_(True), 1), else_=0)), 0))
        .select_from(SurveyRecheck)
        .join(HouseholdSurvey, HouseholdSurvey.id == SurveyRecheck.survey_id)
        .join(Contractor, Contractor.id == HouseholdSurvey.contractor_id)
        .where(SurveyRecheck.rechecked_at.is_not(None), SurveyRecheck.rechecked_at >= start,
               SurveyRecheck.rechecked_at < end)
        .group_by(Contractor.id, Contractor.name)
        .order_by(Contractor.name, Contractor.id)).all()
    return [DiscrepancyRow(cid, name, int(done), int(found or 0)) for cid, name, done, found in rows]
