"""The database out of reach (core/http.py connection_lost): a connection that cannot be made
(refused: the server is down or restarting) answers 503 like one lost mid-request — problem+json
for the API, a minimal page otherwise that needs no database — and a 503 made at the commit keeps
only the security headers of the response it replaces. Both database passes (the unreachable
database is a PostgreSQL URL on a port nothing listens on; the commit failure is simulated)."""
import socket
import uuid

import pytest
from sqlalchemy.exc import OperationalError

from portal.extensions import db
from portal.jobs.models import JobRun
from portal.tenancy.scope import all_tenants

PROBLEM = "application/problem+json"
SECURITY = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
            "Permissions-Policy")


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # released on leaving: nothing listens there


@pytest.fixture
def unreachable_app(app):
    """An app whose database refuses connections. Exceptions are not propagated (as in production)
    so that one raised while opening the web session reaches the error handlers."""
    from portal import create_app
    config = {key: app.config[key] for key in ("FAST_PASSWORD_HASHING", "UPLOAD_DIR")}
    config.update(TESTING=True, PROPAGATE_EXCEPTIONS=False, SERVER_NAME=None,
                  SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://portal@127.0.0.1:{closed_port()}/portal")
    down = create_app(config)
    yield down
    with down.app_context():
        db.session.remove()
        db.engine.dispose()


def _assert_unavailable(response):
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.headers["Retry-After"] == "5" and response.headers["Cache-Control"] == "no-store"
    assert "X-Frame-Options" in response.headers


def test_a_refused_database_connection_answers_503_for_pages_and_the_api(unreachable_app):
    client = unreachable_app.test_client()
    page = client.get("/public/")  # its view queries the database
    _assert_unavailable(page)
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "服务暂时不可用" in text and "<html" in text  # the minimal page, in full

    signed_in = unreachable_app.test_client()
    signed_in.set_cookie(unreachable_app.config["SESSION_COOKIE_NAME"], "a-session-id")  # opening the web session queries the database
    page = signed_in.get("/contracts/")
    _assert_unavailable(page)
    assert page.mimetype == "text/html" and "服务暂时不可用" in page.get_data(as_text=True)

    api = client.get("/api/v1/me", headers={"Authorization": "Bearer some-token"})
    _assert_unavailable(api)
    assert api.mimetype == PROBLEM and api.get_json()["status"] == 503


def test_an_operational_error_of_sql_stays_a_500(app):
    from portal.core.http import database_unavailable

    class SyntaxProblem(Exception):
        sqlstate = "42601"

    class Refused(Exception):
        sqlstate = None

    class Starting(Exception):
        sqlstate = "57P03"
    assert not database_unavailable(OperationalError("SELECT", {}, SyntaxProblem()))
    assert not database_unavailable(OperationalError("SELECT", {}, Exception("database is locked")))  # SQLite
    assert database_unavailable(OperationalError("SELECT", {}, Refused()))
    assert database_unavailable(OperationalError("SELECT", {}, Starting()))
    assert database_unavailable(OperationalError("SELECT", {}, SyntaxProblem(), connection_invalidated=True))


@pytest.fixture
def committing_app(app, monkeypatch):
    """An app whose next request's commit finds the connection gone (after its response was made)."""
    from portal import create_app
    config = {key: app.config[key] for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "REDIS_URL",
                                              "RATELIMIT_STORAGE_URI", "FAST_PASSWORD_HASHING", "UPLOAD_DIR")}
    probe = create_app(config)

    @probe.get("/_probe/download")
    def download():
        with all_tenants():
            db.session.add(JobRun(id=str(uuid.uuid4()), name="download"))
            db.session.flush()
        response = probe.response_class("the file", mimetype="text/csv")
        response.headers["ETag"] = '"abc"'
        response.headers["Last-Modified"] = "Wed, 01 Jan 2031 00:00:00 GMT"
        response.headers["Content-Disposition"] = "attachment; filename=list.csv"
        response.headers["Cache-Control"] = "public, max-age=3600"
        response.set_cookie("first", "1")
        response.set_cookie("second", "2")
        return response

    real_commit, failed = db.session.commit, []

    def commit_on_a_dead_connection():  # the request's commit fails; the next one has a new connection
        from flask import has_request_context, request
        if has_request_context() and request.path == "/_probe/download" and not failed:
            failed.append(True)
            db.session.rollback()
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"), connection_invalidated=True)
        return real_commit()
    monkeypatch.setattr(db.session, "commit", commit_on_a_dead_connection)
    yield probe
    monkeypatch.undo()
    with probe.app_context():
        db.session.remove()


def test_a_503_at_the_commit_keeps_only_the_security_headers(committing_app):
    response = committing_app.test_client().get("/_probe/download")
    _assert_unavailable(response)
    for header in SECURITY:
        assert header in response.headers
    for header in ("ETag", "Last-Modified", "Content-Disposition", "Set-Cookie"):
        assert header not in response.headers, header
    assert response.headers["Cache-Control"] == "no-store" and response.mimetype == "text/html"
    with committing_app.app_context(), all_tenants():
        assert db.session.query(JobRun).filter_by(name="download").count() == 0
