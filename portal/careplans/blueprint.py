"""Care plans' routes: its blueprints and the modules that attach routes to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("careplans", __name__, url_prefix="/care-plans")
api_bp = Blueprint("careplans_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)

# The modules that attach routes to the blueprints above.
ROUTE_MODULES = ("api", "views", "needs_views", "review_views", "missed_views")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named in ROUTE_MODULES."""
    from importlib import import_module
    for name in ROUTE_MODULES:
        import_module(f"portal.careplans.{name}")
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
