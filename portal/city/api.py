"""GET /api/v1/city/overview?year=YYYY (docs/API.md): one row per district granted to the auditor,
whatever district the token acts for."""
from flask import jsonify
from flask_login import current_user

from portal.city.blueprint import api_bp
from portal.city.figures import YEAR_HIGH, YEAR_LOW, city_overview
from portal.city.table import FIGURES, api_item
from portal.city.views import year_arg
from portal.core.auth import capability_required
from portal.core.openapi import json_response, operation, problem
from portal.visits.api_schemas import COMMON

_TYPES = {"count": {"type": "integer"}, "fen": {"type": "integer"},
          "rate": {"type": ["number", "null"], "minimum": 0},
          "score": {"type": ["number", "null"], "minimum": 0, "maximum": 100}}
DISTRICT = {
    "type": "object",
    "required": ["tenant", "name", *[key for key, _label, _kind in FIGURES]],
    "properties": {"tenant": {"type": "string", "description": "The district's code"}, "name": {"type": "string"},
                   **{key: {**_TYPES[kind], "description": str(label)} for key, label, kind in FIGURES}},
}


@api_bp.get("/city/overview")
@operation({
    "summary": "The districts granted to the city auditor side by side for a year", "tags": ["city"],
    "description": "Counts and integer fen; rates 0–1 rounded to 4 places (null when nothing to divide), the "
                   "average quarterly score rounded to 2. Each district is computed as that district; districts "
                   "not granted never appear. Never a person's identity.",
    "parameters": [{"name": "year", "in": "query", "required": True,
                    "schema": {"type": "integer", "minimum": YEAR_LOW, "maximum": YEAR_HIGH}}],
    "responses": {"200": json_response("One row per district granted", {
        "type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": DISTRICT}}}),
        **COMMON, "422": problem("No year, or not a year from 2000 to 2099")}})
@capability_required("city.read")
def city_overview_api():
    year = year_arg(required=True)
    return jsonify({"items": [api_item(district) for district in city_overview(current_user, year)]})
