"""The role home pages' routes: the dashboard blueprint and the module that attaches routes to it."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__)


def register(app):
    """Attach the routes of this package to ``app``; the modules are named here."""
    from portal.dashboard import views  # noqa: F401  (routes)
    app.register_blueprint(bp)
