"""Spot checks' routes: its blueprints and the modules that attach routes and jobs to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("spotchecks", __name__, url_prefix="/supervision")
api_bp = Blueprint("spotchecks_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named here."""
    from portal.spotchecks import api, services, views  # noqa: F401  (routes; services holds the job)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
