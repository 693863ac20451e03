"""JSON endpoints of the billing package (under /api/v1)."""
from flask import Blueprint

from portal.extensions import csrf

api_bp = Blueprint("billing_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)
