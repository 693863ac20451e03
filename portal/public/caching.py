"""Conditional requests for the public pages (the validators themselves live in
portal/core/caching.py, shared with the open data): an ETag that changes as soon as the bureau
publishes something, so a reader's browser (or a proxy) asks again cheaply and gets 304."""
from flask import make_response, request

from portal.core.caching import conditional as conditional_on, make_etag, stamp
from portal.i18n import select_locale


def public_etag(*parts):
    """A strong ETag over ``parts`` (the tenant's publication fingerprint, say) plus what else
    changes the page: the path and query, 关怀版 and the language."""
    return make_etag(*parts, request.full_path, request.cookies.get("care") == "1", select_locale())


def conditional(etag, render):
    """304 when the client already holds ``etag``; otherwise ``render()`` with the ETag set.
    The pages depend on the care/lang cookies, so shared caches must keep them apart."""
    response = conditional_on(etag) or stamp(make_response(render()), etag)
    response.vary.add("Cookie")
    return response
