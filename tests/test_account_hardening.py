"""Issue 21, accounts (review fixes): a sign-in whose password check races a password change dies
with the change (the credential stamp, ``auth_epoch``); no self-reset; Flask-Login's remember-me
cookie is ignored; the throttle counts before it checks and covers the current-password check;
known clients are exempt from the per-username ceiling and IPv6 is counted by /64; NUL in the
sign-in form; what logout clears. Runs on both databases."""
import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.models import ApiToken, User
from portal.extensions import db
from tests import support
from tests.conftest import BACKEND
from tests.test_account_security import _bearer, _change, _signed_out, _token, _user

RACED_PASSWORD = "raced-maple-kettle-orbit-77"
# On SQLite a sign-in (a POST) holds the write lock from its first statement (BEGIN IMMEDIATE,
# extensions.py), so a change waits for it to commit and then ends what it wrote: the race exists
# only where writers run side by side.
RACES = pytest.mark.skipif(BACKEND != "postgresql", reason="SQLite serialises writers: no race to lose")


@pytest.fixture
def race(app, monkeypatch):
    """While the password of ``username`` is being checked (the first check only), its owner
    changes it elsewhere: another session and connection, committed before the check returns."""
    original = User.check_password
    raced = []

    def arm(username):
        def racing(self, password):
            ok = original(self, password)
            if ok and self.username == username and not raced:
                raced.append(self.id)
                with app.app_context(), app.test_request_context():  # its own session and connection
                    services.change_password(_user(username), password, RACED_PASSWORD)
                    db.session.commit()
            return ok
        monkeypatch.setattr(User, "check_password", racing)
        return raced
    return arm


@RACES
def test_a_token_whose_password_check_raced_a_change_is_refused(app, client, race, demo):
    raced = race("gx-officer")
    response = _token(client, "gx-officer")
    assert raced and response.status_code == 201  # issued: the check saw the old password
    with app.app_context():
        token = db.session.execute(select(ApiToken).order_by(ApiToken.id.desc())).scalars().first()
        assert token.revoked_at is None  # written after the change revoked the others
        assert token.auth_epoch != _user("gx-officer").auth_epoch
    refused = client.get("/api/v1/me", headers=_bearer(response))
    assert refused.status_code == 401 and refused.mimetype == "application/problem+json"
    fresh = _token(client, "gx-officer", RACED_PASSWORD)
    assert client.get("/api/v1/me", headers=_bearer(fresh)).status_code == 200


@RACES
def test_a_web_sign_in_whose_password_check_raced_a_change_is_signed_out(app, race, demo):
    raced = race("gx-officer")
    browser = app.test_client()
    response = support.form_post(browser, "/login", {"username": "gx-officer", "password": support.PASSWORD})
    assert raced and response.status_code == 302
    assert _signed_out(browser)
    assert support.form_post(app.test_client(), "/login",
                             {"username": "gx-officer", "password": RACED_PASSWORD}).status_code == 302


def test_the_session_that_changes_the_password_goes_on(app, login, demo):
    here = login("gx-officer")
    assert _change(here, support.PASSWORD, "maple-kettle-orbit-31").status_code == 302
    assert here.get("/password").status_code == 200
    with app.app_context():
        assert _user("gx-officer").auth_epoch == 1


def test_an_administrator_cannot_reset_their_own_password(app, login, demo):
    admin = login("gx-admin")
    with app.app_context():
        admin_id = _user("gx-admin").id
    response = support.form_post(admin, f"/users/{admin_id}/reset", {}, token_url="/users")
    assert response.status_code == 422 and "修改密码" in response.get_data(as_text=True)
    assert admin.get("/users").status_code == 200  # still signed in
    with app.app_context():
        user = _user("gx-admin")
        assert user.check_password(support.PASSWORD) and not user.must_change_password


def test_a_forged_remember_me_cookie_signs_nobody_in(app, client, demo):
    with app.test_request_context():
        forged = encode_cookie(str(_user("gx-admin").id))  # signed with SECRET_KEY, as Flask-Login would
    browser = app.test_client()
    browser.set_cookie("remember_token", forged)
    assert _signed_out(browser)
    assert browser.get("/api/v1/me").status_code == 401
    # A bearer token sent alongside such a cookie still counts.
    token = _bearer(_token(client, "gx-officer"))
    me = browser.get("/api/v1/me", headers=token)
    assert me.status_code == 200 and me.get_json()["username"] == "gx-officer"


def test_the_current_password_check_is_throttled(app, login, demo):
    browser = login("gx-officer")
    pair = int(app.config["LOGIN_THROTTLE_PAIR"].split()[0])
    for _ in range(pair):
        response = _change(browser, "wrong-guess-here", "maple-kettle-orbit-31")
        assert response.status_code == 200 and "field-error" in response.get_data(as_text=True)
    response = _change(browser, support.PASSWORD, "maple-kettle-orbit-31")
    assert response.status_code == 429 and "分钟后再试" in response.get_data(as_text=True)
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    with app.app_context():
        assert _user("gx-officer").check_password(support.PASSWORD)


def test_guesses_arriving_together_are_counted_before_any_is_checked(app, monkeypatch, demo):
    """Each guess arrives while the one before is having its password checked (as parallel
    requests would): no more than the pair's limit get their password checked."""
    pair = int(app.config["LOGIN_THROTTLE_PAIR"].split()[0])
    original, checked, refusals = User.check_password, [], []

    def next_guess_arrives(self, password):
        checked.append(password)
        if len(checked) + len(refusals) <= 2 * pair:
            try:
                services.authenticate("gx-officer", f"guess-{len(checked)}-x", "198.51.100.9")
            except services.Throttled:
                refusals.append("throttled")
            except services.LoginFailed:
                pass
        return original(self, password)
    monkeypatch.setattr(User, "check_password", next_guess_arrives)
    assert _token(app.test_client(), "gx-officer", "guess-0-x", address="198.51.100.9").status_code == 401
    assert len(checked) == pair and refusals == ["throttled"]


def test_ipv6_addresses_are_counted_by_their_64(app, demo):
    from tests.test_account_security import _login_from
    pair = int(app.config["LOGIN_THROTTLE_PAIR"].split()[0])
    for n in range(pair):
        assert _login_from(app, f"2001:db8:1:2::{n + 1:x}", "gx-officer", "guess-guess").status_code == 200
    assert _login_from(app, "2001:db8:1:2:ffff::9", "gx-officer", support.PASSWORD).status_code == 429
    assert _login_from(app, "2001:db8:1:3::1", "gx-officer", support.PASSWORD).status_code == 302


def test_an_unknown_username_costs_a_password_check(app, client, monkeypatch, demo):
    spent = []
    monkeypatch.setattr(services, "spend_a_password_check", spent.append)
    assert _token(client, "nobody-here", "some-password").status_code == 401
    assert spent == ["some-password"]


@pytest.mark.parametrize("field", ["username", "password"])
def test_nul_in_the_sign_in_form_is_a_form_error(app, demo, field):
    data = {"username": "gx-officer", "password": support.PASSWORD}
    data[field] = data[field][:3] + "\x00" + data[field][3:]
    response = support.form_post(app.test_client(), "/login", data)
    assert response.status_code == 200 and "含有不允许的字符" in response.get_data(as_text=True)


def test_logout_clears_the_cache_and_the_field_apps_copies(app, login, demo):
    browser = login("gx-officer")
    response = support.form_post(browser, "/logout", {}, token_url="/")
    assert response.status_code == 302 and response.headers["Clear-Site-Data"] == '"cache"'
    page = browser.get(response.headers["Location"])
    assert "js/signed-out.js" in page.get_data(as_text=True)
    assert "js/signed-out.js" not in app.test_client().get("/login").get_data(as_text=True)
    assert "field-app-" in browser.get("/static/js/signed-out.js").get_data(as_text=True)
