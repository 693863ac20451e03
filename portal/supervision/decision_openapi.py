"""The answer and decision endpoints of supervision/decision_api.py in the OpenAPI document."""
from portal.api.openapi import PATHS, _json, _problem
from portal.supervision.api_openapi import VISIT
from portal.supervision.exceptions import RESPONSE_REASONS
from portal.supervision.visit_models import EXCEPTION_CODES, EXCEPTION_STATUSES

_ID = {"type": "integer"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_TEXT = {"type": "string"}
EXCEPTION = {
    "type": "object", "required": ["id", "code", "message", "status", "visit_id", "visit_status", "next"],
    "properties": {
        "id": _ID, "code": {"type": "string", "enum": list(EXCEPTION_CODES)}, "message": _TEXT,
        "status": {"type": "string", "enum": list(EXCEPTION_STATUSES)}, "warning": {"type": "boolean"},
        "visit_id": _ID, "visit_status": _TEXT,
        "answer": {"type": ["object", "null"], "properties": {"reason_code": _TEXT, "note": _TEXT,
                                                              "answered_at": _TIME}},
        "decision": {"type": ["object", "null"], "properties": {"status": _TEXT, "note": _TEXT,
                                                                "decided_at": _TIME}},
        "next": {"type": "string", "description": "Whose move it is, in the caller's language"}},
}
ANSWER = {"type": "object", "required": ["reason_code"], "properties": {
    "reason_code": {"type": "string", "enum": list(RESPONSE_REASONS)},
    "note": {"type": ["string", "null"], "maxLength": 4000, "description": "Required with the reason code other"}}}
DECISION = {"type": "object", "required": ["decision"], "properties": {
    "decision": {"type": "string", "enum": ["accept", "reject"]},
    "note": {"type": ["string", "null"], "maxLength": 2000}}}
_EXCEPTION_ID = {"name": "exception_id", "in": "path", "required": True, "schema": _ID}
_COMMON = {"401": _problem("Not signed in"), "403": _problem("Role not allowed")}
_WRITE = {**_COMMON, "400": _problem("Malformed JSON"), "415": _problem("Not JSON")}


def _body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


PATHS["/api/v1/exceptions/{exception_id}"] = {"get": {
    "summary": "One visit exception with its answer, decision and whose move it is (bureau readers, the "
               "contract's manager)", "tags": ["exceptions"], "parameters": [_EXCEPTION_ID],
    "responses": {"200": _json("The exception", EXCEPTION), **_COMMON,
                  "404": _problem("No such exception for the caller")}}}
PATHS["/api/v1/exceptions/{exception_id}/answer"] = {"post": {
    "summary": "The contract's manager answers an open exception with a reason code", "tags": ["exceptions"],
    "description": "A wrong reason code is refused with 422; its message lists the reason codes. A V01 answer "
                   "is recorded, but V01 is never accepted.",
    "parameters": [_EXCEPTION_ID], "requestBody": _body(ANSWER),
    "responses": {"200": _json("The exception, answered", EXCEPTION), **_WRITE,
                  "404": _problem("Another contractor's or bureau's exception"),
                  "409": _problem("The exception is no longer open"),
                  "422": _problem("Unknown reason code (the codes are listed), or no note with other")}}}
PATHS["/api/v1/exceptions/{exception_id}/decision"] = {"post": {
    "summary": "A supervisor accepts or rejects an exception", "tags": ["exceptions"],
    "description": "Accept resolves the exception (the visit is verified once nothing blocking is left); reject "
                   "rejects the visit. V01 (work by someone on no roster: subcontracting) is never accepted: "
                   "409; rejecting it confirms the violation.",
    "parameters": [_EXCEPTION_ID], "requestBody": _body(DECISION),
    "responses": {"200": _json("The exception, decided", EXCEPTION), **_WRITE,
                  "404": _problem("Another bureau's exception"),
                  "409": _problem("Already decided, or an acceptance of V01"),
                  "422": _problem("decision is not accept or reject")}}}
PATHS["/api/v1/visits/{visit_id}/corrections/{correction_id}/decision"] = {"post": {
    "summary": "A supervisor accepts or rejects a contractor's pending time correction", "tags": ["visits"],
    "description": "Until accepted, the rules judge the times in force and the findings the correction would "
                   "clear stay open; on acceptance they run again with the corrected times; a rejection "
                   "changes nothing else.",
    "parameters": [{"name": "visit_id", "in": "path", "required": True, "schema": _ID},
                   {"name": "correction_id", "in": "path", "required": True, "schema": _ID}],
    "requestBody": _body(DECISION),
    "responses": {"200": _json("The visit", VISIT), **_WRITE, "404": _problem("No such visit or correction"),
                  "409": _problem("The correction has already been decided"),
                  "422": _problem("decision is not accept or reject")}}}
