"""JSON endpoints of the decisions on a visit (docs/API.md): the contractor's manager answers
an exception, a supervisor decides it (never an acceptance of V01), and a supervisor decides a
contractor's time correction. The rules live in visits/exceptions.py, unlisted.py and
corrections.py; another bureau's or another contractor's exception is not found (404)."""
from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user

from portal.api.body import json_body, ValidationFailed
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.openapi import json_response, operation, problem
from portal.core.timeutil import to_local, utcnow
from portal.visits import corrections, exceptions, recording
from portal.visits.api import visit_json
from portal.visits.api_schemas import (ANSWER, COMMON, DECISION, DECISION_WRITE, EXCEPTION, EXCEPTION_ID, ID,
                                       request_body, VISIT)
from portal.visits.blueprint import api_bp
from portal.visits.forms import next_move

ANSWER_SCHEMA = {"type": "object", "required": ["reason_code"], "additionalProperties": False, "properties": {
    "reason_code": {"type": "string", "maxLength": 32},
    "note": {"type": ["string", "null"], "maxLength": 4000}}}
DECISION_SCHEMA = {"type": "object", "required": ["decision"], "additionalProperties": False, "properties": {
    "decision": {"type": "string", "maxLength": 16},
    "note": {"type": ["string", "null"], "maxLength": 2000}}}


def _iso(moment):
    return to_local(moment).isoformat() if moment is not None else None


def exception_json(exception):
    """One exception with its answer, its decision and whose move it is."""
    answered = exception.responded_at is not None
    decided = exception.decided_at is not None
    return {"id": exception.id, "code": exception.code, "message": exception.message, "status": exception.status,
            "warning": exception.warning, "visit_id": exception.visit_id, "visit_status": exception.visit.status,
            "answer": {"reason_code": exception.response_reason, "note": exception.response_text,
                       "answered_at": _iso(exception.responded_at)} if answered else None,
            "decision": {"status": exception.status, "note": exception.decision_note,
                         "decided_at": _iso(exception.decided_at)} if decided else None,
            "next": str(next_move(exception))}


def _choice(payload, field, choices):
    value = payload.get(field)
    if value not in choices:
        message = _("Choose one of: %(choices)s.", choices=", ".join(choices))
        raise ValidationFailed(message, {field: [message]})
    return value


@api_bp.get("/exceptions/<int:exception_id>")
@operation({
    "summary": "One visit exception with its answer, decision and whose move it is (bureau readers, the "
               "contract's manager)", "tags": ["exceptions"], "parameters": [EXCEPTION_ID],
    "responses": {"200": json_response("The exception", EXCEPTION), **COMMON,
                  "404": problem("No such exception for the caller")}})
@capability_required("exception.read")
def get_exception(exception_id):
    return jsonify(exception_json(exceptions.get_exception(exception_id, current_user)))


@api_bp.post("/exceptions/<int:exception_id>/answer")
@operation({
    "summary": "The contract's manager answers an open exception with a reason code", "tags": ["exceptions"],
    "description": "A wrong reason code is refused with 422; its message lists the reason codes. A V01 answer "
                   "is recorded, but V01 is never accepted.",
    "parameters": [EXCEPTION_ID], "requestBody": request_body(ANSWER),
    "responses": {"200": json_response("The exception, answered", EXCEPTION), **DECISION_WRITE,
                  "404": problem("Another contractor's or bureau's exception"),
                  "409": problem("The exception is no longer open"),
                  "422": problem("Unknown reason code (the codes are listed), or no note with other")}})
@capability_required("exception.answer")
def answer_exception(exception_id):
    """The contract's manager answers an open exception with a reason code (listed in the 422)."""
    found = exceptions.get_exception(exception_id, current_user)
    payload = json_body(ANSWER_SCHEMA)
    reason = _choice(payload, "reason_code", tuple(exceptions.RESPONSE_REASONS))
    try:
        exceptions.respond(found, reason=reason, text=payload.get("note") or "", user=current_user, now=utcnow())
    except DomainError as exc:
        if exc.errors:  # the service names the web form's fields
            names = {"reason": "reason_code", "text": "note"}
            exc.errors = {names.get(key, key): value for key, value in exc.errors.items()}
        raise
    return jsonify(exception_json(found))


@api_bp.post("/exceptions/<int:exception_id>/decision")
@operation({
    "summary": "A supervisor accepts or rejects an exception", "tags": ["exceptions"],
    "description": "Accept resolves the exception (the visit is verified once nothing blocking is left); reject "
                   "rejects the visit. V01 (work by someone on no roster: subcontracting) is never accepted: "
                   "409; rejecting it confirms the violation.",
    "parameters": [EXCEPTION_ID], "requestBody": request_body(DECISION),
    "responses": {"200": json_response("The exception, decided", EXCEPTION), **DECISION_WRITE,
                  "404": problem("Another bureau's exception"),
                  "409": problem("Already decided, or an acceptance of V01"),
                  "422": problem("decision is not accept or reject")}})
@capability_required("exception.decide")
def decide_exception(exception_id):
    """A supervisor accepts or rejects an exception; accepting V01 is refused (409)."""
    found = exceptions.get_exception(exception_id, current_user)
    payload = json_body(DECISION_SCHEMA)
    decision = _choice(payload, "decision", tuple(exceptions.DECIDE))
    exceptions.DECIDE[decision](found, current_user, payload.get("note") or "", utcnow())
    return jsonify(exception_json(found))


@api_bp.post("/visits/<int:visit_id>/corrections/<int:correction_id>/decision")
@operation({
    "summary": "A supervisor accepts or rejects a contractor's pending time correction", "tags": ["visits"],
    "description": "Until accepted, the rules judge the times in force and the findings the correction would "
                   "clear stay open; on acceptance they run again with the corrected times; a rejection "
                   "changes nothing else.",
    "parameters": [{"name": "visit_id", "in": "path", "required": True, "schema": ID},
                   {"name": "correction_id", "in": "path", "required": True, "schema": ID}],
    "requestBody": request_body(DECISION),
    "responses": {"200": json_response("The visit", VISIT), **DECISION_WRITE, "404": problem("No such visit or correction"),
                  "409": problem("The correction has already been decided"),
                  "422": problem("decision is not accept or reject")}})
@capability_required("correction.decide")
def decide_correction(visit_id, correction_id):
    """A supervisor accepts (the rules run again with the corrected times) or rejects a correction."""
    visit = recording.visible_visit(visit_id, current_user)
    found = corrections.get_correction(visit, correction_id)
    payload = json_body(DECISION_SCHEMA)
    decision = _choice(payload, "decision", corrections.DECISIONS)
    corrections.decide(found, decision, current_user, payload.get("note") or "", utcnow())
    return jsonify(visit_json(visit))

