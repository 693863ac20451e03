"""Pagination of select statements for long lists."""
from flask import request

from portal.extensions import db


def paginate(stmt, per_page=25):
    """A Flask-SQLAlchemy page of ``stmt`` for the ``page`` query argument (never an error)."""
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(stmt, page=max(page, 1), per_page=per_page, error_out=False)
