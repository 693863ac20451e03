"""JSON endpoints of the contracts package (under /api/v1): the field worker's assignments."""
from flask import Blueprint, jsonify
from flask_login import current_user

from portal.contracts import assignments as assignment_services
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.core.timeutil import local_today
from portal.extensions import csrf

api_bp = Blueprint("contracts_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


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


@api_bp.get("/assignments")
@capability_required("assignment.read_own")
def my_assignments():
    """The signed-in worker's assignments current today (Beijing time) on active contracts of the
    token's bureau."""
    return jsonify([assignment_json(a) for a in assignment_services.current_for_worker(current_user, local_today())])


def _register_openapi():
    from portal.api.openapi import PATHS, _json, _problem
    item = {"type": "object", "required": ["code", "name", "unit", "min_minutes", "max_minutes", "photo_required"],
            "properties": {"code": {"type": "string"}, "name": {"type": "string"}, "unit": {"type": "string"},
                           "min_minutes": {"type": ["integer", "null"]}, "max_minutes": {"type": ["integer", "null"]},
                           "photo_required": {"type": "boolean"}}}
    beneficiary = {"type": "object", "required": ["id", "display_name", "township", "village", "address", "lat", "lon"],
                   "properties": {"id": {"type": "integer"},
                                  "display_name": {"type": "string", "description": "The masked name (张*丰)"},
                                  "township": {"type": "string"}, "village": {"type": "string"},
                                  "address": {"type": "string"}, "lat": {"type": ["number", "null"]},
                                  "lon": {"type": ["number", "null"]}}}
    PATHS["/api/v1/assignments"] = {"get": {
        "summary": "The field worker's beneficiaries: assignments current today on active contracts",
        "tags": ["assignments"],
        "responses": {
            "200": _json("The worker's assignments", {"type": "array", "items": {
                "type": "object", "required": ["beneficiary", "contract_id", "service_items"],
                "properties": {"beneficiary": beneficiary, "contract_id": {"type": "integer"},
                               "service_items": {"type": "array", "items": item}}}}),
            "401": _problem("Not signed in"), "403": _problem("Not a field worker")}}}


_register_openapi()
