"""Tenancy: bureaus, their settings and calendars, the platform admin's pages (/platform/…) and
the bureau administrator's settings page (/settings/)."""
from flask import Blueprint

bp = Blueprint("tenancy", __name__)


@bp.teardown_app_request
def _forget_request_tenant(exc=None):
    from portal.tenancy.scope import reset_request_tenant
    reset_request_tenant(exc)
