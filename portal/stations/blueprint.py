"""Stations' and training's routes: the blueprints and the modules that attach routes to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("stations", __name__, url_prefix="/stations")
training_bp = Blueprint("training", __name__, url_prefix="/training")
api_bp = Blueprint("stations_api", __name__, url_prefix="/api/v1")
# the station check-in of the field-worker web app, beside /field/ (visits) so that the app's
# service worker, whose scope is /field/, keeps it for offline use too
field_bp = Blueprint("station_field", __name__, url_prefix="/field/stations")
csrf.exempt(api_bp)

# The modules that attach routes to the blueprints above.
ROUTE_MODULES = ("api", "views", "posting_views", "presence_views", "log_views", "training_views", "field_views")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named in ROUTE_MODULES."""
    from importlib import import_module
    for name in ROUTE_MODULES:
        import_module(f"portal.stations.{name}")
    app.register_blueprint(bp)
    app.register_blueprint(training_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(field_bp)
