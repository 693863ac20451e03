"""Financial reports' routes: the pages at /financial-reports."""
from flask import Blueprint

bp = Blueprint("finreports", __name__, url_prefix="/financial-reports")

ROUTE_MODULES = ("views", "report_views")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named in ROUTE_MODULES."""
    from importlib import import_module
    for name in ROUTE_MODULES:
        import_module(f"portal.finreports.{name}")
    app.register_blueprint(bp)
