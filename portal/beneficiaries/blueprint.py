"""The registry's routes: its blueprints and the modules that attach routes to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("beneficiaries", __name__, url_prefix="/beneficiaries")
api_bp = Blueprint("beneficiaries_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)
# The work-list and assignment pages of a contract (assignment_views.py): they pick people of the
# registry, so they live here, above contracts, under the contract's URL.
assignments_bp = Blueprint("assignments", __name__, url_prefix="/contracts")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named here."""
    from portal.beneficiaries import api, assignment_views, views  # noqa: F401  (routes)
    app.register_blueprint(api_bp)
    app.register_blueprint(bp)
    app.register_blueprint(assignments_bp)
