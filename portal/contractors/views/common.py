"""Helpers shared by the contractor pages."""
from flask import abort

from portal.core.errors import DomainError  # noqa: F401  (re-exported for the views)
from portal.core.forms import show_refusal


def form_errors(form, exc, default_field):
    """Show a refused action's messages on the form's fields (the default one if none is named)."""
    show_refusal(form, exc, default_field)


def require_valid(form):
    """Action forms (buttons with a CSRF token) either validate or are a bad request."""
    if not form.validate_on_submit():
        abort(400)

