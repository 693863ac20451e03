"""Assessments' routes: its blueprints and the modules that attach routes and jobs to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("assessments", __name__, url_prefix="/assessments")
api_bp = Blueprint("assessments_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named here."""
    from portal.assessments import api, flow_views  # noqa: F401  (routes)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
