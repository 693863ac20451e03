"""JSON endpoints of household economic surveys (under /api/v1): recording from the phone or the
field web app, one survey, and the month's signed-off surveys in docs/API.md's fixed shape. The
rules live in surveys/recording.py; these views parse the request and shape the answer."""
from flask import jsonify, request, url_for
from flask_login import current_user

from portal.api.body import json_body
from portal.core import query
from portal.core.auth import capability_required
from portal.core.months import month_bounds
from portal.core.openapi import json_response, operation, problem
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.surveys import recording
from portal.surveys.blueprint import api_bp
from portal.surveys.models import AREAS, CATEGORIES, KINDS, OUTCOMES, SURVEY_STATUSES, HouseholdSurvey
from portal.visits.api_schemas import COMMON, ID, TIME, WRITE, request_body

_FEN = {"type": "integer", "description": "fen"}
_OUTCOME = {"type": "string", "enum": list(OUTCOMES)}
_REASONS = {"type": "array", "items": {"type": "string"},
            "description": "Each rule that decided the outcome, with its numbers, in the caller's language"}
SURVEY = {
    "type": "object",
    "required": ["id", "client_id", "status", "kind", "category", "area", "beneficiary", "members",
                 "per_capita_income_fen", "standard_fen", "outcome", "reasons"],
    "properties": {
        "id": ID, "client_id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": list(SURVEY_STATUSES)},
        "kind": {"type": "string", "enum": list(KINDS)}, "category": {"type": "string", "enum": list(CATEGORIES)},
        "area": {"type": "string", "enum": list(AREAS)},
        "beneficiary": {"type": "object", "required": ["id", "display_name"], "properties": {
            "id": ID, "display_name": {"type": "string", "description": "The masked name (张*丰)"}}},
        "contract_id": ID, "visit_id": {"type": ["integer", "null"]}, "surveyed_at": TIME,
        "members": {"type": "integer", "description": "How many members the household has"},
        "annual_income_fen": _FEN, "deductions_fen": _FEN, "per_capita_income_fen": _FEN, "standard_fen": _FEN,
        "marginal_limit_fen": _FEN, "outcome": _OUTCOME, "reasons": _REASONS, "received_at": TIME,
    },
}
MONTH_ITEM = {
    "type": "object",
    "required": ["id", "category", "members", "per_capita_income_fen", "standard_fen", "outcome", "reasons"],
    "properties": {"id": ID, "category": {"type": "string", "enum": list(CATEGORIES)}, "members": ID,
                   "per_capita_income_fen": _FEN, "standard_fen": _FEN, "outcome": _OUTCOME, "reasons": _REASONS},
}
SURVEY_ID = {"name": "survey_id", "in": "path", "required": True, "schema": ID}


def _source():
    """The field web app says so in a header (as for visits); everything else is the phone app."""
    return "web" if request.headers.get("X-Visit-Source", "").strip().lower() == "web" else "app"


@api_bp.post("/surveys")
@operation({
    "summary": "Record a household economic survey at the family's home (surveyor); the client_id makes the "
               "upload idempotent", "tags": ["surveys"],
    "description": "Records the home visit too (checked like any visit: roster, geofence, eligibility) and judges "
                   "the household against the minimum living standard in force on the survey's day. Send header "
                   "X-Visit-Source: web from the field web app.",
    "requestBody": request_body(recording.SURVEY_SCHEMA),
    "responses": {"201": json_response("Recorded and judged", SURVEY),
                  "200": json_response("The same client_id and body again", SURVEY), **WRITE,
                  "404": problem("The family is not assigned to the surveyor on a survey contract of their contractor"),
                  "409": problem("The same client_id with a different body, or from another surveyor")}})
@capability_required("survey.record")
def create_survey():
    """Record one survey; the same client_id and body again answers 200 with the same one."""
    payload = json_body({"type": "object"})  # the survey's own schema is checked by record_survey
    survey, created = recording.record_survey(payload, current_user, utcnow(), source=_source())
    response = jsonify(recording.survey_json(survey))
    response.status_code = 201 if created else 200
    if created:
        response.headers["Location"] = url_for(".get_survey", survey_id=survey.id)
    return response


@api_bp.get("/surveys/<int:survey_id>")
@operation({
    "summary": "One household survey (its surveyor, the contractor's manager, bureau readers)", "tags": ["surveys"],
    "parameters": [SURVEY_ID],
    "responses": {"200": json_response("The survey", SURVEY), **COMMON,
                  "404": problem("No such survey for the caller")}})
@capability_required("survey.read")
def get_survey(survey_id):
    return jsonify(recording.survey_json(recording.visible_survey(survey_id, current_user)))


@api_bp.get("/surveys")
@operation({
    "summary": "The month's signed-off household surveys the caller may see (bureau readers all, a contractor's "
               "manager its own, a surveyor their own), all of them in one answer", "tags": ["surveys"],
    "parameters": [
        {"name": "month", "in": "query", "required": True, "schema": query.MONTH_SCHEMA,
         "description": "YYYY-MM of the survey's day (Beijing time)"}],
    "responses": {"200": json_response("The month's signed-off surveys", {
        "type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": MONTH_ITEM}}}),
        **COMMON, "422": problem("No month, or not YYYY-MM")}})
@capability_required("survey.read")
def list_surveys():
    """The month's signed-off surveys, oldest first, exactly as docs/API.md fixes them: every one
    of the month in ``items`` (a client reading only ``items`` misses none), no name, no ID number,
    no money but the per-capita income and the standard."""
    start, end = month_bounds(query.month_arg(required=True))
    surveys = db.session.execute(
        recording.surveys_visible_to(current_user)
        .where(HouseholdSurvey.status == "signed_off", HouseholdSurvey.surveyed_at >= start,
               HouseholdSurvey.surveyed_at < end)
        .order_by(HouseholdSurvey.surveyed_at, HouseholdSurvey.id)).scalars()
    return jsonify({"items": [
        {"id": s.id, "category": s.category, "members": s.members_count,
         "per_capita_income_fen": s.per_capita_income_fen, "standard_fen": s.standard_fen,
         "outcome": s.outcome, "reasons": recording.reasons_text(s)} for s in surveys]})
