"""Request plumbing shared by every blueprint: one transaction per request, problem+json,
security headers.

The transaction: a request commits what it wrote unless an exception escaped its view (or a
``before_request``), whatever the status code — an error handler (here or a blueprint's) answering
4xx/5xx after an exception means the request rolls back. A view that refuses a change and answers
with a form and 422 itself must not have kept anything of the attempt: the service call runs in a
savepoint (``with db.session.begin_nested():`` around it, or inside the service), which a
DomainError undoes before the view catches it. A request that recorded a security event before an
exception escaped (``g.force_commit``: a denied access, a failed sign-in) keeps the whole transaction.

Caching: every response to a signed-in request (a web session with a user, or a bearer token) says
``Cache-Control: no-store`` and ``Pragma: no-cache``, HTML and JSON alike, so no browser or proxy
keeps a page of someone's work; a response that already forbids storing (downloads: ``private,
no-store``) keeps its own header. Anonymous requests keep what the view set (the public pages' and
open data's ETags and ``no-cache``, core/caching.py)."""
import logging

from flask import g, jsonify, render_template, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from portal.core.errors import DomainError
from portal.extensions import db

log = logging.getLogger("portal")

PROBLEM_TITLES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large",
    415: "Unsupported Media Type", 422: "Unprocessable Content", 429: "Too Many Requests",
    500: "Internal Server Error", 503: "Service Unavailable",
}


# What an HTTP error says when it was raised with werkzeug's own (English) description.
_HTTP_DETAILS = {
    400: _l("The request could not be understood."),
    401: _l("Sign in first."),
    403: _l("You may not do this."),
    404: _l("No such resource."),
    405: _l("This method is not allowed at this address."),
    409: _l("The request conflicts with the current state of the resource."),
    413: _l("The request is too large."),
    415: _l("This media type is not accepted here."),
    429: _l("Too many requests. Please try again later."),
}


def _http_detail(exc, status):
    """The detail of an HTTP error in the reader's language: a description the code gave is
    translated (its msgid is in the catalogue); werkzeug's default one is replaced."""
    if status == 404 or exc.description == type(exc).description:
        return str(_HTTP_DETAILS.get(status, _l("The request could not be completed.")))
    return _(exc.description)


def problem(status, detail="", errors=None, title=None, headers=None):
    """An RFC 9457 problem response."""
    body = {"type": "about:blank", "title": title or PROBLEM_TITLES.get(status, "Error"),
            "status": status, "detail": detail or ""}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="portal"'
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def signed_in():
    """Whether this request comes from someone signed in: a user loaded from the web session or a
    bearer token, or a session that names a user (even one no longer allowed in)."""
    return bool(current_user and current_user.is_authenticated) or "_user_id" in session


def _wants_problem():
    return request.path.startswith("/api/")


# The headers a 503 made at the commit keeps from the response it replaces (core/http.py sets them
# all); the rest (ETag, Last-Modified, Content-Disposition, Cache-Control, cookies) described an
# answer that was not given.
SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "Strict-Transport-Security",
                    "X-Content-Type-Options", "Referrer-Policy", "Permissions-Policy")
_UNAVAILABLE_SQLSTATES = ("57P01", "57P02", "57P03")  # admin/crash shutdown, cannot connect now


def database_unavailable(exc):
    """Is ``exc`` (a DBAPIError) the database being out of reach rather than a fault of the
    request: a connection lost mid-request (SQLAlchemy invalidated it), or one that could not be
    made (refused, timed out, the server starting up or shutting down: a psycopg OperationalError
    without a server's SQLSTATE, or of class 08 "connection exception")."""
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", "-")  # psycopg's errors have one; SQLite's do not
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES


def connection_lost(exc):
    """The answer when the database is out of reach (a restart, a failover, a killed backend, a
    refused connection): 503 with Retry-After and ``Cache-Control: no-store``. The request's
    transaction died with the connection (at its commit, it may have been kept or not: the API's
    writes are idempotent, so sending them again is safe). The page is a minimal one that needs no
    database (no signed-in user, no bureau, no context processors): base.html would query it."""
    from flask import current_app, make_response
    log.warning("database unavailable on %s %s: %s", request.method, request.path, exc.orig)
    g.database_unavailable = True
    try:
        db.session.rollback()  # the next statement takes a fresh connection
    except DBAPIError:  # pragma: no cover - the rollback of a dead connection is dropped by SQLAlchemy
        db.session.close()
    headers = {"Retry-After": "5", "Cache-Control": "no-store", "Pragma": "no-cache"}
    if _wants_problem():
        return problem(503, _("The database is unavailable; the request may not have been completed. "
                              "Send it again."), headers=headers)
    page = current_app.jinja_env.get_template("error_unavailable.html").render()
    return make_response(page, 503, headers)


def register(app):
    handle_user_exception = app.handle_user_exception

    def _note_escaped_exception(exc):
        """Every exception that leaves a view or a before_request passes here on its way to its
        error handler: the request will roll back."""
        g.exception_escaped = True
        return handle_user_exception(exc)

    app.handle_user_exception = _note_escaped_exception

    @app.after_request
    def _finish_transaction(response):
        """Commit the request's single transaction unless an exception escaped; roll back then.
        A server error rolls back too, whoever answered it: the 500 Flask makes when the commit
        itself failed passes here again, and must not try to commit a second time."""
        if (g.get("exception_escaped") and not g.get("force_commit")) or response.status_code >= 500:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except DBAPIError as exc:
            if not database_unavailable(exc):
                raise
            lost = connection_lost(exc)  # keeps only the security headers of the response it replaces
            for key in SECURITY_HEADERS:
                if key in response.headers:
                    lost.headers[key] = response.headers[key]
            return lost
        return response

    @app.after_request
    def _no_store_when_signed_in(response):
        if g.get("database_unavailable"):
            return response  # its answer says no-store already; current_user would query the database
        if signed_in():
            if "no-store" not in (response.headers.get("Cache-Control") or ""):
                response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        return response

    @app.after_request
    def _security_headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy",
                     "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                     "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
                     "form-action 'self'; frame-ancestors 'none'")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        h.setdefault("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
        if request.is_secure or app.config["PORTAL_ENV"] == "production":
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response

    # Error handlers only render; _finish_transaction rolls the request back (an exception
    # escaped) unless it recorded a security event that must be kept (g.force_commit).
    @app.errorhandler(DomainError)
    def _domain_error(exc):
        if _wants_problem():
            return problem(exc.status, exc.message, exc.errors or None)
        return render_template("error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc):
        if _wants_problem():
            return problem(400, exc.description)
        return render_template("error.html", status=400,
                               message=_("The form expired or was not sent from this site. Please reload the page and try again.")), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        original = getattr(exc, "original_exception", None)  # an exception outside the views (opening the session)
        if isinstance(original, DBAPIError) and database_unavailable(original):
            return connection_lost(original)
        status = exc.code or 500
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110 §15.5.6, pages and API alike
        if _wants_problem():
            return problem(status, _http_detail(exc, status), headers=headers)
        return render_template("error.html", status=status, message=None), status, headers

    @app.errorhandler(DBAPIError)
    def _database_error(exc):
        if not database_unavailable(exc):
            return _unexpected(exc)
        return connection_lost(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_problem():
            return problem(500, _("An unexpected error occurred; it has been logged."))
        return render_template("error.html", status=500, message=None), 500
