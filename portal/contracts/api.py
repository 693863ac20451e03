"""JSON endpoints of the contracts package (under /api/v1): the field worker's assignments."""
from flask import jsonify
from flask_login import current_user

from portal.contracts import assignments as assignment_services
from portal.core.auth import capability_required
from portal.contracts.blueprint import api_bp
from portal.core.crypto import mask_name
from portal.core.openapi import json_response, operation, problem
from portal.core.timeutil import local_today


def assignment_json(assignment):
    """One entry of GET /api/v1/assignments, exactly as docs/API.md fixes it: the masked
    name and where the person lives (no ID number, no phone), the contract and its service items."""
    person = assignment.beneficiary
    return {
        "beneficiary": {"id": person.id, "display_name": mask_name(person.name), "township": person.township,
                        "village": person.village, "address": person.address, "lat": person.lat, "lon": person.lon},
        "contract_id": assignment.contract_id,
        "service_items": [{"code": item.code, "name": item.name, "unit": item.unit, "min_minutes": item.min_minutes,
                           "max_minutes": item.max_minutes, "photo_required": item.photo_required}
                          for item in assignment.contract.items],
    }


# The OpenAPI description of GET /api/v1/assignments (core/openapi.py), declared beside the route.
_ITEM = {"type": "object", "required": ["code", "name", "unit", "min_minutes", "max_minutes", "photo_required"],
         "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "unit": {"type": "string"},
                        "min_minutes": {"type": ["integer", "null"]}, "max_minutes": {"type": ["integer", "null"]},
                        "photo_required": {"type": "boolean"}}}
_BENEFICIARY = {"type": "object", "required": ["id", "display_name", "township", "village", "address", "lat", "lon"],
                "properties": {"id": {"type": "integer"},
                               "display_name": {"type": "string", "description": "The masked name (张*丰)"},
                               "township": {"type": "string"}, "village": {"type": "string"},
                               "address": {"type": "string"}, "lat": {"type": ["number", "null"]},
                               "lon": {"type": ["number", "null"]}}}


@api_bp.get("/assignments")
@operation({
    "summary": "The field worker's beneficiaries: assignments current today on active contracts",
    "tags": ["assignments"],
    "responses": {
        "200": json_response("The worker's assignments", {"type": "array", "items": {
            "type": "object", "required": ["beneficiary", "contract_id", "service_items"],
            "properties": {"beneficiary": _BENEFICIARY, "contract_id": {"type": "integer"},
                           "service_items": {"type": "array", "items": _ITEM}}}}),
        "401": problem("Not signed in"), "403": problem("Not a field worker")}})
@capability_required("assignment.read_own")
def my_assignments():
    """The signed-in worker's assignments current today (Beijing time) on active contracts of the
    token's bureau."""
    return jsonify([assignment_json(a) for a in assignment_services.current_for_worker(current_user, local_today())])
