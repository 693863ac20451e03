"""Contractors' routes: its blueprint and the modules that attach routes to it."""
from flask import Blueprint

bp = Blueprint("contractors", __name__, url_prefix="/contractors")


def register(app):
    """Attach the routes of this package to ``app``; the modules are named here."""
    from portal.contractors.views import onboarding, registrations, roster  # noqa: F401  (routes)
    app.register_blueprint(bp)
