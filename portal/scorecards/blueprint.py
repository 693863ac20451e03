"""Scorecards' routes: its blueprint and the modules that attach routes and jobs to it."""
from flask import Blueprint

bp = Blueprint("scorecards", __name__, url_prefix="/supervision")


def register(app):
    """Attach the routes and jobs of this package to ``app``; the modules are named here."""
    from portal.scorecards import tasks, views  # noqa: F401  (routes, jobs)
    app.register_blueprint(bp)
