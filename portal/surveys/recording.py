"""Recording household economic surveys as the phone (or the web form) sends them (docs/DOMAIN.md
§6, ``POST /api/v1/surveys``): idempotent uploads by client id, the home visit recorded with each,
the judgement against the standard in force on the survey's day, and who may see which survey.

A survey is made during a home visit, so recording one also records that visit through
``portal.visits.recording`` (the service item of unit "household_survey" of the contract under
which the surveyor's contractor surveys the family; check-in = check-out = ``surveyed_at``). The
visit rules (V01–V11) judge it like any visit; settlement pays the visit once the survey is signed
off. Members' ID numbers are stored encrypted, with a keyed hash and a masked form; nothing of the
household's finances is logged."""
import uuid

from flask_babel import gettext as _
from sqlalchemy import select

from portal.accounts.permissions import reached
from portal.api.body import schema_errors
from portal.contracts.assignments import assigned_item
from portal.core import query
from portal.core.crypto import encrypt, keyed_hash, mask_id_number, mask_name
from portal.core.errors import DomainError
from portal.core.identity import InvalidIdentifier, age_on, birth_date, validate_id_number
from portal.core.timeutil import to_local
from portal.extensions import db
from portal.tenancy.scope import TenancyError, current_tenant_id
from portal.tenancy.services import settings_for
from portal.visits import recording as visits
from portal.visits.rules import CLOCK_SKEW
from portal.surveys import signals
from portal.surveys.judgement import Figures, judge, reason_text
from portal.surveys.models import (AREAS, CATEGORIES, DISABILITY_GRADES, EXPENSE_KINDS, INCOME_KINDS, INCOME_PERIODS,
                                   KINDS, RELATIONS, SURVEY_UNIT, WORK_ABILITIES, HouseholdSurvey, SurveyExpense,
                                   SurveyIncome, SurveyInterview, SurveyMember)
from portal.surveys.standards import standard_on

# The visit of a survey has a client id of its own, derived from the survey's, so that a replayed
# upload finds the same visit (visit_client_id).
VISIT_NAMESPACE = uuid.UUID("3c1f7a52-94d3-4e0b-8b8f-2f6d0c5e9a71")
MAX_FEN = query.MAX_ID  # an integer column: every amount and total stays below 2³¹
_FEN = {"type": "integer", "minimum": 0, "maximum": MAX_FEN}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 1000}
_TEXT = {"type": ["string", "null"], "maxLength": 300}
_TIME = {"type": "string", "minLength": 1, "maxLength": 64,
         "description": "ISO 8601 with an offset, e.g. 2026-11-29T09:30:00+08:00"}

SURVEY_SCHEMA = {
    "type": "object",
    "required": ["client_id", "beneficiary_id", "surveyed_at", "lat", "lon", "kind", "category", "area",
                 "members", "incomes", "assets", "expenses", "interviews"],
    "properties": {
        "client_id": {"type": "string", "minLength": 32, "maxLength": 36,
                      "description": "A UUID made by the phone; the same id is never stored twice"},
        "beneficiary_id": query.ID_SCHEMA,
        "surveyed_at": _TIME,
        "lat": {"type": "number"}, "lon": {"type": "number"},
        "accuracy_m": {"type": ["number", "null"], "minimum": 0},
        "device_id": {"type": ["string", "null"], "minLength": 1, "maxLength": 100},
        "kind": {"type": "string", "enum": list(KINDS)},
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "area": {"type": "string", "enum": list(AREAS)},
        "members": {"type": "array", "minItems": 1, "maxItems": 30, "items": {
            "type": "object", "required": ["name", "relation", "id_number", "work_ability", "disability_grade"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 64},
                "relation": {"type": "string", "enum": list(RELATIONS)},
                "id_number": {"type": "string", "minLength": 1, "maxLength": 32,
                              "description": "The resident ID number: 18 characters, check digit valid"},
                "work_ability": {"type": "string", "enum": list(WORK_ABILITIES)},
                "disability_grade": {"type": "integer", "enum": list(DISABILITY_GRADES)}}}},
        "incomes": {"type": "array", "maxItems": 100, "items": {
            "type": "object", "required": ["kind", "period", "amount_fen"],
            "properties": {
                "member": {"type": ["integer", "null"], "minimum": 0,
                           "description": "The index of the member in members; null: the household's"},
                "kind": {"type": "string", "enum": list(INCOME_KINDS)},
                "period": {"type": "string", "enum": list(INCOME_PERIODS)},
                "amount_fen": _FEN, "note": _TEXT}}},
        "assets": {"type": "object", "required": ["deposits_fen", "dwellings", "housing_area_m2", "vehicles"],
                   "properties": {"deposits_fen": _FEN, "dwellings": _COUNT,
                                  "housing_area_m2": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
                                  "vehicles": _COUNT}},
        "expenses": {"type": "array", "maxItems": 50, "items": {
            "type": "object", "required": ["kind", "annual_fen"],
            "properties": {"kind": {"type": "string", "enum": list(EXPENSE_KINDS)}, "annual_fen": _FEN,
                           "note": _TEXT}}},
        "interviews": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
            "type": "object", "required": ["neighbour", "interviewed_at", "statement"],
            "properties": {"neighbour": {"type": "string", "minLength": 1, "maxLength": 120},
                           "interviewed_at": _TIME,
                           "statement": {"type": "string", "minLength": 1, "maxLength": 4000}}}},
        "notes": {"type": ["string", "null"], "maxLength": 4000},
    },
}


def _refuse(field, message, status_class=DomainError):
    raise status_class(message, {field: [message]})


def visit_client_id(client_id):
    """The client id of the home visit recorded with the survey of ``client_id``."""
    return str(uuid.uuid5(VISIT_NAMESPACE, str(client_id)))


def _checked_schema(payload):
    """The schema's field errors (422), with words of our own for a survey without members or
    without a neighbour interview."""
    errors = schema_errors(payload, SURVEY_SCHEMA)
    if payload.get("members") == []:
        errors["members"] = [_("Record at least one member of the household.")]
    if payload.get("interviews") == []:
        errors["interviews"] = [_("Record at least one neighbour interview (who, when, what they said).")]
    if errors:
        raise DomainError(_("The request body is not valid."), errors)


# --- who sees which survey ----------------------------------------------------------------------

def surveys_visible_to(user):
    """The select of surveys ``user`` may read in the current bureau: a surveyor their own, a
    contractor manager its organisation's, bureau readers all; anyone else none."""
    return reached(select(HouseholdSurvey), user, own=HouseholdSurvey.surveyor_user_id,
                   organisation=HouseholdSurvey.contractor_id, read_all="survey.read_all")


def visible_survey(survey_id, user):
    """The survey if ``user`` may read it, else NotFound (never 403)."""
    return query.one_visible(surveys_visible_to(user), HouseholdSurvey.id, survey_id, _("No such survey."))


# --- the judgement ------------------------------------------------------------------------------

def _judged(figures, area, day):
    """(Judgement, standard's effective_from) of ``figures`` on ``day`` with the bureau's settings."""
    standard_fen, effective_from = standard_on(area, day)
    settings = settings_for(current_tenant_id())
    return judge(figures, standard_fen, settings.get("marginal_factor_percent", 150),
                 settings.get("asset_tests") or {}), effective_from


def _store_judgement(survey, judgement, effective_from):
    survey.per_capita_income_fen, survey.standard_fen = judgement.per_capita_income_fen, judgement.standard_fen
    survey.marginal_limit_fen, survey.outcome = judgement.marginal_limit_fen, judgement.outcome
    survey.standard_effective_from, survey.reasons = effective_from, [dict(r) for r in judgement.reasons]


def _stored_figures(survey):
    return Figures(members=len(survey.members), annual_income_fen=sum(i.annual_fen for i in survey.incomes),
                   deductions_fen=sum(e.annual_fen for e in survey.expenses), deposits_fen=survey.deposits_fen,
                   dwellings=survey.dwellings, vehicles=survey.vehicles, supported=survey.kind == "review")


def judgement_for(survey):
    """``(Judgement, standard's effective_from)`` of ``survey`` from its stored rows and the standard
    in force on its day now, storing nothing: what judge_survey (at sign-off) will store."""
    return _judged(_stored_figures(survey), survey.area, to_local(survey.surveyed_at).date())


def judge_survey(survey):
    """Judge ``survey`` again from its stored rows and the standard in force on its day (the
    standard may have been recorded since); stores the judgement columns and returns it."""
    figures = _stored_figures(survey)
    judgement, effective_from = judgement_for(survey)
    survey.members_count, survey.annual_income_fen = figures.members, figures.annual_income_fen
    survey.deductions_fen = figures.deductions_fen
    _store_judgement(survey, judgement, effective_from)
    return judgement


# --- reading the household ----------------------------------------------------------------------

def _filled(text, field, errors):
    """``text`` stripped; a text of blanks only is refused on ``field`` (the schema counts spaces)."""
    if not text.strip():
        errors[field] = [_("Fill this in: blanks alone are not enough.")]
    return text.strip()


def _members(payload, day, errors):
    """SurveyMember rows of the body's members (ID numbers checked, encrypted, hashed, masked)."""
    rows, seen, applicants = [], set(), 0
    for position, member in enumerate(payload["members"]):
        name = _filled(member["name"], f"members.{position}.name", errors)
        applicants += member["relation"] == "self"
        if member["relation"] == "self" and applicants > 1:  # relations are to the one applicant
            errors[f"members.{position}.relation"] = [_("Only one member is the applicant; give this one's "
                                                        "relation to the applicant.")]
        field = f"members.{position}.id_number"
        try:
            number = validate_id_number(member["id_number"])
        except InvalidIdentifier as exc:
            errors[field] = [exc.message]
            continue
        if birth_date(number) > day:
            errors[field] = [_("This member was born after the survey's day.")]
            continue
        if number in seen:
            errors[field] = [_("This ID number is given for another member too.")]
            continue
        seen.add(number)
        rows.append(SurveyMember(position=position, name=name, relation=member["relation"],
                                 id_number_encrypted=encrypt(number), id_number_hash=keyed_hash(number),
                                 id_number_masked=mask_id_number(number), age=age_on(number, day),
                                 work_ability=member["work_ability"], disability_grade=member["disability_grade"]))
    return rows


def _incomes(payload, errors):
    rows = []
    for index, income in enumerate(payload["incomes"]):
        member = income.get("member")
        if member is not None and member >= len(payload["members"]):
            errors[f"incomes.{index}.member"] = [_("No member has this index.")]
        annual = income["amount_fen"] * (12 if income["period"] == "monthly" else 1)
        rows.append(SurveyIncome(member_position=member, kind=income["kind"], period=income["period"],
                                 amount_fen=income["amount_fen"], annual_fen=annual,
                                 note=(income.get("note") or "").strip()))
    if sum(row.annual_fen for row in rows) > MAX_FEN:
        errors["incomes"] = [_("The incomes add up to more than can be recorded; check the amounts.")]
    return rows


def _expenses(payload, errors):
    rows = [SurveyExpense(kind=e["kind"], annual_fen=e["annual_fen"], note=(e.get("note") or "").strip())
            for e in payload["expenses"]]
    if sum(row.annual_fen for row in rows) > MAX_FEN:
        errors["expenses"] = [_("The expenses add up to more than can be recorded; check the amounts.")]
    return rows


def _interviews(payload, now, errors):
    rows = []
    for index, interview in enumerate(payload["interviews"]):
        neighbour = _filled(interview["neighbour"], f"interviews.{index}.neighbour", errors)
        statement = _filled(interview["statement"], f"interviews.{index}.statement", errors)
        field = f"interviews.{index}.interviewed_at"
        try:
            at = visits.checked_time(interview["interviewed_at"], field)
        except DomainError as exc:
            errors.update(exc.errors)
            continue
        if at > now + CLOCK_SKEW:
            errors[field] = [_("The interview time is in the future; check the phone's clock.")]
            continue
        rows.append(SurveyInterview(neighbour=neighbour, interviewed_at=at, statement=statement))
    return rows


# --- recording ----------------------------------------------------------------------------------

def _by_client_id(client_id):
    return db.session.execute(select(HouseholdSurvey).where(HouseholdSurvey.client_id == client_id)
                              ).scalar_one_or_none()


def _replay(existing, user, digest):
    """A client id seen before: the same surveyor and body → the stored survey; otherwise 409."""
    return visits.replay(existing, "surveyor_user_id", user, digest,
                         _("This client_id was already used for a different survey."))


def survey_item(user, beneficiary_id, day):
    """The service item (of unit "household_survey") under which ``user`` surveys the family on
    ``day``: the family must be assigned to ``user`` on a survey contract of their contractor
    (NotFound otherwise, also when assigned to a colleague only) and that assignment must cover
    the survey's day — a survey dated before the family was assigned, or after it ended, is
    refused (422 on "surveyed_at"), never paid under a contract that did not cover it."""
    item, current = assigned_item(user, beneficiary_id, day, SURVEY_UNIT)
    if not current:
        _refuse("surveyed_at", _("The family was not assigned to you for surveys on %(day)s; check the survey's "
                                 "date.", day=day.isoformat()))
    return item


def _visit_payload(client_id, payload, item_code, lat, lon, accuracy, user_id):
    """The home visit's body; without a device id the surveyor's own stands in (never one shared by
    every surveyor, which V10 would take for a shared phone)."""
    point = {"at": payload["surveyed_at"], "lat": lat, "lon": lon}
    return {"client_id": visit_client_id(client_id), "beneficiary_id": payload["beneficiary_id"],
            "service_item": item_code, "device_id": payload.get("device_id") or f"survey:{user_id}",
            "check_in": {**point, "accuracy_m": accuracy}, "check_out": point}


def record_survey(payload, user, now, *, source="app"):
    """Store one survey as sent by a surveyor; returns ``(survey, created)``.

    The client id makes uploads idempotent: the same id with the same body (SHA-256 of its canonical
    JSON) returns the stored survey; with a different body, or from another surveyor, it is a
    Conflict — also when two uploads race on the unique (bureau, client id). The family must be
    assigned to the surveyor on a survey contract of their contractor (else NotFound); the bureau
    must have a standard for the area on the survey's day (else 422). The home visit is recorded
    with it, and ``survey_recorded`` is sent for a new survey."""
    if not isinstance(payload, dict):
        _refuse("body", _("The survey must be a JSON object."))
    _checked_schema(payload)
    try:
        client_id = str(uuid.UUID(payload["client_id"]))
    except ValueError:
        _refuse("client_id", _("Give the client id as a UUID."))
    at = visits.checked_time(payload["surveyed_at"], "surveyed_at")
    if at > now + CLOCK_SKEW:
        _refuse("surveyed_at", _("The survey time is in the future; check the phone's clock."))
    _at, lat, lon, accuracy = visits.checked_point(
        {"at": payload["surveyed_at"], "lat": payload["lat"], "lon": payload["lon"],
         "accuracy_m": payload.get("accuracy_m")}, "", accuracy=True)
    day = to_local(at).date()
    errors = {}
    members = _members(payload, day, errors)
    incomes, expenses = _incomes(payload, errors), _expenses(payload, errors)
    interviews = _interviews(payload, now, errors)
    if errors:
        raise DomainError(_("The request body is not valid."), errors)
    digest = visits.body_hash(payload)
    if current_tenant_id() is None:
        raise TenancyError("Survey created outside a tenant scope")
    existing = _by_client_id(client_id)
    if existing is not None:
        return _replay(existing, user, digest)
    item = survey_item(user, payload["beneficiary_id"], day)
    assets = payload["assets"]
    figures = Figures(members=len(members), annual_income_fen=sum(i.annual_fen for i in incomes),
                      deductions_fen=sum(e.annual_fen for e in expenses), deposits_fen=assets["deposits_fen"],
                      dwellings=assets["dwellings"], vehicles=assets["vehicles"], supported=payload["kind"] == "review")
    judgement, effective_from = _judged(figures, payload["area"], day)
    visit, visit_created = visits.record_visit(_visit_payload(client_id, payload, item.code, lat, lon, accuracy, user.id),
                                               user, now, source=source)
    if visit_created and not visit.notes:
        # the worker's notes (with the reason for a check-in far from the home) on the home visit too,
        # for the supervisor deciding its V02; set after the visit's body hash, which stays as sent
        visit.notes = (payload.get("notes") or "").strip()
    survey = HouseholdSurvey(
        client_id=client_id, body_hash=digest, kind=payload["kind"], category=payload["category"],
        area=payload["area"], contract_id=visit.contract_id, contractor_id=user.contractor_id,
        beneficiary_id=payload["beneficiary_id"], surveyor_user_id=user.id, staff_id=visit.staff_id,
        visit_id=visit.id, surveyed_at=at, lat=lat, lon=lon, distance_from_home_m=visit.distance_from_home_m,
        notes=(payload.get("notes") or "").strip(), source=source, received_at=now,
        deposits_fen=assets["deposits_fen"], dwellings=assets["dwellings"],
        housing_area_m2=assets["housing_area_m2"], vehicles=assets["vehicles"], members_count=figures.members,
        annual_income_fen=figures.annual_income_fen, deductions_fen=figures.deductions_fen, status="recorded",
        members=members, incomes=incomes, expenses=expenses, interviews=interviews)
    _store_judgement(survey, judgement, effective_from)
    survey, created = visits.add_once(survey, lambda: _replay(_by_client_id(client_id), user, digest))
    if created:
        signals.survey_recorded.send(survey)
    return survey, created


# --- the survey as JSON -------------------------------------------------------------------------

def _iso(moment):
    return to_local(moment).isoformat() if moment is not None else None


def reasons_text(survey):
    """The survey's reasons in the current language."""
    return [reason_text(reason) for reason in survey.reasons or []]


def survey_json(survey):
    """A survey as the API answers it: the family's masked name, the figures of the judgement and its
    reasons in words; never a member's name or ID number."""
    return {
        "id": survey.id, "client_id": survey.client_id, "status": survey.status, "kind": survey.kind,
        "category": survey.category, "area": survey.area,
        "beneficiary": {"id": survey.beneficiary_id, "display_name": mask_name(survey.beneficiary.name)},
        "contract_id": survey.contract_id, "visit_id": survey.visit_id, "surveyed_at": _iso(survey.surveyed_at),
        "members": survey.members_count, "annual_income_fen": survey.annual_income_fen,
        "deductions_fen": survey.deductions_fen, "per_capita_income_fen": survey.per_capita_income_fen,
        "standard_fen": survey.standard_fen, "marginal_limit_fen": survey.marginal_limit_fen,
        "outcome": survey.outcome, "reasons": reasons_text(survey), "received_at": _iso(survey.received_at),
    }
