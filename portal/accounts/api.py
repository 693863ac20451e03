"""Bearer tokens and who-am-I for the JSON API."""
from flask import g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts import services
from portal.accounts.blueprint import api_bp
from portal.api.body import json_body
from portal.core.auth import login_required
from portal.core.errors import DomainError
from portal.core.http import problem
from portal.core.openapi import json_response, operation
from portal.core.openapi import problem as problem_response
from portal.extensions import db
from portal.tenancy.models import Tenant

TOKEN_REQUEST = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 64},
        "password": {"type": "string", "minLength": 1, "maxLength": 200},
        "tenant": {"type": "string", "maxLength": 32},
    },
    "additionalProperties": False,
}
USER = {"type": "object", "properties": {
    "username": {"type": "string"}, "display_name": {"type": "string"}, "role": {"type": "string"},
    "tenant": {"type": ["string", "null"]}}}
ME = {"type": "object", "required": ["username", "role", "tenant", "tenants", "contractor"], "properties": {
    **USER["properties"],
    "tenants": {"type": "array", "items": {"type": "string"}, "description": "The bureaus this user may act for"},
    "contractor": {
        "description": "The contractor a contractor manager or field worker works for; null for others",
        "oneOf": [{"type": "null"}, {"type": "object", "required": ["id", "name"], "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}}}]}}}


def user_json(user, tenant):
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "tenant": tenant.code if tenant else None}


@api_bp.post("/tokens")
@operation({
    "summary": "Sign in and get a bearer token", "security": [], "tags": ["auth"],
    "requestBody": {"required": True, "content": {"application/json": {"schema": TOKEN_REQUEST}}},
    "responses": {
        "201": json_response("Token issued", {"type": "object", "properties": {
            "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"},
            "user": USER}}),
        "400": problem_response("Malformed JSON"), "401": problem_response("Wrong credentials"),
        "403": problem_response("The password was set by an administrator and must be changed on the web first"),
        "415": problem_response("Not JSON"), "422": problem_response("Invalid body"),
        "429": problem_response("Too many tries"),
    }})
def create_token():
    data = json_body(TOKEN_REQUEST)
    try:
        user = services.authenticate(data["username"], data["password"], request.remote_addr or "")
    except services.Throttled as exc:
        retry = services.seconds_until_retry(data["username"], request.remote_addr or "")
        return problem(429, exc.message, headers={"Retry-After": str(retry)})
    epoch = user.auth_epoch  # as read with the password checked (before anything below can reload it)
    if user.must_change_password:
        raise services.PasswordChangeRequired()
    tenant_id = services.choose_tenant(user, data.get("tenant"))
    if tenant_id is None and user.role != "platform_admin":
        codes = ", ".join(t.code for t in db.session.query(Tenant).filter(Tenant.id.in_(user.tenant_ids()))
                          .order_by(Tenant.code))
        raise DomainError(_("Name the bureau to act for."), {"tenant": [_("Choose one of: %(s)s.", s=codes)]})
    raw, token = services.issue_token(user, tenant_id, epoch)
    services.record_login(user, tenant_id, action="token_issued")
    tenant = db.session.get(Tenant, tenant_id) if tenant_id else None
    return jsonify({"token": raw, "expires_at": token.expires_at.isoformat(),
                    "user": user_json(user, tenant)}), 201


@api_bp.delete("/tokens/current")
@operation({"summary": "Revoke the token in use", "tags": ["auth"],
            "responses": {"204": {"description": "Revoked"}, "401": problem_response("Not signed in")}})
@login_required
def revoke_current_token():
    token = g.get("api_token")
    if token is None:
        return problem(400, _("Only a bearer token can be revoked here."))
    services.revoke_token(token)
    return "", 204


@api_bp.get("/me")
@operation({"summary": "The signed-in user", "tags": ["auth"],
            "responses": {"200": json_response("The user", ME), "401": problem_response("Not signed in"),
                          "403": problem_response("The password must be changed on the web first")}})
@login_required
def me():
    body = user_json(current_user, g.get("tenant"))
    body["tenants"] = [t.code for t in db.session.query(Tenant).filter(Tenant.id.in_(current_user.tenant_ids()))]
    contractor = current_user.contractor  # set for contractor managers and field workers only
    body["contractor"] = {"id": contractor.id, "name": contractor.name} if contractor is not None else None
    return jsonify(body)
