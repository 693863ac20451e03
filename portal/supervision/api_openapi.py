"""The visits endpoints of supervision/api.py in the OpenAPI document (portal/api/openapi.py)."""
from portal.api.openapi import PATHS, _json, _problem
from portal.supervision import recording
from portal.supervision.visit_models import EXCEPTION_STATUSES, VISIT_STATUSES

_ID = {"type": "integer"}
_TIME = {"type": "string", "format": "date-time"}
_POINT = {"type": "object", "required": ["at", "lat", "lon"],
          "properties": {"at": _TIME, "lat": {"type": "number"}, "lon": {"type": "number"}}}
VISIT = {
    "type": "object",
    "required": ["id", "client_id", "status", "exceptions", "beneficiary", "service_item", "check_in", "check_out",
                 "distance_from_home_m", "recorded_live", "photos"],
    "properties": {
        "id": _ID, "client_id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": list(VISIT_STATUSES)},
        "exceptions": {"type": "array", "items": {"type": "object", "required": ["id", "code", "message", "status"],
                                                  "properties": {
            "id": _ID, "code": {"type": "string"}, "message": {"type": "string"}, "warning": {"type": "boolean"},
            "status": {"type": "string", "enum": list(EXCEPTION_STATUSES)}}}},
        "beneficiary": {"type": "object", "required": ["id", "display_name"], "properties": {
            "id": _ID, "display_name": {"type": "string", "description": "The masked name (张*丰)"}}},
        "contract_id": _ID, "service_item": {"type": "string"}, "device_id": {"type": "string"},
        "source": {"type": "string", "enum": ["app", "web", "manual"]},
        "check_in": {"type": "object", "properties": {**_POINT["properties"],
                                                       "accuracy_m": {"type": ["number", "null"]}}},
        "check_out": {"oneOf": [_POINT, {"type": "null"}]},
        "adjusted_check_in": _TIME, "adjusted_check_out": _TIME,
        "correction": {"type": "object", "description": "The correction standing: accepted (in force) or pending "
                                                        "(waiting for a supervisor; not in force)",
                       "properties": {"id": _ID, "reason_code": {"type": "string"}, "note": {"type": "string"},
                                      "made_at": _TIME, "status": {"type": "string", "enum": ["pending", "accepted"]},
                                      "decided_at": {"type": ["string", "null"], "format": "date-time"}}},
        "services": {"type": "array", "items": {"type": "string"}}, "notes": {"type": "string"},
        "distance_from_home_m": {"type": ["integer", "null"]}, "recorded_live": {"type": "boolean"},
        "received_at": _TIME, "photos": {"type": "array", "items": _ID},
    },
}
_VISIT_ID = {"name": "visit_id", "in": "path", "required": True, "schema": _ID}
_COMMON = {"401": _problem("Not signed in"), "403": _problem("Role not allowed")}
_WRITE = {**_COMMON, "400": _problem("Malformed JSON"), "415": _problem("Not JSON"),
          "422": _problem("Invalid body")}


def _body(schema):
    return {"required": True, "content": {"application/json": {"schema": schema}}}


PATHS["/api/v1/visits"] = {
    "post": {
        "summary": "Record a visit (field worker); the client_id makes the upload idempotent", "tags": ["visits"],
        "description": "Send header X-Visit-Source: web from the field web app.",
        "requestBody": _body(recording.VISIT_SCHEMA),
        "responses": {"201": _json("Recorded", VISIT), "200": _json("The same client_id and body again", VISIT),
                      **_WRITE, "404": _problem("The beneficiary is not assigned to the worker's contractor"),
                      "409": _problem("The same client_id with a different body")}},
    "get": {
        "summary": "A page of 50 visits the caller may see, newest first", "tags": ["visits"],
        "parameters": [
            {"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"}},
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(VISIT_STATUSES)}},
            {"name": "contract_id", "in": "query", "schema": _ID},
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
        "responses": {"200": _json("A page of visits", {"type": "object", "properties": {
            "items": {"type": "array", "items": VISIT}, "page": _ID, "per_page": _ID, "total": _ID,
            "next": {"type": ["string", "null"]}}}), **_COMMON, "422": _problem("Bad month or status")}},
}
PATHS["/api/v1/visits:batch"] = {"post": {
    "summary": "Record up to 500 visits; one result per item, in order", "tags": ["visits"],
    "requestBody": _body({"type": "object", "required": ["visits"], "properties": {
        "visits": {"type": "array", "maxItems": 500, "items": recording.VISIT_SCHEMA}}}),
    "responses": {"200": _json("A result per item", {"type": "object", "properties": {"results": {
        "type": "array", "items": {"type": "object", "required": ["index", "status"], "properties": {
            "index": _ID, "status": {"type": "integer", "enum": [200, 201, 404, 409, 422]}, "visit": VISIT,
            "problem": {"$ref": "#/components/schemas/Problem"}}}}}}),
        **_WRITE, "413": _problem("Body too large")}}}
PATHS["/api/v1/visits/{visit_id}"] = {"get": {
    "summary": "One visit (its worker, the contractor's manager, bureau roles)", "tags": ["visits"],
    "parameters": [_VISIT_ID],
    "responses": {"200": _json("The visit", VISIT), **_COMMON, "404": _problem("No such visit for the caller")}}}
PATHS["/api/v1/visits/{visit_id}/check-out"] = {"post": {
    "summary": "Check out of one's own visit (the same check-out again changes nothing)", "tags": ["visits"],
    "parameters": [_VISIT_ID], "requestBody": _body(recording.CHECK_OUT_SCHEMA),
    "responses": {"200": _json("The visit", VISIT), **_WRITE, "404": _problem("Not the caller's visit"),
                  "409": _problem("A different check-out is already recorded")}}}
PATHS["/api/v1/visits/{visit_id}/photos"] = {"post": {
    "summary": "Add a photo: JPEG or PNG by content, at most 5 MB; location metadata is removed",
    "tags": ["visits"], "parameters": [_VISIT_ID],
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}}}}},
    "responses": {"201": _json("Stored", {"type": "object", "properties": {
        "id": _ID, "visit_id": _ID, "uploaded_at": _TIME, "content_type": {"type": "string"}, "size": _ID,
        "visit": VISIT}}), "200": _json("The same photo was already stored", {"type": "object"}),
        **_COMMON, "404": _problem("Not the caller's visit"), "413": _problem("Larger than 5 MB"),
        "415": _problem("Not a JPEG or PNG"), "422": _problem("No file, or a damaged image")}}}
PATHS["/api/v1/visits/{visit_id}/photos/{photo_id}"] = {"get": {
    "summary": "A photo of a visit (its worker, the contractor's manager, bureau roles)", "tags": ["visits"],
    "parameters": [_VISIT_ID, {"name": "photo_id", "in": "path", "required": True, "schema": _ID}],
    "responses": {"200": {"description": "The image", "content": {
        "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
        "image/png": {"schema": {"type": "string", "format": "binary"}}}},
        **_COMMON, "404": _problem("No such photo for the caller")}}}
PATHS["/api/v1/visits/{visit_id}/corrections"] = {"post": {
    "summary": "Adjusted times with a reason code (supervisor, contractor manager); only shorter; a manager's "
               "correction waits for a supervisor's decision before it counts",
    "tags": ["visits"], "parameters": [_VISIT_ID], "requestBody": _body(recording.CORRECTION_SCHEMA),
    "responses": {"201": _json("The visit with its adjusted times", VISIT), **_WRITE,
                  "404": _problem("No such visit for the caller")}}}
