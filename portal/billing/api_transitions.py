"""POST /api/v1/settlements/{id}/transitions (docs/API.md): one workflow step by name.

``{"action": "send" / "confirm" / "dispute" / "approve" / "pay" / "recompute", "note"?, "paid_on"?,
"payment_reference"?, "line_ids"?}`` → 200 with the statement. A statement the caller may not see
→ 404; a step not the caller's → 403; a step not open now or a stale draft → 409 (with
``"code": "stale_statement"`` for the latter); a bad body → 400 / 415 / 422."""
from flask import jsonify
from flask_login import current_user

from portal.api.body import json_body
from portal.billing import steps, workflow
from portal.billing.api import full_statement_json
from portal.billing.api_schemas import COMMON, ID, STATEMENT
from portal.billing.blueprint import api_bp
from portal.core import query
from portal.core.auth import capability_required
from portal.core.http import problem
from portal.core.openapi import json_response, operation
from portal.core.openapi import problem as problem_response

TRANSITION_SCHEMA = {
    "type": "object", "required": ["action"], "additionalProperties": False,
    "properties": {
        "action": {"type": "string", "enum": list(steps.API_ACTIONS)},
        "note": {"type": ["string", "null"], "maxLength": 2000,
                 "description": "The reason of a dispute (required for dispute)"},
        "paid_on": {"type": ["string", "null"], "format": "date", "description": "pay: the payment day, YYYY-MM-DD"},
        "payment_reference": {"type": ["string", "null"], "maxLength": 100, "description": "pay: the reference"},
        "line_ids": {"type": "array", "items": query.ID_SCHEMA,
                     "maxItems": 1000, "description": "dispute: the disputed lines (default: every line)"},
    },
}


@api_bp.post("/settlements/<int:statement_id>/transitions")
@operation({
    "summary": "Take one workflow step on a statement", "tags": ["settlements"],
    "description": "send — officer or finance; confirm / dispute (note = the reason, line_ids default to every "
                   "line) — the contract's manager; approve — finance, never the person who prepared or sent it; "
                   "pay (paid_on, payment_reference) — finance; recompute (extension) — officer or finance, a "
                   "draft, or a sent/confirmed statement whose records changed (it goes back to draft). A draft "
                   "whose records changed since it was computed is refused with 409 and code stale_statement.",
    "parameters": [{"name": "statement_id", "in": "path", "required": True, "schema": ID}],
    "requestBody": {"required": True, "content": {"application/json": {"schema": TRANSITION_SCHEMA}}},
    "responses": {"200": json_response("The statement after the step", STATEMENT), **COMMON,
                  "400": problem_response("Malformed JSON"), "403": problem_response("Not this user's step"),
                  "404": problem_response("No such statement for the caller"),
                  "409": problem_response("The step is not open now, or the statement is stale "
                                          "(code stale_statement)"),
                  "415": problem_response("Not JSON"), "422": problem_response("Bad action, note, lines or payment")}})
@capability_required("statement.read")
def transition(statement_id):
    """Take one workflow step on a statement as the signed-in user."""
    statement = workflow.statement_for(current_user, statement_id)
    body = json_body(TRANSITION_SCHEMA)
    try:
        steps.take(statement, current_user, body["action"], note=body.get("note") or "",
                   line_ids=body.get("line_ids"), paid_on=body.get("paid_on"),
                   reference=body.get("payment_reference") or "")
    except workflow.StaleStatement as exc:
        response = problem(409, exc.message, exc.errors or None, title="Stale statement")
        payload = response.get_json()
        payload["code"] = exc.code
        response.set_data(jsonify(payload).get_data())
        return response
    return jsonify(full_statement_json(statement))
