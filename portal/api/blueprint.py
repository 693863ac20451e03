"""The JSON API base's routes (health, readiness, the OpenAPI document): its blueprint and the
module that attaches routes to it."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("api", __name__)
csrf.exempt(bp)


def register(app):
    """Attach the routes of this package to ``app``; the modules are named here."""
    from portal.api import views  # noqa: F401  (routes)
    app.register_blueprint(bp)
