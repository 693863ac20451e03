"""Procurement's routes: its blueprints and the modules that attach routes and jobs to them."""
from flask import Blueprint

from portal.extensions import csrf

bp = Blueprint("tenders", __name__, url_prefix="/tenders")
api_bp = Blueprint("tenders_api", __name__, url_prefix="/api/v1")
csrf.exempt(api_bp)


@bp.app_template_filter("unit_label")
def unit_label(code):
    """A service unit's label ("visit" → 每次上门服务…) for any template."""
    from portal.tenders.lifecycle import UNIT_LABELS
    return UNIT_LABELS.get(code, code)


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named here: the
    tender pages, budget lines and the plan, the bid, evaluation and award pages, the tender
    documents, the API."""
    from portal.tenders import (api, award_views, bid_views, document_views, plan_views,  # noqa: F401
                                score_views, tasks, views)
    app.register_blueprint(api_bp)
    app.register_blueprint(bp)
