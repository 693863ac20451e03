"""Conditional requests for the public pages: an ETag that changes as soon as the bureau
publishes something, so a reader's browser (or a proxy) asks again cheaply and gets 304."""
import hashlib

from flask import make_response, request

from portal.i18n import select_locale


def public_etag(*parts):
    """A strong ETag over ``parts`` (the tenant's publication fingerprint, say) plus what else
    changes the page: the path and query, 关怀版 and the language."""
    key = "|".join(str(p) for p in (*parts, request.full_path, request.cookies.get("care") == "1",
                                    select_locale()))
    return hashlib.sha256(key.encode()).hexdigest()[:40]


def conditional(etag, render):
    """304 when the client already holds ``etag``; otherwise ``render()`` with the ETag set.
    The pages depend on the care/lang cookies, so shared caches must keep them apart."""
    if request.if_none_match.contains(etag):
        response = make_response("", 304)
    else:
        response = make_response(render())
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Cookie")
    return response
