"""Visits and their verification, spot checks, violations, scorecards (docs/DOMAIN.md §6–7)."""
from flask import Blueprint

bp = Blueprint("supervision", __name__, url_prefix="/supervision")

