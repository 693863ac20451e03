"""POST /api/v1/settlements/{id}/transitions (docs/API.md): one workflow step by name.

``{"action": "send" / "confirm" / "dispute" / "approve" / "pay" / "recompute", "note"?, "paid_on"?,
"payment_reference"?, "line_ids"?}`` → 200 with the statement. A statement the caller may not see
→ 404; a step not the caller's → 403; a step not open now or a stale draft → 409 (with
``"code": "stale_statement"`` for the latter); a bad body → 400 / 415 / 422."""
from flask import jsonify
from flask_login import current_user

from portal.api.body import json_body
from portal.billing import steps, workflow
from portal.billing.api import api_bp, full_statement_json
from portal.core.auth import capability_required
from portal.core.http import problem

TRANSITION_SCHEMA = {
    "type": "object", "required": ["action"], "additionalProperties": False,
    "properties": {
        "action": {"type": "string", "enum": list(steps.API_ACTIONS)},
        "note": {"type": ["string", "null"], "maxLength": 2000,
                 "description": "The reason of a dispute (required for dispute)"},
        "paid_on": {"type": ["string", "null"], "format": "date", "description": "pay: the payment day, YYYY-MM-DD"},
        "payment_reference": {"type": ["string", "null"], "maxLength": 100, "description": "pay: the reference"},
        "line_ids": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": workflow.MAX_ID},
                     "maxItems": 1000, "description": "dispute: the disputed lines (default: every line)"},
    },
}


@api_bp.post("/settlements/<int:statement_id>/transitions")
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
