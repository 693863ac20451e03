"""Procurement: budget lines, plans, tenders, bids, evaluation and award (docs/DOMAIN.md §3–4)."""
from flask import Blueprint

bp = Blueprint("tenders", __name__, url_prefix="/tenders")



@bp.app_template_filter("unit_label")
def unit_label(code):
    """A service unit's label ("visit" → 每次上门服务…) for any template."""
    from portal.tenders.lifecycle import UNIT_LABELS
    return UNIT_LABELS.get(code, code)
