"""Billing's routes: its blueprints and the modules that attach routes and jobs to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("billing", __name__, url_prefix="/billing")
api_bp = Blueprint("billing_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named here: the
    statement pages, the late-verified and balances pages, the API and its workflow step."""
    from portal.billing import api, api_transitions, report_views, tasks, views  # noqa: F401  (routes, jobs)
    app.register_blueprint(api_bp)
    app.register_blueprint(bp)
