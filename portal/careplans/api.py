"""JSON endpoint of care plans (under /api/v1, docs/API.md): the month's missed list in its fixed
shape. Who was missed is decided in delivery.py; missed.py narrows it to what the caller reaches."""
from flask import jsonify
from flask_login import current_user

from portal.careplans.blueprint import api_bp
from portal.careplans.missed import missed_for
from portal.core import query
from portal.core.auth import capability_required
from portal.core.openapi import json_response, operation, problem
from portal.visits.api_schemas import COMMON, ID

_COUNT = {"type": "integer", "minimum": 0}
MISSED_ITEM = {
    "type": "object",
    "required": ["beneficiary_id", "care_class", "planned", "delivered", "in_person"],
    "properties": {
        "beneficiary_id": ID,
        "care_class": {"type": "string", "enum": ["self_care", "partial", "complete"],
                       "description": "The person's final self-care class when the plan in force was drafted"},
        "planned": {**_COUNT, "description": "Services a month in the plan in force (the sum of its frequencies)"},
        "delivered": {**_COUNT, "description": "Services delivered by verified visits, each service counted up to "
                                               "its planned times (one service's extra never makes up another)"},
        "in_person": {**_COUNT, "description": "Verified visits at the person's home (探视巡访) in the month"},
    },
}


@api_bp.get("/care-plans/missed")
@operation({
    "summary": "The people served short of their plan in a month: fewer services than planned or fewer visits in "
               "person (supervisor, auditor, officer; a care contractor's manager its own plans), all of them in "
               "one answer", "tags": ["care plans"],
    "description": "For the current month the figures are those so far. Only verified visits count.",
    "parameters": [{"name": "month", "in": "query", "required": True, "schema": query.MONTH_SCHEMA,
                    "description": "YYYY-MM (Beijing time)"}],
    "responses": {"200": json_response("The month's missed list", {
        "type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": MISSED_ITEM}}}),
        **COMMON, "422": problem("No month, or not YYYY-MM")}})
@capability_required("careplan.missed")
def missed_list():
    """The month's missed people, by beneficiary id, exactly as docs/API.md fixes them: no name, no
    service detail, every one of the month in ``items``."""
    month = query.month_arg(required=True)
    return jsonify({"items": [
        {"beneficiary_id": row.beneficiary_id, "care_class": row.care_class, "planned": row.planned,
         "delivered": row.delivered, "in_person": row.in_person}
        for row in missed_for(current_user, month)]})
