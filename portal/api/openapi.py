"""The OpenAPI 3.1 description of /api/v1. Each package adds its paths to PATHS."""
from portal.accounts.api import TOKEN_REQUEST

PROBLEM = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
    },
}


def _problem(description):
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _json(description, schema):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


USER = {"type": "object", "properties": {
    "username": {"type": "string"}, "display_name": {"type": "string"}, "role": {"type": "string"},
    "tenant": {"type": ["string", "null"]}}}

PATHS = {
    "/api/v1/tokens": {"post": {
        "summary": "Sign in and get a bearer token", "security": [], "tags": ["auth"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": TOKEN_REQUEST}}},
        "responses": {
            "201": _json("Token issued", {"type": "object", "properties": {
                "token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"},
                "user": USER}}),
            "400": _problem("Malformed JSON"), "401": _problem("Wrong credentials"),
            "415": _problem("Not JSON"), "422": _problem("Invalid body"), "429": _problem("Too many tries"),
        }}},
    "/api/v1/tokens/current": {"delete": {
        "summary": "Revoke the token in use", "tags": ["auth"],
        "responses": {"204": {"description": "Revoked"}, "401": _problem("Not signed in")}}},
    "/api/v1/me": {"get": {
        "summary": "The signed-in user", "tags": ["auth"],
        "responses": {"200": _json("The user", USER), "401": _problem("Not signed in")}}},
    "/healthz": {"get": {"summary": "Liveness (no database)", "security": [], "tags": ["ops"],
                         "responses": {"200": _json("Alive", {"type": "object"})}}},
    "/readyz": {"get": {"summary": "Readiness (database, Redis)", "security": [], "tags": ["ops"],
                        "responses": {"200": _json("Ready", {"type": "object"}),
                                      "503": _json("Not ready", {"type": "object"})}}},
}


def openapi_document():
    return {
        "openapi": "3.1.0",
        "info": {"title": "Social-assistance procurement and supervision portal API", "version": "1.0.0",
                 "description": "Errors are application/problem+json (RFC 9457). Money is integer fen in "
                                "fields named *_fen; times are ISO 8601 with an offset."},
        "servers": [{"url": "/"}],
        "paths": PATHS,
        "components": {
            "schemas": {"Problem": PROBLEM},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
