"""Contracts, service items and quotas, beneficiaries and assignments (docs/DOMAIN.md §5–6)."""
from flask import Blueprint

bp = Blueprint("contracts", __name__, url_prefix="/contracts")

