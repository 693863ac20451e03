"""Accounts' routes: its blueprints and the modules that attach routes and jobs to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("accounts", __name__)
api_bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named here."""
    from portal.accounts import api, tasks, views  # noqa: F401  (routes, jobs)
    app.register_blueprint(api_bp)
    app.register_blueprint(bp)
