"""Sign-in, sessions, throttling, CSRF and the bureau's management of its users."""
import logging
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from portal.accounts.models import User, WebSession
from portal.extensions import db
from tests import support

COOKIE = "portal_session"


def _cookie(client):
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def test_session_id_changes_at_login(app, client, demo):
    client.get("/login")
    before = _cookie(client)
    assert before, "the login form starts a session (for its CSRF token)"
    response = support.form_post(client, "/login", {"username": "gx-officer", "password": support.PASSWORD})
    assert response.status_code == 302
    after = _cookie(client)
    assert after and after != before
    # The id planted before login is worthless afterwards.
    planted = app.test_client()
    planted.set_cookie(COOKIE, before)
    assert planted.get("/users").status_code == 302


def test_session_cookie_is_httponly_and_lax(client, demo):
    response = client.get("/login")
    header = response.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header


def test_production_session_cookie_is_secure(database):
    from cryptography.fernet import Fernet

    from portal import create_app
    prod = create_app({"PORTAL_ENV": "production", "SECRET_KEY": "s" * 48,
                       "PORTAL_DATA_KEY": Fernet.generate_key().decode(),
                       "AUDIT_CHECKPOINT_KEY": "k1:" + "c" * 24,
                       "SQLALCHEMY_DATABASE_URI": database["url"], "TESTING": True})
    response = prod.test_client().get("/login", base_url="https://portal.example")
    assert "Secure" in response.headers["Set-Cookie"]
    assert "max-age" in response.headers["Strict-Transport-Security"]


def _age_session(app, client, *, idle=None, age=None):
    from portal.accounts.models import hash_token
    with app.app_context():
        row = db.session.get(WebSession, hash_token(_cookie(client)))
        now = datetime.now(timezone.utc)
        if idle is not None:
            row.last_seen_at = now - idle
        if age is not None:
            row.created_at = now - age
        db.session.commit()


def test_idle_session_ends_after_30_minutes(app, login, demo):
    client = login("gx-admin")
    assert client.get("/users").status_code == 200
    _age_session(app, client, idle=timedelta(minutes=29))
    assert client.get("/users").status_code == 200  # still alive, and the request renews it
    _age_session(app, client, idle=timedelta(minutes=31))
    response = client.get("/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_session_ends_after_12_hours_even_when_busy(app, login, demo):
    client = login("gx-admin")
    _age_session(app, client, idle=timedelta(minutes=1), age=timedelta(hours=12, minutes=1))
    response = client.get("/users")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash flash-info"' in page


def test_logout_destroys_the_session(app, login, demo):
    client = login("gx-admin")
    sid = _cookie(client)
    response = support.form_post(client, "/logout", {}, token_url="/")
    assert response.status_code == 302
    replay = app.test_client()
    replay.set_cookie(COOKIE, sid)
    assert replay.get("/users").status_code == 302


def test_form_without_csrf_token_is_refused(client, demo):
    client.get("/login")
    response = client.post("/login", data={"username": "gx-officer", "password": support.PASSWORD})
    assert response.status_code == 400
    assert client.get("/users").status_code == 302  # not signed in


def test_form_with_a_forged_csrf_token_is_refused(login, demo):
    client = login("gx-admin")
    response = client.post("/users/new", data={"username": "mallory", "display_name": "x", "role": "admin",
                                               "password": "long-enough-password", "csrf_token": "forged"})
    assert response.status_code == 400


def test_wrong_password_is_refused_and_logged(client, demo, caplog):
    with caplog.at_level(logging.WARNING, logger="portal.accounts"):
        response = support.form_post(client, "/login", {"username": "gx-officer", "password": "wrong-password"})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.get_data(as_text=True) or "Wrong username or password" in response.get_data(as_text=True)
    assert any("failed login for username=gx-officer" in r.getMessage() for r in caplog.records)
    assert not any("wrong-password" in r.getMessage() for r in caplog.records)


def test_login_throttled_per_username_with_a_form_error(client, demo):
    for _ in range(5):
        support.form_post(client, "/login", {"username": "gx-officer", "password": "nope"})
    response = support.form_post(client, "/login", {"username": "gx-officer", "password": support.PASSWORD})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60  # as the API's 429 says it
    body = response.get_data(as_text=True)
    assert "field-error" in body
    assert client.get("/users").status_code == 302  # the right password did not get in
    # Another username from the same address is not yet blocked.
    assert support.form_post(client, "/login", {"username": "gx-admin", "password": support.PASSWORD}).status_code == 302


def test_login_throttled_per_address(app, client, demo):
    app.config["LOGIN_THROTTLE_ADDR"] = "3 per 15 minutes"
    try:
        for name in ("a1", "a2", "a3"):
            support.form_post(client, "/login", {"username": name, "password": "nope"})
        response = support.form_post(client, "/login", {"username": "gx-admin", "password": support.PASSWORD})
        assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    finally:
        app.config["LOGIN_THROTTLE_ADDR"] = "20 per 15 minutes"


def test_bureau_admin_creates_disables_and_resets_users(app, login, demo):
    admin = login("gx-admin")
    response = support.form_post(admin, "/users/new", {"username": "gx-clerk", "display_name": "新同事",
                                                       "role": "supervisor", "password": "a-lamp-by-the-river-1"})
    assert response.status_code == 302
    with app.app_context():
        clerk = db.session.execute(select(User).where(User.username == "gx-clerk")).scalar_one()
        assert clerk.tenant_id == demo.tenant_id("ganxian") and clerk.role == "supervisor"
        clerk_id = clerk.id
        assert clerk.must_change_password  # the administrator typed it: the clerk chooses their own
    clerk_client = login("gx-clerk", "a-lamp-by-the-river-1")
    assert clerk_client.get("/").headers["Location"].endswith("/password")
    support.form_post(clerk_client, "/password", {"current": "a-lamp-by-the-river-1", "new": "clerk-maple-kettle-orbit-7",
                                                  "repeat": "clerk-maple-kettle-orbit-7"})
    assert clerk_client.get("/").status_code == 200

    response = support.form_post(admin, f"/users/{clerk_id}/disable", {}, token_url="/users")
    assert response.status_code == 302
    assert clerk_client.get("/").status_code == 302  # the open session stops working
    assert support.form_post(app.test_client(), "/login",
                             {"username": "gx-clerk", "password": "clerk-maple-kettle-orbit-7"}).status_code == 200

    support.form_post(admin, f"/users/{clerk_id}/enable", {}, token_url="/users")
    response = support.form_post(admin, f"/users/{clerk_id}/reset", {}, token_url="/users", follow_redirects=True)
    with app.app_context():
        clerk = db.session.get(User, clerk_id)
        assert clerk.must_change_password and not clerk.check_password("clerk-maple-kettle-orbit-7")
        shown = [w for w in re.findall(r"[A-Za-z0-9_-]{12}", response.get_data(as_text=True)) if clerk.check_password(w)]
    assert len(shown) == 1  # the new password is shown once, to hand over


def test_users_are_never_deleted(app):
    assert not [r for r in app.url_map.iter_rules() if "DELETE" in r.methods and r.rule.startswith("/users")]


def test_duplicate_username_is_a_form_error(login, demo):
    admin = login("gx-admin")
    response = support.form_post(admin, "/users/new", {"username": "gx-officer", "display_name": "重复",
                                                       "role": "officer", "password": "a-lamp-by-the-river-1"})
    assert response.status_code == 200 and "field-error" in response.get_data(as_text=True)


def test_only_the_admin_manages_users(login, demo):
    assert login("gx-officer").get("/users").status_code == 403
    assert login("gx-auditor").get("/users").status_code == 403


def test_platform_admin_creates_a_bureau_and_its_first_admin(app, login, demo):
    platform = login("platform")
    response = support.form_post(platform, "/platform/tenants", {
        "code": "nankang", "name": "南康区民政局", "region": "江西省赣州市南康区",
        "admin_username": "nk-admin", "admin_name": "南康区管理员", "admin_password": "a-lamp-by-the-river-2"})
    assert response.status_code == 302
    nk = login("nk-admin", "a-lamp-by-the-river-2")
    assert nk.get("/users").headers["Location"].endswith("/password")  # first, a password of their own
    assert support.form_post(nk, "/password", {"current": "a-lamp-by-the-river-2", "new": "nankang-maple-kettle-orbit-8",
                                               "repeat": "nankang-maple-kettle-orbit-8"}).status_code == 302
    page = nk.get("/users").get_data(as_text=True)
    assert "nk-admin" in page and "gx-officer" not in page
    assert login("gx-admin").get("/platform/tenants").status_code == 403


def test_auditor_with_several_bureaus_chooses_one_per_session(app, client, login, demo):
    response = support.form_post(client, "/login", {"username": "city-auditor", "password": support.PASSWORD})
    assert response.status_code == 302 and "/choose-tenant" in response.headers["Location"]
    assert client.get("/audit/").status_code == 302  # no bureau chosen yet
    page = client.get("/choose-tenant").get_data(as_text=True)
    assert "ganxian" in page and "zhanggong" in page
    response = support.form_post(client, "/choose-tenant", {"tenant": "zhanggong"})
    assert response.status_code == 302
    assert "章贡区民政局" in client.get("/").get_data(as_text=True)
    # A bureau outside the grants cannot be chosen.
    gx = login("gx-auditor")
    assert support.form_post(gx, "/choose-tenant", {"tenant": "zhanggong"}).status_code == 200
    assert "赣县区民政局" in gx.get("/").get_data(as_text=True)


def test_open_redirect_after_login_is_ignored(client, demo):
    page = client.get("/login?next=https://evil.example/")
    token = support.csrf_token_from(page.get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/",
                           data={"username": "gx-officer", "password": support.PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and "evil.example" not in response.headers["Location"]


def test_disabled_user_cannot_get_a_token(app, client, demo):
    with app.app_context():
        db.session.execute(update(User).where(User.username == "gx-finance").values(active=False))
        db.session.commit()
    response = client.post("/api/v1/tokens", json={"username": "gx-finance", "password": support.PASSWORD})
    assert response.status_code == 401


def test_a_reset_password_must_be_changed_before_anything_else(app, login, demo):
    from portal.accounts import services
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == "gx-finance")).scalar_one()
        temporary = services.reset_password(user)
        db.session.commit()
    client = login("gx-finance", temporary)
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/password")
    bad = support.form_post(client, "/password", {"current": "wrong", "new": "brand-kettle-orbit-9", "repeat": "brand-kettle-orbit-9"})
    assert bad.status_code == 200 and "field-error" in bad.get_data(as_text=True)
    ok = support.form_post(client, "/password", {"current": temporary, "new": "brand-kettle-orbit-9", "repeat": "brand-kettle-orbit-9"})
    assert ok.status_code == 302
    assert client.get("/").status_code == 200
    login("gx-finance", "brand-kettle-orbit-9")


def test_api_writes_with_a_session_cookie_need_the_csrf_header(login, demo):
    client = login("gx-officer")
    response = client.delete("/api/v1/tokens/current")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    page = client.get("/").get_data(as_text=True)
    token = support.csrf_token_from(page)
    response = client.delete("/api/v1/tokens/current", headers={"X-CSRFToken": token})
    assert response.status_code == 400  # past CSRF: only a bearer token can be revoked here
    assert response.get_json()["detail"] == "此处只能撤销持有者令牌（Bearer 令牌）。"


def test_api_401_names_the_bearer_scheme(client):
    response = client.get("/api/v1/me")
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


def test_static_files_and_health_checks_do_not_touch_the_session_store(app, login, demo):
    from sqlalchemy import event
    client = login("gx-officer")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/static/css/portal.css").status_code == 200
        assert client.get("/healthz").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []
