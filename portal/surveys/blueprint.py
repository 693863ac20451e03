"""Surveys' routes: its blueprints and the modules that attach routes and jobs to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("surveys", __name__, url_prefix="/surveys")
api_bp = Blueprint("surveys_api", __name__, url_prefix="/api/v1")
# the survey form of the field-worker web app, beside /field/ (visits) so that the app's service
# worker, whose scope is /field/, keeps it for offline use too
field_bp = Blueprint("survey_field", __name__, url_prefix="/field/surveys")
csrf.exempt(api_bp)

# The modules that attach routes to the blueprints above.
ROUTE_MODULES = ("api", "views", "field_views", "standards_views", "review_views", "recheck_views",
                 "schedule_views", "stats_views")


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named in ROUTE_MODULES."""
    from importlib import import_module
    for name in ROUTE_MODULES:
        import_module(f"portal.surveys.{name}")
    app.register_blueprint(bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(field_bp)
