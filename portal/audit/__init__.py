"""The audit trail: recording, verification, the auditor's page."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")

