"""Assessments' routes: its blueprints and the modules that attach routes and jobs to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("assessments", __name__, url_prefix="/assessments")
api_bp = Blueprint("assessments_api", __name__, url_prefix="/api/v1")
# the assessment form of the field-worker web app, beside /field/ (visits) so that the app's
# service worker, whose scope is /field/, keeps it for offline use too
field_bp = Blueprint("assessment_field", __name__, url_prefix="/field/assessments")
csrf.exempt(api_bp)


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named here."""
    from portal.assessments import (api, change_views, field_views, file_views, flow_views,  # noqa: F401  (routes)
                                    stats_views, views)
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(field_bp)
