"""Visits' routes: its blueprints and the modules that attach routes and jobs to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("visits", __name__, url_prefix="/supervision")
field_bp = Blueprint("field", __name__, url_prefix="/field")  # the field-worker web app
api_bp = Blueprint("visits_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named here."""
    from portal.visits import (api, correction_views, decision_api, exception_views,  # noqa: F401  (routes, jobs)
                               field_views, tasks, views)
    app.register_blueprint(bp)
    app.register_blueprint(field_bp)
    app.register_blueprint(api_bp)
