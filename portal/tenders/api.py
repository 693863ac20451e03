"""JSON endpoints of the tenders package (under /api/v1)."""
from flask import Blueprint

from portal.extensions import csrf

api_bp = Blueprint("tenders_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)
