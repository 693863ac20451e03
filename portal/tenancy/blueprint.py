"""Tenancy's routes: its blueprints and the modules that attach routes to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("tenancy", __name__)
api_bp = Blueprint("tenancy_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


@bp.teardown_app_request
def _forget_request_tenant(exc=None):
    from portal.tenancy.scope import reset_request_tenant
    reset_request_tenant(exc)


def register(app):
    """Attach the routes of this package to ``app``; the modules are named here."""
    from portal.tenancy import api, calendar_views, views  # noqa: F401  (routes)
    app.register_blueprint(api_bp)
    app.register_blueprint(bp)
