"""Monthly settlement, deductions, approval and the budget view (docs/DOMAIN.md §8)."""
from flask import Blueprint

bp = Blueprint("billing", __name__, url_prefix="/billing")

