"""Who is asking and for which bureau: session and bearer-token sign-in. The gates in front of
views (login_required, capability_required, deny) live in portal/core/auth.py."""
from flask import g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.accounts.models import User
from portal.accounts.services import PasswordChangeRequired, find_token
from portal.core.auth import is_api_request
from portal.core.errors import DomainError
from portal.extensions import db, login_manager
from portal.tenancy.models import Tenant
from portal.tenancy.scope import set_request_tenant


@login_manager.user_loader
def _load_user(user_id):
    """The user of a web session, unless disabled or their credentials changed since the session
    signed in (its ``_epoch``, stored at login, differs from the user's ``auth_epoch``)."""
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or session.get("_epoch", 0) != user.auth_epoch:
        return None
    return user


def _no_remember_cookie(_cookie):
    """Flask-Login would sign in whoever a ``remember_token`` cookie signed with SECRET_KEY names,
    past the server-side session and its revocation. The portal never issues one, so the cookie
    is ignored, and the request is treated as if it had none (a bearer token still counts)."""
    return login_manager._load_user_from_request(request)


login_manager._load_user_from_remember_cookie = _no_remember_cookie


@login_manager.request_loader
def _load_user_from_token(req):
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or not req.path.startswith("/api/"):
        return None
    raw = header[len("Bearer "):].strip()
    if not raw:
        return None  # no token sent: "sign in first"
    token = find_token(raw)
    if token is None or not token.user.active:
        g.token_refused = True  # unknown, revoked, expired, of an earlier password, or of a disabled user
        return None
    if token.user.must_change_password:
        # Still valid while the password must be changed (a reset has revoked every token already;
        # this is the second wall): answered 403 by _unauthorized until the owner chooses one.
        g.password_change_required = True
        return None
    g.api_token = token
    return token.user


class NotSignedIn(DomainError):
    """An API request without a usable bearer token: 401 problem+json, saying in the reader's
    language whether the token sent is no longer valid or none was sent."""

    status = 401


@login_manager.unauthorized_handler
def _unauthorized():
    if is_api_request():
        if g.get("password_change_required"):
            raise PasswordChangeRequired()
        if g.get("token_refused"):
            raise NotSignedIn(_("This token is not valid or no longer valid (it was revoked or has expired). "
                                "Sign in again to get a new one."))
        raise NotSignedIn(_("Sign in first: send the token that POST /api/v1/tokens gives as "
                            "\"Authorization: Bearer <token>\"."))
    expired = "1" if getattr(session, "expired", False) else None
    return redirect(url_for("accounts.login", next=request.full_path if request.method == "GET" else None,
                            expired=expired))


def bind_request_tenant():
    """Before each request: the tenant the signed-in person acts for scopes every query."""
    g.tenant = None
    tenant_id = None
    if current_user.is_authenticated:
        token = g.get("api_token")
        if (token is None and is_api_request() and request.method not in ("GET", "HEAD", "OPTIONS")
                and request.routing_exception is None):
            # The API is exempt from form CSRF because bearer tokens cannot be forged across
            # sites; a browser calling it with its session cookie must send X-CSRFToken instead.
            # No route (404, 405): nothing to protect, the routing error answers (as Flask-WTF does).
            from portal.extensions import csrf
            csrf.protect()
        tenant_id = token.tenant_id if token is not None else session.get("tenant_id")
        if tenant_id is not None and not current_user.can_act_for(tenant_id):
            tenant_id = None
    set_request_tenant(tenant_id)
    if tenant_id is not None:
        g.tenant = db.session.get(Tenant, tenant_id)
