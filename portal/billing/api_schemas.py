"""The schemas of a statement and its lines in the OpenAPI description of the settlements endpoints,
declared beside their routes in billing/api.py and billing/api_transitions.py (core/openapi.py)."""
from portal.billing.models import LINE_KINDS, STATEMENT_STATUSES
from portal.core.openapi import problem

ID = {"type": "integer"}
_FEN = {"type": "integer", "description": "Integer fen"}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_IDS = {"type": "array", "items": ID}
STAFFING_KEYS = ("station_id", "station_code", "station_name", "required_staff", "staff_days_required",
                 "staff_days_present", "missing", "price_fen", "short_days")
_STAFFING = {
    "type": "object", "description": "deduction_staffing: price_fen × missing // staff_days_required, and the "
                                     "days short of staff behind it",
    "properties": {**{key: ID for key in STAFFING_KEYS[:1] + STAFFING_KEYS[3:7]}, "price_fen": _FEN,
                   "station_code": {"type": "string"}, "station_name": {"type": "string"},
                   "short_days": {"type": "array", "items": {"type": "object", "properties": {
                       "day": {"type": "string", "format": "date"}, "present": ID, "required": ID}}}},
}
LINE = {
    "type": "object",
    "required": ["id", "kind", "description", "units", "unit_price_fen", "amount_fen", "verified_units",
                 "monthly_cap", "quota_left", "disputed"],
    "properties": {
        "id": ID, "position": ID, "kind": {"type": "string", "enum": list(LINE_KINDS)},
        "description": {"type": "string"}, "service_item_id": {"type": ["integer", "null"]},
        "units": ID, "unit_price_fen": _FEN, "multiplier": ID,
        "amount_fen": {"type": "integer", "description": "Integer fen: positive for service and deduction "
                                                         "lines (the kind says which way), signed for adjustments"},
        "verified_units": ID, "monthly_cap": {"type": ["integer", "null"]}, "quota_left": {"type": ["integer", "null"]},
        "unpaid_units": ID, "disputed": {"type": "boolean"}, "dispute_note": {"type": "string"},
        "visit_ids": {**_IDS, "description": "The visits paid or penalised by the line (one statement only)"},
        "violation_ids": {**_IDS, "description": "The violations penalised by the line (one statement only)"},
        "unpaid_visit_ids": {**_IDS, "description": "Verified visits over the monthly cap, quota or contract total"},
        "limited_by": {"type": "string", "enum": ["monthly_cap", "quota", "contract_total"],
                       "description": "What kept a paying line below its verified units"},
        "station_ids": {**_IDS, "description": "A station-month service line: the stations staffed in the month"},
        "staffing": _STAFFING,
        "from_statements": {"type": "array", "description": "deduction_carried_forward: the approved statements "
                                                            "whose uncovered deductions it carries",
                            "items": {"type": "object", "properties": {
                                "statement_id": ID, "number": {"type": "string"}, "month": {"type": "string"},
                                "carried_out_fen": _FEN}}},
    },
}
STATEMENT = {
    "type": "object",
    "required": ["id", "number", "contract_id", "month", "status", "gross_fen", "deductions_fen", "net_fen",
                 "lines", "deductions"],
    "properties": {
        "id": ID, "number": {"type": "string"}, "contract_id": ID, "contract_number": {"type": "string"},
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
COMMON = {"401": problem("Not signed in"), "403": problem("Role not allowed")}
