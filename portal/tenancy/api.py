"""JSON endpoints of the tenancy package (under /api/v1): the bureau's settings, read by its
administrator and auditors and changed by its administrator, with the same checks as the page."""
from flask import g, jsonify
from flask_babel import gettext as _

from portal.api.body import ValidationFailed, json_body
from portal.core.auth import capability_required
from portal.core.openapi import json_response, operation, problem
from portal.tenancy import services, settings_catalogue
from portal.tenancy.blueprint import api_bp
from portal.tenancy.settings import DEFAULT_SETTINGS

# Any subset of the settings, each in its stored form (money in fen); a dict setting is given whole.
SETTINGS_BODY = {"type": "object", "minProperties": 1, "additionalProperties": False,
                 "properties": {key: {} for key in DEFAULT_SETTINGS}}

# The OpenAPI description of these endpoints (core/openapi.py), declared beside each route.
_BODY = {"type": "object", "additionalProperties": {}, "description": "Setting key → value (money in fen)"}
_ANSWER = {"type": "object", "required": ["tenant", "settings", "defaults", "fields"],
           "properties": {"tenant": {"type": "string"}, "settings": _BODY, "defaults": _BODY,
                          "fields": {"type": "object", "description": "Per input (key or key.part): kind, unit, "
                                                                      "range, optional"}}}


def settings_json(tenant):
    """The bureau's settings now, the defaults, and per input its unit and allowed range."""
    fields = {}
    for setting in settings_catalogue.SETTINGS:
        for name, _part, _label, rule in setting.fields():
            fields[name] = {"kind": rule.kind, "unit": str(rule.unit), "range": settings_catalogue.range_text(rule),
                            "optional": rule.optional}
    return {"tenant": tenant.code, "settings": tenant.effective_settings, "defaults": DEFAULT_SETTINGS,
            "fields": fields}


@api_bp.get("/settings")
@operation({"summary": "The bureau's settings, defaults, units and allowed ranges", "tags": ["settings"],
            "responses": {"200": json_response("The settings", _ANSWER), "401": problem("Not signed in"),
                          "403": problem("Not the bureau's administrator or auditor")}})
@capability_required("settings.read")
def get_settings():
    return jsonify(settings_json(g.tenant))


@api_bp.put("/settings")
@operation({"summary": "Change some of the bureau's settings (administrator); audited", "tags": ["settings"],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _BODY}}},
            "responses": {"200": json_response("The settings after the change", _ANSWER),
                          "401": problem("Not signed in"), "403": problem("Not the bureau's administrator"),
                          "415": problem("Not JSON"), "422": problem("A value is not allowed; nothing saved")}})
@capability_required("settings.edit")
def put_settings():
    """Change the settings given; any bad value → 422 naming each field, nothing saved."""
    values, errors = settings_catalogue.parse(json_body(SETTINGS_BODY), from_json=True, only_given=True)
    if errors:
        raise ValidationFailed(_("Nothing was saved: correct the values marked below."), errors)
    services.change_settings(g.tenant, values)
    return jsonify(settings_json(g.tenant))
