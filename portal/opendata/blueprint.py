"""Open data's routes (no login, under /api/v1/public): its blueprint and the module that
attaches routes to it."""
from flask import Blueprint

api_bp = Blueprint("opendata_api", __name__, url_prefix="/api/v1/public")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named here."""
    from portal.opendata import api, audit_heads  # noqa: F401  (routes, the checkpoint job)
    app.register_blueprint(api_bp)
