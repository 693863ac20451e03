"""The audit trail's routes: its blueprint and the module that attaches routes to it."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named here."""
    from portal.audit import views  # noqa: F401  (routes)
    app.register_blueprint(bp)
