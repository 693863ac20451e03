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
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
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


def connection_lost(exc):
    """The answer when the database connection was lost (a restart, a failover, a killed backend):
    503 with Retry-After. The request's transaction died with the connection (at its commit, it may
    have been kept or not: the API's writes are idempotent, so sending them again is safe)."""
    from flask import make_response
    log.warning("database connection lost on %s %s: %s", request.method, request.path, exc.orig)
    db.session.rollback()  # the next statement (the error page's) takes a fresh connection
    if _wants_problem():
        return problem(503, "The database connection was lost; the request may not have been completed. "
                            "Send it again.", headers={"Retry-After": "5"})
    return make_response(render_template("error.html", status=503, message=None), 503, {"Retry-After": "5"})


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
            if not exc.connection_invalidated:
                raise
            lost = connection_lost(exc)  # keeps the headers set so far (security, caching)
            for key, value in response.headers.items():
                if key.lower() not in ("content-type", "content-length", "location"):
                    lost.headers.setdefault(key, value)
            return lost
        return response

    @app.after_request
    def _no_store_when_signed_in(response):
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
        from flask_babel import gettext as _
        return render_template("error.html", status=400,
                               message=_("The form expired or was not sent from this site. Please reload the page and try again.")), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc):
        status = exc.code or 500
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110 §15.5.6, pages and API alike
        if _wants_problem():
            return problem(status, exc.description if status != 404 else "No such resource.", headers=headers)
        return render_template("error.html", status=status, message=None), status, headers

    @app.errorhandler(DBAPIError)
    def _database_error(exc):
        if not exc.connection_invalidated:
            return _unexpected(exc)
        return connection_lost(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_problem():
            return problem(500, "An unexpected error occurred; it has been logged.")
        return render_template("error.html", status=500, message=None), 500
