"""Forms every package uses: the empty confirmation form, and showing a refused action (a
DomainError) on the form that asked for it."""
from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """An empty form: a POST with its CSRF token confirms an action."""


def show_refusal(form, exc, default_field=None, aliases=None):
    """Put each of ``exc.errors``' messages on the form field it names (``aliases`` maps an error
    key to a differently named field). Messages naming no field of the form, or a refusal with no
    field at all, go on ``default_field`` when one is given. Returns whether anything was placed."""
    placed = False
    leftover = []
    for key, messages in (exc.errors or {}).items():
        messages = [str(m) for m in (messages if isinstance(messages, (list, tuple)) else [messages])]
        field = getattr(form, (aliases or {}).get(key, key), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + messages
            placed = True
        else:
            leftover.extend(messages)
    if default_field is not None and (leftover or not placed):
        field = getattr(form, default_field)
        field.errors = list(field.errors) + (leftover or [exc.message])
        placed = True
    return placed
