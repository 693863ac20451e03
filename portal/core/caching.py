"""Conditional GET for responses that change only when something is published: an ETag and a
Last-Modified, and 304 Not Modified when the client already holds the current version.

Used by the open data (portal/opendata/api.py) and the public pages (portal/public/caching.py).
Two ways to use it::

    # 1. validators known before the body is built (cheap: nothing rendered for a 304)
    etag = make_etag(tenant.id, newest_id, count, page)
    not_modified = conditional(etag, last_modified)
    if not_modified is not None:
        return not_modified
    return stamp(build_response(), etag, last_modified)   # streamed bodies too

    # 2. a response already built: its ETag (set, or hashed from the body) and Last-Modified
    return conditional(make_response(render_template(...)), last_modified)

If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2); Last-Modified has one-second
precision, so the ETag is what tells two publications in the same second apart. Responses say
``Cache-Control: no-cache``: caches may keep them but must revalidate, so a new publication is
seen at once.
"""
import hashlib
from datetime import timezone

from flask import Response, make_response, request
from werkzeug.http import is_resource_modified

CACHE_CONTROL = "no-cache"


def make_etag(*parts):
    """A strong ETag value (without quotes) from anything that identifies the content."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def _aware(moment):
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def is_fresh(etag, last_modified=None):
    """True when the request's If-None-Match / If-Modified-Since say the client is up to date."""
    if request.method not in ("GET", "HEAD"):
        return False
    if not request.if_none_match and not request.if_modified_since:
        return False
    return not is_resource_modified(request.environ, etag=etag, last_modified=_aware(last_modified))


def stamp(response, etag=None, last_modified=None):
    """Set ETag, Last-Modified and Cache-Control on ``response`` and return it."""
    if etag is not None:
        response.set_etag(etag)
    if last_modified is not None:
        response.last_modified = _aware(last_modified)
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def not_modified_response(etag, last_modified=None):
    """An empty 304 carrying the validators."""
    return stamp(Response(status=304), etag, last_modified)


def conditional(response_or_etag, last_modified=None):
    """With an ETag string: a 304 response when the client holds that version, else None (build
    the body, then ``stamp`` it). With a response: the response stamped with its ETag (hashed from
    the body when it has none; not for streamed bodies) and ``last_modified``, or a 304 in its place."""
    if isinstance(response_or_etag, str):
        return not_modified_response(response_or_etag, last_modified) if is_fresh(response_or_etag, last_modified) else None
    response = make_response(response_or_etag)
    etag, _weak = response.get_etag()
    if etag is None:
        response.add_etag()
        etag, _weak = response.get_etag()
    if is_fresh(etag, last_modified):
        return not_modified_response(etag, last_modified)
    return stamp(response, etag, last_modified)


def newest(*moments):
    """The latest of some datetimes (None ignored), for Last-Modified."""
    known = [_aware(m) for m in moments if m is not None]
    return max(known) if known else None


__all__ = ["conditional", "is_fresh", "make_etag", "newest", "not_modified_response", "stamp"]
