"""The public feedback endpoints (docs/API.md, no login): send feedback, look it up by its
tracking number. Neither ever answers with the contact or a person's name; posts are throttled per
address (PUBLIC_POST_LIMIT)."""
from flask import jsonify, request

from portal.api.body import json_body
from portal.core.openapi import json_response, operation, problem
from portal.core.timeutil import utcnow
from portal.core.errors import NotFound
from portal.feedback import services
from portal.feedback.blueprint import api_bp
from portal.feedback.models import STATUSES, TOPICS

FEEDBACK_SCHEMA = {
    "type": "object", "required": ["topic", "text"], "additionalProperties": False,
    "properties": {"topic": {"type": "string", "enum": list(TOPICS)},
                   "text": {"type": "string", "minLength": 1, "maxLength": services.TEXT_LIMIT},
                   "contact": {"type": "string", "maxLength": services.CONTACT_LIMIT,
                               "description": "Kept private: never published nor answered back"}}}
_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}, "description": "The bureau's code"}


@api_bp.post("/<code>/feedback")
@operation({
    "summary": "Send feedback or a complaint to a bureau (no login); answers with its tracking number",
    "tags": ["public feedback"], "parameters": [_CODE],
    "requestBody": {"required": True, "content": {"application/json": {"schema": FEEDBACK_SCHEMA}}},
    "responses": {"201": json_response("Received", {"type": "object", "required": ["tracking_number"],
                                                     "properties": {"tracking_number": {"type": "string"}}}),
                  "400": problem("Malformed JSON"), "404": problem("No such bureau"), "415": problem("Not JSON"),
                  "422": problem("Invalid body"), "429": problem("Too many submissions from this address")}})
def send(code):
    tenant = services.public_tenant(code)
    payload = json_body(FEEDBACK_SCHEMA)
    services.throttle_public_post(request.remote_addr or "")
    item = services.submit(tenant, payload["topic"], payload["text"], utcnow(), contact=payload.get("contact", ""))
    return jsonify({"tracking_number": item.tracking_number}), 201


@api_bp.get("/<code>/feedback/<number>")
@operation({
    "summary": "The status of feedback by its tracking number (no login): never the contact or a name",
    "tags": ["public feedback"],
    "parameters": [_CODE, {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}],
    "responses": {"200": json_response("The status", {
        "type": "object", "required": ["status"],
        "properties": {"status": {"type": "string", "enum": list(STATUSES)},
                       "answered_at": {"type": "string", "format": "date-time"}, "answer": {"type": "string"}}}),
        "404": problem("No such bureau or tracking number")}})
def lookup(code, number):
    services.public_tenant(code)
    item = services.find(number)
    if item is None:
        raise NotFound(services.no_such_number())
    body = {"status": item.status}
    if item.status == "answered":
        body["answered_at"] = item.answered_at.isoformat().replace("+00:00", "Z")
        body["answer"] = item.answer
    return jsonify(body)
