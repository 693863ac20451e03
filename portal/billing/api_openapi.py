"""The settlements endpoints of billing/api.py in the OpenAPI document (portal/api/openapi.py)."""
from portal.api.openapi import PATHS, _json, _problem
from portal.billing.models import LINE_KINDS, STATEMENT_STATUSES

_ID = {"type": "integer"}
_FEN = {"type": "integer", "description": "Integer fen"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_IDS = {"type": "array", "items": _ID}
LINE = {
    "type": "object",
    "required": ["id", "kind", "description", "units", "unit_price_fen", "amount_fen", "verified_units",
                 "monthly_cap", "quota_left", "disputed"],
    "properties": {
        "id": _ID, "position": _ID, "kind": {"type": "string", "enum": list(LINE_KINDS)},
        "description": {"type": "string"}, "service_item_id": {"type": ["integer", "null"]},
        "units": _ID, "unit_price_fen": _FEN, "multiplier": _ID,
        "amount_fen": {"type": "integer", "description": "Integer fen: positive for service and deduction "
                                                         "lines (the kind says which way), signed for adjustments"},
        "verified_units": _ID, "monthly_cap": {"type": ["integer", "null"]}, "quota_left": {"type": ["integer", "null"]},
        "unpaid_units": _ID, "disputed": {"type": "boolean"}, "dispute_note": {"type": "string"},
        "visit_ids": {**_IDS, "description": "The visits paid or penalised by the line (one statement only)"},
        "violation_ids": {**_IDS, "description": "The violations penalised by the line (one statement only)"},
        "unpaid_visit_ids": {**_IDS, "description": "Verified visits over the monthly cap, quota or contract total"},
        "limited_by": {"type": "string", "enum": ["monthly_cap", "quota", "contract_total"],
                       "description": "What kept a paying line below its verified units"},
        "from_statements": {"type": "array", "description": "deduction_carried_forward: the approved statements "
                                                            "whose uncovered deductions it carries",
                            "items": {"type": "object", "properties": {
                                "statement_id": _ID, "number": {"type": "string"}, "month": {"type": "string"},
                                "carried_out_fen": _FEN}}},
    },
}
STATEMENT = {
    "type": "object",
    "required": ["id", "number", "contract_id", "month", "status", "gross_fen", "deductions_fen", "net_fen",
                 "lines", "deductions"],
    "properties": {
        "id": _ID, "number": {"type": "string"}, "contract_id": _ID, "contract_number": {"type": "string"},
        "month": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"},
        "status": {"type": "string", "enum": list(STATEMENT_STATUSES)},
        "gross_fen": _FEN, "deductions_fen": _FEN,
        "net_fen": {"type": "integer", "minimum": 0, "description": "gross − deductions, never below zero"},
        "computed_at": _TIME, "sent_at": _TIME, "responded_at": _TIME, "approved_at": _TIME,
        "dispute_reason": {"type": "string"}, "paid_on": {"type": ["string", "null"], "format": "date"},
        "payment_reference": {"type": "string"},
        "lines": {"type": "array", "items": LINE,
                  "description": "Service, late-verified (visits verified after their month was approved) and "
                                 "adjustment lines"},
        "deductions": {"type": "array", "items": LINE,
                       "description": "Deduction lines, the balance carried forward from earlier statements included"},
        "carried_out_fen": {**_FEN, "description": "Deductions the gross leaves uncovered, deducted from the "
                                                   "contract's next statement"},
        "carried_out": {"oneOf": [LINE, {"type": "null"}], "description": "The carried_out line, if any"},
    },
}
_COMMON = {"401": _problem("Not signed in"), "403": _problem("Role not allowed")}

PATHS["/api/v1/settlements"] = {"get": {
    "summary": "Monthly statements (finance, officer, auditor, admin; the contract's contractor manager from "
               "'sent' on)", "tags": ["settlements"],
    "parameters": [
        {"name": "contract_id", "in": "query", "schema": _ID},
        {"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^\\d{4}-\\d{2}$"}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}],
    "responses": {"200": _json("A page of 20 statements", {"type": "object", "properties": {
        "items": {"type": "array", "items": STATEMENT}, "page": _ID, "per_page": _ID, "total": _ID,
        "next": {"type": ["string", "null"]}}}), **_COMMON, "422": _problem("Bad month, contract id or page")}}}
PATHS["/api/v1/settlements/{statement_id}"] = {"get": {
    "summary": "One statement with the visits and violations behind each line", "tags": ["settlements"],
    "parameters": [{"name": "statement_id", "in": "path", "required": True, "schema": _ID}],
    "responses": {"200": _json("The statement", STATEMENT), **_COMMON,
                  "404": _problem("No such statement for the caller")}}}


def _transitions():
    from portal.billing.api_transitions import TRANSITION_SCHEMA
    return {"post": {
        "summary": "Take one workflow step on a statement", "tags": ["settlements"],
        "description": "send — officer or finance; confirm / dispute (note = the reason, line_ids default to every "
                       "line) — the contract's manager; approve — finance, never the person who prepared or sent it; "
                       "pay (paid_on, payment_reference) — finance; recompute (extension) — officer or finance, a "
                       "draft, or a sent/confirmed statement whose records changed (it goes back to draft). A draft "
                       "whose records changed since it was computed is refused with 409 and code stale_statement.",
        "parameters": [{"name": "statement_id", "in": "path", "required": True, "schema": _ID}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": TRANSITION_SCHEMA}}},
        "responses": {"200": _json("The statement after the step", STATEMENT), **_COMMON,
                      "400": _problem("Malformed JSON"), "403": _problem("Not this user's step"),
                      "404": _problem("No such statement for the caller"),
                      "409": _problem("The step is not open now, or the statement is stale (code stale_statement)"),
                      "415": _problem("Not JSON"), "422": _problem("Bad action, note, lines or payment")}}}


PATHS["/api/v1/settlements/{statement_id}/transitions"] = _transitions()
