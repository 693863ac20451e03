"""Public feedback's routes: the bureau's pages at /feedback and the public JSON endpoints under
/api/v1/public (no login). The public HTML pages are the public site's (public/feedback_views.py)."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("feedback", __name__, url_prefix="/feedback")
api_bp = Blueprint("feedback_api", __name__, url_prefix="/api/v1/public")
csrf.exempt(api_bp)

ROUTE_MODULES = ("api", "views")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named in ROUTE_MODULES."""
    from importlib import import_module
    for name in ROUTE_MODULES:
        import_module(f"portal.feedback.{name}")
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
