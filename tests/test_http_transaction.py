"""One transaction per request (portal/core/http.py): it commits unless an exception escaped the
view, whatever the status code; an escaped exception rolls it back, even when an error handler
answers with 4xx, unless a security event must be kept (g.force_commit). A refusal a view shows
itself keeps nothing of the attempt when the attempt ran in a savepoint."""
import uuid

import pytest
from flask import abort, g, redirect
from sqlalchemy import select

from portal.core.errors import DomainError
from portal.extensions import db
from portal.jobs.models import JobRun
from portal.tenancy.scope import all_tenants
from tests import support


def _write(name):
    """A row the test can look for afterwards (a platform job run: no tenant needed)."""
    with all_tenants():
        db.session.add(JobRun(id=str(uuid.uuid4()), name=name))
        db.session.flush()


@pytest.fixture(scope="module")
def probe_app(app):
    """An app of the same configuration with probe routes (added before its first request)."""
    from portal import create_app
    config = {key: app.config[key] for key in ("TESTING", "SQLALCHEMY_DATABASE_URI", "REDIS_URL",
                                              "RATELIMIT_STORAGE_URI", "FAST_PASSWORD_HASHING", "UPLOAD_DIR")}
    probe = create_app(config)

    @probe.get("/_probe/answers-422")
    def answers_422():
        _write("answers-422")
        return "refused, shown on the form", 422

    @probe.get("/_probe/redirects")
    def redirects():
        _write("redirects")
        return redirect("/")

    @probe.get("/_probe/raises-domain-error")
    def raises_domain_error():
        _write("raises-domain-error")
        raise DomainError("refused")

    @probe.get("/api/v1/_probe/raises-domain-error")
    def raises_domain_error_api():
        _write("raises-domain-error-api")
        raise DomainError("refused")

    @probe.get("/_probe/aborts")
    def aborts():
        _write("aborts")
        abort(404)

    @probe.get("/_probe/fails")
    def fails():
        _write("fails")
        raise RuntimeError("unexpected, on purpose")

    @probe.get("/_probe/security-event")
    def security_event():
        _write("security-event")
        g.force_commit = True
        abort(403)

    @probe.get("/_probe/answers-503")
    def answers_503():
        _write("answers-503")
        return "not ready", 503

    @probe.get("/_probe/commit-fails")
    def commit_fails():
        """Two new rows with one primary key: the request's commit itself fails."""
        twin = str(uuid.uuid4())
        with all_tenants():
            db.session.add(JobRun(id=twin, name="commit-fails"))
            db.session.add(JobRun(id=twin, name="commit-fails"))
        return "written"

    @probe.get("/_probe/savepoint-refusal")
    def savepoint_refusal():
        _write("before-the-attempt")
        try:
            with db.session.begin_nested():
                _write("the-attempt")
                raise DomainError("refused")
        except DomainError:
            return "refused, shown on the form", 422

    return probe


def _kept(app):
    with support.as_platform(app):
        return sorted(db.session.scalars(select(JobRun.name)))


@pytest.mark.parametrize("path, status, kept", [
    ("/_probe/answers-422", 422, ["answers-422"]),
    ("/_probe/redirects", 302, ["redirects"]),
    ("/_probe/raises-domain-error", 422, []),
    ("/api/v1/_probe/raises-domain-error", 422, []),
    ("/_probe/aborts", 404, []),
    ("/_probe/fails", 500, []),
    ("/_probe/answers-503", 503, []),
    ("/_probe/security-event", 403, ["security-event"]),
    ("/_probe/savepoint-refusal", 422, ["before-the-attempt"]),
])
def test_a_request_commits_unless_an_exception_escaped(app, probe_app, path, status, kept):
    response = probe_app.test_client().get(path)
    assert response.status_code == status
    assert _kept(app) == kept


def test_a_commit_that_fails_answers_500_keeps_nothing_and_the_next_request_works(app, probe_app, monkeypatch):
    """Flask answers the failed commit with a 500 that passes through the transaction hook again:
    it rolls back (a second commit would raise on the failed session) and the process goes on."""
    monkeypatch.setitem(probe_app.config, "PROPAGATE_EXCEPTIONS", False)  # as in production
    client = probe_app.test_client()
    assert client.get("/_probe/commit-fails").status_code == 500
    assert _kept(app) == []
    assert client.get("/_probe/answers-422").status_code == 422
    assert _kept(app) == ["answers-422"]
