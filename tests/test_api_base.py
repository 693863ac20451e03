"""The JSON API base: the OpenAPI document, bearer tokens, problem+json errors, malformed
bodies, health and readiness probes, and security headers (docs/API.md)."""
import hashlib
import json
import os
import re
import uuid
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from limits import parse
from sqlalchemy import event, select, text

from tests import support

PROBLEM = "application/problem+json"
UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:1/nowhere?connect_timeout=2"
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
ISO_WITH_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


# --- helpers ------------------------------------------------------------------------------

def assert_problem(response, status):
    """An RFC 9457 problem with the given status; returns its body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == PROBLEM, response.content_type
    body = json.loads(response.get_data(as_text=True))
    assert isinstance(body, dict)
    for key in ("type", "title", "status", "detail"):
        assert key in body, f"problem body lacks {key!r}: {body}"
    assert body["status"] == status
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str)
    return body


def chinese(text):
    """Whether ``text`` is written in Chinese (the API's default language)."""
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) and not re.search(r"[A-Za-z]{4,} [A-Za-z]{3,}", text)


TOKEN_NO_LONGER_VALID = "此令牌无效或已失效（已被撤销或已过期）。请重新登录以获取新令牌。"


def post_token(client, body, **kwargs):
    return client.post("/api/v1/tokens", json=body, **kwargs)


def credentials(username="gx-officer", password=support.PASSWORD, **extra):
    return {"username": username, "password": password, **extra}


def bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


@contextmanager
def separate_app(app, **overrides):
    """A second app built by the factory with the shared app's configuration (plus
    ``overrides``), for throwaway routes and broken backends without touching the shared app."""
    from portal import create_app
    from portal.extensions import db
    config = {key: app.config[key] for key in (
        "TESTING", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RATELIMIT_STORAGE_URI",
        "FAST_PASSWORD_HASHING", "UPLOAD_DIR", "SERVER_NAME")}
    config.update(overrides)
    other = create_app(config)
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def fresh_token(app, username, tenant_code=None):
    """A bearer token issued directly by the service (no HTTP, no throttling)."""
    from portal.accounts import services
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        if tenant_code:
            tenant_id = db.session.execute(select(Tenant.id).where(Tenant.code == tenant_code)).scalar_one()
        else:
            ids = user.tenant_ids()
            tenant_id = ids[0] if ids else None
        raw, _ = services.issue_token(user, tenant_id)
        db.session.commit()
    return raw


# --- 1. the OpenAPI document -------------------------------------------------------------

def test_openapi_document_is_valid_openapi_3_1(client):
    from openapi_spec_validator import OpenAPIV31SpecValidator, validate
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1.")
    validate(doc)  # raises on an invalid document
    validate(doc, cls=OpenAPIV31SpecValidator)
    for path, method in (("/api/v1/tokens", "post"), ("/api/v1/tokens/current", "delete"),
                         ("/api/v1/me", "get")):
        assert path in doc["paths"], path
        assert method in doc["paths"][path], (path, method)


def test_openapi_validator_catches_a_broken_document(client):
    """The check above has teeth: the validator refuses the same document once broken."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
    doc = client.get("/api/v1/openapi.json").get_json()
    doc["paths"]["/api/v1/me"]["get"]["responses"]["200"] = {"content": {}}  # no description
    with pytest.raises(OpenAPIValidationError):
        validate(doc)


# --- 2. tokens ---------------------------------------------------------------------------

def test_token_is_issued_with_expiry_and_user(client, demo, app):
    response = post_token(client, credentials())
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body["token"], str) and len(body["token"]) >= 32
    assert ISO_WITH_OFFSET.match(body["expires_at"]), body["expires_at"]
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.utcoffset() is not None
    lifetime = app.config["API_TOKEN_LIFETIME"]
    now = datetime.now(timezone.utc)
    assert now + lifetime - timedelta(minutes=5) < expires <= now + lifetime + timedelta(minutes=1)
    assert body["user"]["username"] == "gx-officer"
    assert body["user"]["role"] == "officer"
    assert body["user"]["tenant"] == "ganxian"


def test_wrong_password_is_401_problem(client, demo):
    body = assert_problem(post_token(client, credentials(password="not-the-password")), 401)
    assert "token" not in body


def test_unknown_user_is_401_problem(client, demo):
    body = assert_problem(post_token(client, credentials(username="nobody-at-all")), 401)
    assert "token" not in body


def test_unknown_user_and_wrong_password_look_the_same(client, demo):
    wrong = post_token(client, credentials(password="not-the-password")).get_json()
    unknown = post_token(client, credentials(username="nobody-at-all")).get_json()
    assert wrong == unknown


def test_token_works_on_me(client, demo):
    raw = post_token(client, credentials()).get_json()["token"]
    response = client.get("/api/v1/me", headers=bearer(raw))
    assert response.status_code == 200
    me = response.get_json()
    assert me["username"] == "gx-officer" and me["role"] == "officer" and me["tenant"] == "ganxian"


def test_revoked_token_is_refused(client, demo):
    raw = post_token(client, credentials()).get_json()["token"]
    response = client.delete("/api/v1/tokens/current", headers=bearer(raw))
    assert response.status_code == 204
    assert response.get_data() == b""
    for response in (client.get("/api/v1/me", headers=bearer(raw)),
                     client.delete("/api/v1/tokens/current", headers=bearer(raw))):
        assert assert_problem(response, 401)["detail"] == TOKEN_NO_LONGER_VALID


def test_a_token_of_an_earlier_password_is_refused_in_chinese(client, demo, app):
    from portal.accounts.models import User
    from portal.extensions import db
    raw = post_token(client, credentials()).get_json()["token"]
    with app.app_context():  # the credential stamp moved on (a change elsewhere) without revoking rows
        user = db.session.execute(select(User).where(User.username == "gx-officer")).scalar_one()
        user.auth_epoch += 1
        db.session.commit()
    response = client.get("/api/v1/me", headers={**bearer(raw), "Accept-Language": "zh-CN"})
    assert assert_problem(response, 401)["detail"] == TOKEN_NO_LONGER_VALID
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoking_one_token_leaves_the_others(client, demo):
    first = post_token(client, credentials()).get_json()["token"]
    second = post_token(client, credentials()).get_json()["token"]
    assert first != second
    assert client.delete("/api/v1/tokens/current", headers=bearer(first)).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_expired_token_is_refused(client, demo, app):
    from portal.accounts.models import ApiToken, hash_token
    from portal.extensions import db
    raw = post_token(client, credentials()).get_json()["token"]
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    with app.app_context():
        token = db.session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(raw))).scalar_one()
        token.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.session.commit()
    assert assert_problem(client.get("/api/v1/me", headers=bearer(raw)), 401)["detail"] == TOKEN_NO_LONGER_VALID


def test_only_the_sha256_of_the_token_is_stored(client, demo, app):
    from portal.extensions import db
    raw = post_token(client, credentials()).get_json()["token"]
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM api_token")).mappings().all()
    assert len(rows) == 1
    row = rows[0]
    assert row["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    for column, value in row.items():
        assert raw not in str(value), f"the raw token is stored in api_token.{column}"


def test_multi_tenant_user_must_name_the_tenant(client, demo):
    body = assert_problem(post_token(client, credentials("city-auditor"), headers={"Accept-Language": "zh-CN"}), 422)
    assert "tenant" in body["errors"]
    listed = " ".join(body["errors"]["tenant"])
    assert "ganxian" in listed and "zhanggong" in listed
    assert body["detail"] == "请指明代表哪个民政局操作。" and listed.startswith("请从以下选项中选择：")


def test_multi_tenant_user_gets_a_token_bound_to_the_named_tenant(client, demo, app):
    from portal.accounts.models import ApiToken, hash_token
    from portal.extensions import db
    response = post_token(client, credentials("city-auditor", tenant="zhanggong"))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["user"] == {**body["user"], "username": "city-auditor", "role": "auditor", "tenant": "zhanggong"}
    me = client.get("/api/v1/me", headers=bearer(body["token"])).get_json()
    assert me["tenant"] == "zhanggong"
    with app.app_context():
        token = db.session.execute(
            select(ApiToken).where(ApiToken.token_hash == hash_token(body["token"]))).scalar_one()
        assert token.tenant_id == demo.tenant_id("zhanggong")


@pytest.mark.parametrize("username, tenant", [
    ("gx-auditor", "zhanggong"),    # granted ganxian only
    ("gx-officer", "zhanggong"),    # a ganxian bureau user
    ("city-auditor", "no-such-bureau"),
])
def test_naming_a_tenant_without_a_grant_is_422(client, demo, username, tenant):
    body = assert_problem(post_token(client, credentials(username, tenant=tenant)), 422)
    assert "tenant" in body["errors"]
    assert "token" not in body


def test_too_many_wrong_passwords_are_throttled(client, demo, app):
    assert app.config["LOGIN_THROTTLE_PAIR"] == "5 per 15 minutes"
    limit = parse(app.config["LOGIN_THROTTLE_PAIR"])
    for _ in range(limit.amount):
        assert_problem(post_token(client, credentials(password="guess")), 401)
    response = post_token(client, credentials(password="guess"))
    body = assert_problem(response, 429)
    assert "token" not in body
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit()
    assert 0 < int(retry_after) <= limit.get_expiry()
    # Past the limit even the right password is refused...
    assert_problem(post_token(client, credentials()), 429)
    # ...for that username only.
    assert post_token(client, credentials("gx-admin")).status_code == 201


# --- 3. problem+json for every error under /api/ -------------------------------------------

def test_400_malformed_json(client, demo):
    response = client.post("/api/v1/tokens", data=b'{"username": ', content_type="application/json")
    assert assert_problem(response, 400)["detail"] == "请求正文不是有效的 JSON。"


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-real-token"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic Z3gtb2ZmaWNlcjp0ZXN0"},
    {"Authorization": "bearer " + "x" * 5000},
])
def test_401_without_a_valid_token(client, demo, headers):
    for response in (client.get("/api/v1/me", headers=headers),
                     client.delete("/api/v1/tokens/current", headers=headers)):
        detail = assert_problem(response, 401)["detail"]
        assert chinese(detail), detail
        # A token sent that does not work is named as such; none sent, the answer says to sign in.
        sent = headers.get("Authorization", "").startswith("Bearer ") and headers["Authorization"].strip() != "Bearer"
        assert (detail == TOKEN_NO_LONGER_VALID) == sent, detail


def test_403_from_a_role_gate(app, demo):
    from portal.core.auth import roles_required
    with separate_app(app) as other:
        @other.get("/api/v1/throwaway/finance-only")
        @roles_required("finance")
        def finance_only():
            return {"ok": True}

        client = other.test_client()
        officer = post_token(client, credentials("gx-officer")).get_json()["token"]
        finance = post_token(client, credentials("gx-finance")).get_json()["token"]
        assert_problem(client.get("/api/v1/throwaway/finance-only", headers=bearer(officer)), 403)
        assert_problem(client.get("/api/v1/throwaway/finance-only"), 401)
        assert client.get("/api/v1/throwaway/finance-only", headers=bearer(finance)).status_code == 200


def test_404_unknown_api_path(client):
    assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert_problem(client.post("/api/v1/no/such/thing", json={}), 404)


def test_405_with_allow_header(client):
    response = client.get("/api/v1/tokens")
    assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers.get("Allow", "").split(",")}
    assert "POST" in allowed and "GET" not in allowed


def test_409_and_500_from_throwaway_routes(app):
    from portal.core.errors import Conflict
    from portal.extensions import csrf
    with separate_app(app) as other:
        @other.post("/api/v1/throwaway/conflict")
        @csrf.exempt  # like every API blueprint
        def conflict():
            raise Conflict("The same client_id was sent with a different body.")

        @other.get("/api/v1/throwaway/boom")
        def boom():
            raise RuntimeError("secret-internal-detail password=hunter2 at /srv/portal")

        client = other.test_client()
        body = assert_problem(client.post("/api/v1/throwaway/conflict", json={}), 409)
        assert body["detail"] == "The same client_id was sent with a different body."
        response = client.get("/api/v1/throwaway/boom")
        body = assert_problem(response, 500)
        raw = response.get_data(as_text=True)
        for leak in ("secret-internal-detail", "hunter2", "/srv/portal", "RuntimeError", "Traceback"):
            assert leak not in raw


def test_413_body_over_max_content_length(app, demo, client):
    too_big = credentials(password="p" * 4000)
    # The shared app takes it as far as validation (the password is over maxLength)...
    assert_problem(post_token(client, too_big), 422)
    # ...an app with a 1 KB limit refuses it as too large.
    with separate_app(app, MAX_CONTENT_LENGTH=1024) as other:
        small = other.test_client()
        assert_problem(post_token(small, too_big), 413)
        assert post_token(small, credentials()).status_code == 201


def test_415_text_plain(client, demo):
    response = client.post("/api/v1/tokens", data=json.dumps(credentials()), content_type="text/plain")
    assert assert_problem(response, 415)["detail"] == "请以 application/json 格式发送请求正文。"


def test_422_schema_violation_lists_errors_by_field(client, demo):
    body = assert_problem(post_token(client, {"username": 42}), 422)
    assert isinstance(body["errors"], dict)
    assert "username" in body["errors"] and "password" in body["errors"]
    for messages in body["errors"].values():
        assert isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)


def test_429_is_problem_json(client, demo, app):
    limit = parse(app.config["LOGIN_THROTTLE_PAIR"])
    responses = [post_token(client, credentials(password="guess")) for _ in range(limit.amount + 1)]
    assert_problem(responses[-1], 429)
    assert "Retry-After" in responses[-1].headers


# --- 4. malformed bodies never yield a 500 -----------------------------------------------

def _nested(depth):
    return b"[" * depth + b"]" * depth


MALFORMED = [
    ("invalid-json", b"{username: gx-officer, password: x}", "application/json"),
    ("truncated-json", b'{"username": "gx-officer", "pass', "application/json"),
    ("json-array", json.dumps([support.PASSWORD]).encode(), "application/json"),
    ("json-string", b'"gx-officer"', "application/json"),
    ("json-null", b"null", "application/json"),
    ("json-number", b"12345", "application/json"),
    ("numbers-for-strings", b'{"username": 12345, "password": 3.14, "tenant": 7}', "application/json"),
    ("huge-string", json.dumps({"username": "a" * 1_000_000, "password": "x"}).encode(), "application/json"),
    ("huge-integer", b'{"username": ' + b"9" * 10_000 + b', "password": "x"}', "application/json"),
    ("extra-fields", json.dumps({"username": "gx-officer", "password": support.PASSWORD,
                                 "role": "platform_admin"}).encode(), "application/json"),
    ("missing-fields", b"{}", "application/json"),
    ("missing-password", b'{"username": "gx-officer"}', "application/json"),
    ("wrong-content-type", json.dumps({"username": "gx-officer", "password": support.PASSWORD}).encode(),
     "text/plain"),
    ("form-encoded", b"username=gx-officer&password=" + support.PASSWORD.encode(),
     "application/x-www-form-urlencoded"),
    ("no-content-type", json.dumps({"username": "gx-officer", "password": support.PASSWORD}).encode(), None),
    ("invalid-utf8", b'{"username": "gx-\xff\xfeofficer", "password": "x"}', "application/json"),
    ("empty-body", b"", "application/json"),
    ("deeply-nested-open", b"[" * 10_000, "application/json"),
    ("deeply-nested-closed", _nested(10_000), "application/json"),
    ("deeply-nested-value", b'{"username": ' + _nested(5_000) + b', "password": "x"}', "application/json"),
    ("nested-500-parseable", b'{"username": "gx-officer", "password": "x", "tenant": ' + _nested(500) + b"}",
     "application/json"),
    ("nul-in-username", json.dumps({"username": "gx-officer\u0000", "password": support.PASSWORD}).encode(),
     "application/json"),
    ("nul-in-key", b'{"username": "gx-officer", "password": "x", "te\\u0000nant": "ganxian"}',
     "application/json"),
    ("lone-surrogate", b'{"username": "\\ud800", "password": "x"}', "application/json"),
    ("nan", b'{"username": NaN, "password": Infinity}', "application/json"),
]


def _send(client, method, url, data, content_type, headers=None):
    kwargs = {"data": data, "headers": headers or {}}
    if content_type is not None:
        kwargs["content_type"] = content_type
    return client.open(url, method=method, **kwargs)


@pytest.mark.parametrize("name, data, content_type", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_token_request_is_a_4xx_problem(client, demo, app, name, data, content_type):
    from portal.accounts.models import ApiToken
    from portal.extensions import db
    response = _send(client, "POST", "/api/v1/tokens", data, content_type)
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:300])
    body = assert_problem(response, response.status_code)
    for message in [body["detail"], *(m for ms in body.get("errors", {}).values() for m in ms)]:
        assert chinese(message), (name, message)  # in the API's default language, Chinese
    with app.app_context():
        assert db.session.execute(select(ApiToken)).first() is None, "a malformed request got a token"


def _url_for_rule(rule):
    def fill(match):
        converter = (match.group(1) or "string").lower()
        return {"int": "1", "uuid": str(uuid.uuid4()), "float": "1.0", "path": "x/y"}.get(converter, "x")
    return re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", fill, rule.rule)


def test_malformed_bodies_on_every_api_write_endpoint_never_500(client, demo, app):
    """Every POST/PUT/PATCH/DELETE under /api/, anonymous and with a token of each role."""
    from portal.accounts.models import User
    from portal.extensions import db
    endpoints = sorted(
        (method, _url_for_rule(rule))
        for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")
        for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"})
    assert ("DELETE", "/api/v1/tokens/current") in endpoints and ("POST", "/api/v1/tokens") in endpoints
    with app.app_context():
        one_per_role = {}
        for user in db.session.execute(select(User).order_by(User.username)).scalars():
            one_per_role.setdefault(user.role, user.username)
    failures = []
    tokens = {}  # one token per user, issued again after a request that may have revoked it
    for method, url in endpoints:
        for name, data, content_type in MALFORMED:
            for username in [None, *one_per_role.values()]:
                if username and (username not in tokens or url == "/api/v1/tokens/current"):
                    tokens[username] = fresh_token(app, username)
                headers = bearer(tokens[username]) if username else {}
                response = _send(client, method, url, data, content_type, headers)
                where = f"{method} {url} [{name}] as {username or 'anonymous'}"
                if response.status_code >= 500:
                    failures.append(f"{where}: {response.status_code}")
                elif response.status_code >= 400:
                    try:
                        assert_problem(response, response.status_code)
                    except AssertionError as exc:
                        failures.append(f"{where}: not a problem: {exc}")
    assert not failures, "\n".join(failures[:40])


# --- 5. health and readiness ---------------------------------------------------------------

def test_healthz_does_not_touch_the_database(app, client):
    from portal.extensions import db
    with app.app_context():
        engine = db.engine
    used = []

    def count(*args):
        used.append(1)

    event.listen(engine, "checkout", count)
    try:
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.get_json()["status"] == "ok"
        assert used == [], "healthz took a database connection"
        assert client.get("/readyz").status_code == 200
        assert used, "the probe did not see readyz use the database"  # the listener works
    finally:
        event.remove(engine, "checkout", count)


def test_healthz_answers_with_the_database_unreachable(app):
    with separate_app(app, SQLALCHEMY_DATABASE_URI=UNREACHABLE_DB) as other:
        client = other.test_client()
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.get_json() == {"status": "ok"}


def test_readyz_ok(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    if os.environ.get("PORTAL_TEST_DB") == "postgresql":
        assert app.config["REDIS_URL"], "the PostgreSQL pass runs with Redis"
    if app.config["REDIS_URL"]:
        assert body["checks"]["redis"] == "ok"
    else:
        assert "redis" not in body["checks"]


def test_readyz_503_when_the_database_is_unreachable(app):
    with separate_app(app, SQLALCHEMY_DATABASE_URI=UNREACHABLE_DB) as other:
        response = other.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.mimetype == "application/json"  # a probe answer, not a problem
        body = response.get_json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] != "ok"
        assert "nobody" not in response.get_data(as_text=True)  # no connection details


def test_readyz_503_when_redis_is_configured_but_unreachable(app):
    with separate_app(app, REDIS_URL=UNREACHABLE_REDIS) as other:
        response = other.test_client().get("/readyz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["redis"] != "ok"


# --- security headers ----------------------------------------------------------------------

def _csp_directives(header):
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/api/v1/no-such-thing", "/login"])
def test_security_headers(client, path):
    response = client.get(path)
    assert response.status_code in (200, 404)
    csp = response.headers.get("Content-Security-Policy")
    assert csp, "no Content-Security-Policy"
    directives = _csp_directives(csp)
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None, csp
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors" in directives
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("Referrer-Policy")
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("path", ["/api/v1/openapi.json", "/login"])
def test_hsts_on_https_only_in_development(app, client, path):
    assert app.config["PORTAL_ENV"] == "development"
    secure = client.get(path, base_url="https://localhost")
    hsts = secure.headers.get("Strict-Transport-Security", "")
    match = re.search(r"max-age=(\d+)", hsts)
    assert match and int(match.group(1)) >= 15_552_000, hsts  # at least 180 days
    plain = client.get(path)
    assert "Strict-Transport-Security" not in plain.headers
