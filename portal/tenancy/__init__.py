"""Tenancy: bureaus, their settings and calendars, and the platform admin's pages."""
from flask import Blueprint

bp = Blueprint("tenancy", __name__, url_prefix="/platform")


@bp.teardown_app_request
def _forget_request_tenant(exc=None):
    from portal.tenancy.scope import reset_request_tenant
    reset_request_tenant(exc)
