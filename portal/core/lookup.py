"""Loading one row by id the way every service does: through the tenant scope (and the bid
seal), so a row of another bureau, or one the person may not see, is simply not found."""
from portal.core.errors import NotFound
from portal.extensions import db


def get_or_not_found(model, row_id, message):
    """The ``model`` row with ``row_id`` visible in the current scope, or NotFound(message)."""
    row = db.session.get(model, row_id)
    if row is None:
        raise NotFound(message)
    return row
