"""Pagination of long lists: one helper for every list, web page or JSON, and the links of the
one ``pager`` macro (templates/_macros.html)."""
from flask import current_app, g, request, url_for
from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination

from portal.core.errors import DomainError
from portal.core.query import max_per_page, page_arg, per_page_arg
from portal.extensions import db

DEFAULT_PER_PAGE = 25


def page_size(per_page=None):
    """Rows on one page: the list's own size (else the PER_PAGE setting), never more than the
    MAX_PER_PAGE setting."""
    size = per_page or current_app.config.get("PER_PAGE", DEFAULT_PER_PAGE)
    return max(1, min(size, max_per_page()))


def _asked():
    """(page number, page size asked, notice) from the ``page`` and ``per_page`` query parameters
    (query.page_arg, query.per_page_arg): a JSON list refuses a bad number (422), a web page
    shows the first page with a notice saying so."""
    try:
        number, asked_size = page_arg(), per_page_arg()
    except DomainError as exc:
        if request.path.startswith("/api/"):
            raise
        return 1, None, exc.message
    return number, asked_size, None


def _kept(page, number, notice):
    """``page`` with its notice (a number past the last page on a web page), kept on ``g.list_page``."""
    if notice is None and number > 1 and number > page.pages and not request.path.startswith("/api/"):
        notice = _("There is no page %(page)s; the last page is %(last)s.", page=number, last=max(page.pages, 1))
    page.notice = notice
    g.list_page = page
    return page


def paginate(stmt, per_page=None):
    """The page of ``stmt`` asked for by the ``page`` and ``per_page`` query parameters
    (query.page_arg, query.per_page_arg; ``per_page`` is the list's own size). A JSON list
    refuses a bad number (422) and answers a page past the last with no items. A web page never
    fails on them: a bad number shows the first page, a number past the last an empty page,
    each with ``page.notice`` saying so (the pager macro shows it with a link to the first
    page). The page is kept on ``g.list_page``."""
    number, asked_size, notice = _asked()
    page = db.paginate(stmt, page=number, per_page=page_size(asked_size or per_page), error_out=False)
    return _kept(page, number, notice)


class ListPagination(Pagination):
    """A page of a list already in memory (rows computed in Python, not a query), the same object
    as ``paginate``'s pages for the pager macro and ``g.list_page``."""

    def _query_items(self):
        return list(self._query_args["rows"][self._query_offset:self._query_offset + self.per_page])

    def _query_count(self):
        return len(self._query_args["rows"])


def paginate_list(rows, per_page=None):
    """The page of the in-memory list ``rows`` asked for by the ``page`` and ``per_page`` query
    parameters, with the same rules and notices as ``paginate``."""
    number, asked_size, notice = _asked()
    size = page_size(asked_size or per_page)
    page = ListPagination(page=number, per_page=size, max_per_page=size, error_out=False, rows=list(rows))
    return _kept(page, number, notice)


def page_url(number, endpoint=None):
    """The URL of page ``number`` of the list being shown: the same endpoint, path and query
    parameters, another page."""
    args = {**request.args.to_dict(flat=False), **(request.view_args or {}), "page": number}
    return url_for(endpoint or request.endpoint, **args)


def register(app):
    app.add_template_global(page_url)
