"""Annual evaluations' routes: the bureau's pages at /evaluations."""
from flask import Blueprint

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")


def register(app):
    """Attach the routes of this package to ``app``."""
    from portal.evaluations import views  # noqa: F401  (routes)
    app.register_blueprint(bp)
