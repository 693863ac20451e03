"""The city view's routes: the page, its Excel export, a district's drill-down and the API."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("city", __name__, url_prefix="/city")
api_bp = Blueprint("city_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)

# The modules that attach routes to the blueprints above.
ROUTE_MODULES = ("views", "api")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named in ROUTE_MODULES."""
    from importlib import import_module
    for name in ROUTE_MODULES:
        import_module(f"portal.city.{name}")
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
