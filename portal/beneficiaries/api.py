"""JSON endpoints of the registry (under /api/v1). What a caller may read is decided by
``services.visible_beneficiary``: a contractor's people get 404 for anyone not assigned to them."""
from flask import jsonify
from flask_login import current_user

from portal.beneficiaries import services
from portal.core.auth import capability_required
from portal.beneficiaries.blueprint import api_bp
from portal.core.crypto import mask_name
from portal.core.openapi import json_response, operation, problem


def beneficiary_json(person):
    """What any caller allowed to see the person gets: masked name, where they live, status. No ID
    number, no phone."""
    return {"id": person.id, "display_name": mask_name(person.name), "category": person.category,
            "township": person.township, "village": person.village, "address": person.address,
            "lat": person.lat, "lon": person.lon, "status": person.status,
            "status_since": person.status_since.isoformat()}


@api_bp.get("/beneficiaries/<int:beneficiary_id>")
@operation({
    "summary": "One beneficiary (masked name; a contractor's people only those assigned to them)",
    "tags": ["beneficiaries"],
    "parameters": [{"name": "beneficiary_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
    "responses": {
        "200": json_response("The beneficiary", {"type": "object", "properties": {
            "id": {"type": "integer"}, "display_name": {"type": "string"}, "category": {"type": "string"},
            "township": {"type": "string"}, "village": {"type": "string"}, "address": {"type": "string"},
            "lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]},
            "status": {"type": "string"}, "status_since": {"type": "string", "format": "date"}}}),
        "401": problem("Not signed in"), "403": problem("Role not allowed"),
        "404": problem("No such beneficiary in this bureau, or not assigned to the caller")}})
@capability_required("beneficiary.read")
def get_beneficiary(beneficiary_id):
    return jsonify(beneficiary_json(services.visible_beneficiary(beneficiary_id, current_user)))
