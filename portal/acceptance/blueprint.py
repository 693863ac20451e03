"""Acceptance's routes: the bureau's pages at /acceptance."""
from flask import Blueprint

bp = Blueprint("acceptance", __name__, url_prefix="/acceptance")


def register(app):
    """Attach the routes of this package to ``app``."""
    from portal.acceptance import views  # noqa: F401  (routes)
    app.register_blueprint(bp)
