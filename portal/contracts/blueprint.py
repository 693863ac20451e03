"""Contracts' routes: its blueprints and the modules that attach routes and jobs to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("contracts", __name__, url_prefix="/contracts")
api_bp = Blueprint("contracts_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named here: the
    contract pages, the work-list and assignment pages, the API."""
    from portal.contracts import api, tasks, views  # noqa: F401  (routes, jobs)
    app.register_blueprint(api_bp)
    app.register_blueprint(bp)
