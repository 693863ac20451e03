"""The OpenAPI schemas of the visits API (docs/API.md): a visit, an exception, an answer, a decision
and the answers the routes share. The operations are declared beside their routes (api.py,
decision_api.py) with ``operation`` (portal/core/openapi.py)."""
from portal.core.openapi import problem
from portal.visits.exceptions import RESPONSE_REASONS
from portal.visits.models import EXCEPTION_CODES, EXCEPTION_STATUSES, VISIT_STATUSES

ID = {"type": "integer"}
TIME = {"type": "string", "format": "date-time"}
_POINT = {"type": "object", "required": ["at", "lat", "lon"],
          "properties": {"at": TIME, "lat": {"type": "number"}, "lon": {"type": "number"}}}
VISIT = {
    "type": "object",
    "required": ["id", "client_id", "status", "exceptions", "beneficiary", "service_item", "check_in", "check_out",
                 "distance_from_home_m", "recorded_live", "photos"],
    "properties": {
        "id": ID, "client_id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": list(VISIT_STATUSES)},
        "exceptions": {"type": "array", "items": {"type": "object", "required": ["id", "code", "message", "status"],
                                                  "properties": {
            "id": ID, "code": {"type": "string"}, "message": {"type": "string"}, "warning": {"type": "boolean"},
            "status": {"type": "string", "enum": list(EXCEPTION_STATUSES)}}}},
        "beneficiary": {"type": "object", "required": ["id", "display_name"], "properties": {
            "id": ID, "display_name": {"type": "string", "description": "The masked name (张*丰)"}}},
        "contract_id": ID, "service_item": {"type": "string"}, "device_id": {"type": "string"},
        "source": {"type": "string", "enum": ["app", "web", "manual"]},
        "check_in": {"type": "object", "properties": {**_POINT["properties"],
                                                       "accuracy_m": {"type": ["number", "null"]}}},
        "check_out": {"oneOf": [_POINT, {"type": "null"}]},
        "adjusted_check_in": TIME, "adjusted_check_out": TIME,
        "correction": {"type": "object", "description": "The correction standing: accepted (in force) or pending "
                                                        "(waiting for a supervisor; not in force)",
                       "properties": {"id": ID, "reason_code": {"type": "string"}, "note": {"type": "string"},
                                      "made_at": TIME, "status": {"type": "string", "enum": ["pending", "accepted"]},
                                      "decided_at": {"type": ["string", "null"], "format": "date-time"}}},
        "services": {"type": "array", "items": {"type": "string"}}, "notes": {"type": "string"},
        "distance_from_home_m": {"type": ["integer", "null"]}, "recorded_live": {"type": "boolean"},
        "received_at": TIME, "photos": {"type": "array", "items": ID},
    },
}
VISIT_ID = {"name": "visit_id", "in": "path", "required": True, "schema": ID}
COMMON = {"401": problem("Not signed in"), "403": problem("Role not allowed")}
WRITE = {**COMMON, "400": problem("Malformed JSON"), "415": problem("Not JSON"),
          "422": problem("Invalid body")}


def request_body(schema):
    """A required application/json request body with ``schema``."""
    return {"required": True, "content": {"application/json": {"schema": schema}}}


# --- exceptions, answers and decisions (decision_api.py) ---------------------------------------

_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_TEXT = {"type": "string"}
EXCEPTION = {
    "type": "object", "required": ["id", "code", "message", "status", "visit_id", "visit_status", "next"],
    "properties": {
        "id": ID, "code": {"type": "string", "enum": list(EXCEPTION_CODES)}, "message": _TEXT,
        "status": {"type": "string", "enum": list(EXCEPTION_STATUSES)}, "warning": {"type": "boolean"},
        "visit_id": ID, "visit_status": _TEXT,
        "answer": {"type": ["object", "null"], "properties": {"reason_code": _TEXT, "note": _TEXT,
                                                              "answered_at": _NULLABLE_TIME}},
        "decision": {"type": ["object", "null"], "properties": {"status": _TEXT, "note": _TEXT,
                                                                "decided_at": _NULLABLE_TIME}},
        "next": {"type": "string", "description": "Whose move it is, in the caller's language"}},
}
ANSWER = {"type": "object", "required": ["reason_code"], "properties": {
    "reason_code": {"type": "string", "enum": list(RESPONSE_REASONS)},
    "note": {"type": ["string", "null"], "maxLength": 4000, "description": "Required with the reason code other"}}}
DECISION = {"type": "object", "required": ["decision"], "properties": {
    "decision": {"type": "string", "enum": ["accept", "reject"]},
    "note": {"type": ["string", "null"], "maxLength": 2000}}}
EXCEPTION_ID = {"name": "exception_id", "in": "path", "required": True, "schema": ID}
DECISION_WRITE = {**COMMON, "400": problem("Malformed JSON"), "415": problem("Not JSON")}
