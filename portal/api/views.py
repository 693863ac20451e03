"""Health, readiness and the OpenAPI document."""
from flask import current_app, jsonify, send_from_directory
from sqlalchemy import text

from portal.api.blueprint import bp
from portal.api.openapi import openapi_document
from portal.core.openapi import json_response, operation
from portal.extensions import db, redis_connection


@bp.get("/healthz")
@operation({"summary": "Liveness (no database)", "security": [], "tags": ["ops"],
            "responses": {"200": json_response("Alive", {"type": "object"})}})
def healthz():
    """Alive: answers without touching the database."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@operation({"summary": "Readiness (database, Redis)", "security": [], "tags": ["ops"],
            "responses": {"200": json_response("Ready", {"type": "object"}),
                          "503": json_response("Not ready", {"type": "object"})}})
def readyz():
    """Ready: the database answers, and Redis too when configured."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this is what the probe is for
        checks["database"] = f"error: {type(exc).__name__}"
    if current_app.config.get("REDIS_URL"):
        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ok" if ready else "unavailable", "checks": checks}), 200 if ready else 503


@bp.get("/favicon.ico")
def favicon():
    """The site's icon where browsers look for it without a page naming one (every page links
    static/favicon.svg): the same SVG, cached for a day."""
    return send_from_directory(current_app.static_folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)


@bp.get("/api/v1/openapi.json")
def openapi():
    return jsonify(openapi_document())
