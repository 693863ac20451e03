"""Health, readiness and the OpenAPI document."""
from flask import current_app, jsonify
from sqlalchemy import text

from portal.api import bp
from portal.api.openapi import openapi_document
from portal.extensions import csrf, db, redis_connection

csrf.exempt(bp)


@bp.get("/healthz")
def healthz():
    """Alive: answers without touching the database."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
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


@bp.get("/api/v1/openapi.json")
def openapi():
    return jsonify(openapi_document())
