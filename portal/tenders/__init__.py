"""Procurement: budget lines, plans, tenders, bids, evaluation and award (DOMAIN.md §3–4)."""
from flask import Blueprint

bp = Blueprint("tenders", __name__, url_prefix="/tenders")

