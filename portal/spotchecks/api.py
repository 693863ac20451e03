"""JSON endpoints of spot checks (docs/API.md): a contract's sample of one month, and the
outcome of one check. The list never carries a phone number or a beneficiary's name."""
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.body import ValidationFailed, json_body
from portal.contracts.models import Contract
from portal.core import query
from portal.core.auth import capability_required
from portal.core.errors import NotFound
from portal.core.openapi import json_response, operation, problem
from portal.core.timeutil import to_local, utcnow
from portal.extensions import db
from portal.spotchecks import services as spotchecks
from portal.spotchecks.blueprint import api_bp
from portal.spotchecks.models import SPOT_CHECK_METHODS, SPOT_CHECK_OUTCOMES
from portal.visits.reports import worker_name

OUTCOME_SCHEMA = {
    "type": "object", "required": ["method", "outcome"],
    "properties": {
        "method": {"type": "string", "enum": list(SPOT_CHECK_METHODS)},
        "outcome": {"type": "string", "enum": list(SPOT_CHECK_OUTCOMES)},
        "satisfaction": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        "complaint": {"type": ["string", "null"], "maxLength": spotchecks.TEXT_LIMIT},
        "reason": {"type": ["string", "null"], "maxLength": spotchecks.TEXT_LIMIT,
                   "description": "Why the visit was not confirmed (recorded as the rejection reason)"},
    },
}

# The OpenAPI description of a check and of the answers shared by the routes below.
_INTEGER, _TEXT = {"type": "integer"}, {"type": "string"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
CHECK = {"type": "object", "required": ["id", "visit_id", "worker", "method", "outcome", "satisfaction"],
         "properties": {
             "id": _INTEGER, "visit_id": _INTEGER, "worker": _TEXT,
             "method": {"type": "string", "enum": list(SPOT_CHECK_METHODS)},
             "outcome": {"type": ["string", "null"], "enum": [*SPOT_CHECK_OUTCOMES, None],
                         "description": "null until decided; unreachable after the third unreachable try"},
             "satisfaction": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
             "attempts": {"type": "array", "items": {"type": "object", "properties": {
                 "at": _TIME, "method": _TEXT, "reached": {"type": "boolean"}}}},
             "unreachable_tries": _INTEGER, "complaint": _TEXT, "rejection_reason": _TEXT, "completed_at": _TIME,
             "visit_check_in": _TIME, "service_item": _TEXT, "visit_status": _TEXT,
             "penalised": {"type": "boolean"}}}
_COMMON = {"401": problem("Not signed in"), "403": problem("Role not allowed")}


def _iso(moment):
    return to_local(moment).isoformat() if moment is not None else None


def check_json(check):
    """One check as the API shows it: no phone, no name of the person visited."""
    visit = check.visit
    return {"id": check.id, "visit_id": check.visit_id, "worker": worker_name(visit), "method": check.method,
            "outcome": check.outcome, "satisfaction": check.satisfaction,
            "attempts": [{"at": _iso(a.attempted_at), "method": a.method, "reached": a.reached}
                         for a in check.attempts],
            "unreachable_tries": spotchecks.unreachable_tries(check), "complaint": check.complaint or "",
            "rejection_reason": check.rejection_reason or "", "completed_at": _iso(check.completed_at),
            "visit_check_in": _iso(visit.check_in_at), "service_item": visit.service_item.code,
            "visit_status": visit.status, "penalised": visit.penalised}


def _contract_arg():
    """The required contract_id (core/query.py: ids are 1 … 2³¹−1)."""
    message = _("Give the contract's id.")
    contract_id = query.id_arg("contract_id", message)
    if contract_id is None:
        raise ValidationFailed(message, {"contract_id": [message]})
    return contract_id


@api_bp.get("/spot-checks")
@operation({
    "summary": "A contract's spot-check sample of one month (supervisor, auditor); no phone numbers",
    "tags": ["spot checks"],
    "parameters": [{"name": "contract_id", "in": "query", "required": True, "schema": _INTEGER},
                   {"name": "month", "in": "query", "required": True,
                    "schema": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"}}],
    "responses": {"200": json_response("The sample", {"type": "object", "required": ["seed", "rate", "items"],
                                                      "properties": {
        "contract_id": _INTEGER, "month": _TEXT, "seed": _TEXT,
        "rate": {"type": "number", "description": "The sampling rate as a fraction (0.05 = 5 %)"},
        "rate_permille": _INTEGER, "population": _INTEGER, "drawn_at": _TIME,
        "items": {"type": "array", "items": CHECK}}}),
        **_COMMON, "404": problem("No such contract for the caller, or no sample drawn for that month"),
        "422": problem("Missing or bad contract_id or month")}})
@capability_required("spotcheck.read_api")
def list_spot_checks():
    """The month's sample of one contract: its seed and rate, and every check in it."""
    contract_id = _contract_arg()
    month = query.month_arg(required=True)
    if db.session.get(Contract, contract_id) is None:
        raise NotFound(_("No such contract."))
    sample = spotchecks.find_sample(contract_id, month)
    if sample is None:
        raise NotFound(_("No sample has been drawn for this contract and month."))
    return jsonify({"contract_id": contract_id, "month": sample.month, "seed": sample.seed,
                    "rate": sample.rate_permille / 1000, "rate_permille": sample.rate_permille,
                    "population": sample.population, "drawn_at": _iso(sample.drawn_at),
                    "items": [check_json(check) for check in sample.checks]})


@api_bp.post("/spot-checks/<int:check_id>/outcome")
@operation({
    "summary": "Record what one try of a spot check found (supervisor); not confirmed rejects the visit",
    "tags": ["spot checks"],
    "parameters": [{"name": "check_id", "in": "path", "required": True, "schema": _INTEGER}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": OUTCOME_SCHEMA}}},
    "responses": {"200": json_response("The check", CHECK), **_COMMON, "400": problem("Malformed JSON"),
                  "404": problem("No such spot check for the caller"),
                  "409": problem("The check has already been decided"), "415": problem("Not JSON"),
                  "422": problem("Invalid body")}})
@capability_required("spotcheck.check")
def spot_check_outcome(check_id):
    """Record what one try found; "unreachable" records a try (the third decides the check)."""
    check = spotchecks.get_check(check_id)
    payload = json_body(OUTCOME_SCHEMA)
    satisfaction = payload.get("satisfaction")
    if isinstance(satisfaction, float) and satisfaction.is_integer():
        satisfaction = int(satisfaction)
    spotchecks.record_outcome(check, method=payload["method"], outcome=payload["outcome"], user=current_user,
                              satisfaction=satisfaction, complaint=payload.get("complaint") or "",
                              reason=payload.get("reason") or "", now=utcnow())
    return jsonify(check_json(check))
