"""The public site's routes: the public blueprint, the staff side at /disclosures (policy editor,
disclosures due) and the modules that attach routes to them."""
from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/public")
manage_bp = Blueprint("disclosures", __name__, url_prefix="/disclosures")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named here."""
    from portal.public import assessment_views, audit_heads_view, feedback_views, policy, survey_views, views  # noqa: F401
    app.register_blueprint(bp)
    app.register_blueprint(manage_bp)
