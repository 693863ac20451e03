"""Helpers shared by the contractor pages."""
from flask import abort

from portal.core.errors import DomainError  # noqa: F401  (re-exported for the views)


def form_errors(form, exc, default_field):
    """Show a refused action's messages on the form's fields (the default one if none is named)."""
    placed = False
    for field, messages in exc.errors.items():
        target = getattr(form, field, None)
        if target is not None:
            target.errors = list(target.errors) + list(messages)
            placed = True
    if not placed:
        getattr(form, default_field).errors = list(getattr(form, default_field).errors) + [exc.message]


def require_valid(form):
    """Action forms (buttons with a CSRF token) either validate or are a bad request."""
    if not form.validate_on_submit():
        abort(400)

