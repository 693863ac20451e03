"""JSON endpoints of the registry (under /api/v1). What a caller may read is decided by
``services.visible_beneficiary``: a contractor's people get 404 for anyone not assigned to them."""
from flask import Blueprint, jsonify
from flask_login import current_user

from portal.beneficiaries import services
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.extensions import csrf

api_bp = Blueprint("beneficiaries_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


def beneficiary_json(person):
    """What any caller allowed to see the person gets: masked name, where they live, status. No ID
    number, no phone."""
    return {"id": person.id, "display_name": mask_name(person.name), "category": person.category,
            "township": person.township, "village": person.village, "address": person.address,
            "lat": person.lat, "lon": person.lon, "status": person.status,
            "status_since": person.status_since.isoformat()}


@api_bp.get("/beneficiaries/<int:beneficiary_id>")
@capability_required("beneficiary.read")
def get_beneficiary(beneficiary_id):
    return jsonify(beneficiary_json(services.visible_beneficiary(beneficiary_id, current_user)))


def _register_openapi():
    from portal.api.openapi import PATHS, _json, _problem
    PATHS["/api/v1/beneficiaries/{beneficiary_id}"] = {"get": {
        "summary": "One beneficiary (masked name; a contractor's people only those assigned to them)",
        "tags": ["beneficiaries"],
        "parameters": [{"name": "beneficiary_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {
            "200": _json("The beneficiary", {"type": "object", "properties": {
                "id": {"type": "integer"}, "display_name": {"type": "string"}, "category": {"type": "string"},
                "township": {"type": "string"}, "village": {"type": "string"}, "address": {"type": "string"},
                "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]},
                "status": {"type": "string"}, "status_since": {"type": "string", "format": "date"}}}),
            "401": _problem("Not signed in"), "403": _problem("Role not allowed"),
            "404": _problem("No such beneficiary in this bureau, or not assigned to the caller")}}}


_register_openapi()
