"""Sign-in, throttling, tokens and the bureau's management of its users."""
import ipaddress
import logging
import secrets

from flask import current_app, g
from flask_babel import gettext as _
from limits import parse
from sqlalchemy import delete, select, update

from portal.accounts import passwords
from portal.accounts.models import ApiToken, TenantGrant, User, WebSession, hash_token, spend_a_password_check
from portal.accounts.permissions import BUREAU_ROLES, ROLES
from portal.audit.recorder import record_event
from portal.core.errors import DomainError, NotFound
from portal.core.timeutil import utcnow
from portal.extensions import current_limiter, db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import all_tenants

log = logging.getLogger("portal.accounts")


class Throttled(DomainError):
    status = 429


class LoginFailed(DomainError):
    status = 401


def _address_key(address):
    """The address a throttle counts: an IPv4 address itself, an IPv6 address by its /64 (one
    subscriber's network holds a whole /64, so counting single IPv6 addresses counts nothing)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _throttles(username, address, known=False):
    """(limit, key) of each counter a sign-in attempt adds to: the (username, address) pair, with
    the short limit, so a stranger failing from their address does not lock the real user out at
    theirs; the username across all addresses, with a slower ceiling that still stops a
    distributed guess, which a known client (a browser where this username signed in before,
    ``known``) is exempt from, so strangers reaching it do not lock the real user out either; and
    the address across all usernames."""
    config = current_app.config
    name, where = username.lower(), _address_key(address)
    throttles = [(parse(config["LOGIN_THROTTLE_PAIR"]), f"login-pair:{name}|{where}"),
                 (parse(config["LOGIN_THROTTLE_ADDR"]), f"login-addr:{where}")]
    if not known:
        throttles.append((parse(config["LOGIN_THROTTLE_USERNAME"]), f"login-user:{name}"))
    return throttles


def _strategy():
    """The limiter's strategy, or None when rate limiting is switched off (RATELIMIT_ENABLED)."""
    limiter = current_limiter()
    return limiter.limiter if limiter.enabled else None


def seconds_until_retry(username, address, known=False):
    """How long until every counter that refuses this username at this address has room again."""
    import time
    strategy = current_limiter().limiter
    waits = []
    for limit, key in _throttles((username or "").strip(), address, known):
        reset_at, remaining = strategy.get_window_stats(limit, key)
        if remaining <= 0:
            waits.append(reset_at - time.time())
    return max(1, int(max(waits, default=1) + 0.999))


def _throttled(username, address, known):
    minutes = max(1, -(-seconds_until_retry(username, address, known) // 60))
    return Throttled(_("Too many failed sign-in attempts. Please try again in %(minutes)d minutes.",
                       minutes=minutes))


def _counted_check(username, address, known, check):
    """Count the attempt, then check the password (``check()``): counting first means guesses sent
    in parallel cannot all pass a test made before any of them was counted. Past a limit the
    password is not checked and ``Throttled`` is raised. A success clears the pair's count and
    takes itself back from the others (so an office's colleagues signing in from one address do
    not use up its limit); a failure stays counted."""
    strategy = _strategy()
    throttles = _throttles(username, address, known)
    if strategy is not None and not all([strategy.hit(limit, key) for limit, key in throttles]):
        raise _throttled(username, address, known)
    ok = check()
    if ok and strategy is not None:
        for limit, key in throttles:
            if key.startswith("login-pair:"):
                strategy.clear(limit, key)
            else:
                strategy.hit(limit, key, cost=-1)
    return ok


def authenticate(username, password, address, known=False):
    """Check a username and password. Every attempt is counted per (username, address) pair, per
    username (unless ``known``) and per address (``_throttles``) before the password is checked,
    failures are logged; past a limit every attempt it covers is refused, right or wrong, until its
    window passes. The user's ``auth_epoch`` as read here is what the token or session carries."""
    username = (username or "").strip()
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()

    def check():
        if user is None:
            spend_a_password_check(password or "")  # as long as a real check: no timing oracle
            return False
        return user.check_password(password or "") and user.active
    try:
        ok = _counted_check(username, address, known, check)
    except Throttled:
        log.warning("login throttled for username=%s address=%s", username, address)
        record_event(db.session, "login_throttled", after={"username": username[:64]})
        g.force_commit = True
        raise
    if not ok:
        log.warning("failed login for username=%s address=%s", username, address)
        record_event(db.session, "login_failed", tenant_id=user.tenant_id if user else None,
                     after={"username": username[:64]})
        g.force_commit = True
        raise LoginFailed(_("Wrong username or password, or the account is disabled."))
    return user


def record_login(user, tenant_id, action="login"):
    record_event(db.session, action, tenant_id=tenant_id, actor=user)


def issue_token(user, tenant_id, epoch=None):
    """A bearer token for the API, bound to one tenant; only its hash is stored. ``epoch``: the
    user's ``auth_epoch`` read when the password was checked (the token dies once it changes);
    by default the value the user object holds."""
    raw = secrets.token_urlsafe(32)
    epoch = user.auth_epoch if epoch is None else epoch
    now = utcnow()
    token = ApiToken(token_hash=hash_token(raw), user_id=user.id, tenant_id=tenant_id, auth_epoch=epoch,
                     created_at=now, expires_at=now + current_app.config["API_TOKEN_LIFETIME"])
    db.session.add(token)
    db.session.flush()
    return raw, token


def find_token(raw):
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(raw))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None or token.auth_epoch != token.user.auth_epoch:
        return None
    if token.expires_at <= utcnow():
        return None
    return token


def revoke_token(token):
    token.revoked_at = utcnow()


class PasswordChangeRequired(DomainError):
    """An account whose password an administrator set (created or reset) cannot use the API until
    its owner has chosen a password of their own on the web."""

    status = 403

    def __init__(self):
        super().__init__(_("This account's password was set by an administrator. Sign in on the web "
                           "and choose a new password before using the API."))


def end_sign_ins(user, keep_sid=None):
    """Revoke every API token of ``user`` and end their web sessions but the one whose cookie id is
    ``keep_sid``, in the caller's transaction: done when the password changes or is reset and when
    the account is disabled. The user's ``auth_epoch`` goes up, so a token or session written by a
    sign-in whose password check ran before this commits (and which these statements cannot see
    yet) is refused all the same."""
    user.auth_epoch = (user.auth_epoch or 0) + 1
    now = utcnow()
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now))
    ending = delete(WebSession).where(WebSession.user_id == user.id)
    if keep_sid:
        ending = ending.where(WebSession.id_hash != hash_token(keep_sid))
    db.session.execute(ending)


def choose_tenant(user, tenant_code):
    """The tenant a person acts for this session: fixed for bureau users, chosen by others."""
    ids = user.tenant_ids()
    if tenant_code:
        tenant = db.session.execute(select(Tenant).where(Tenant.code == tenant_code)).scalar_one_or_none()
        if tenant is None or tenant.id not in ids:
            raise DomainError(_("You have no access to that bureau."), {"tenant": [_("Unknown bureau.")]})
        return tenant.id
    if len(ids) == 1:
        return ids[0]
    if user.role == "platform_admin":
        return None
    if not ids:
        raise DomainError(_("This account has no bureau to act for."))
    return None  # several: the person chooses


# --- the bureau's users -------------------------------------------------------------------

def users_of_tenant(tenant_id, search=""):
    """Users who belong to the bureau or hold a grant for it."""
    stmt = select(User).outerjoin(TenantGrant, TenantGrant.user_id == User.id).where(
        (User.tenant_id == tenant_id) | (TenantGrant.tenant_id == tenant_id)
    ).distinct().order_by(User.username)
    if search:
        stmt = stmt.where(User.username.contains(search) | User.display_name.contains(search))
    return stmt


def get_user_of_tenant(user_id, tenant_id):
    user = db.session.get(User, user_id)
    if user is None or not user.can_act_for(tenant_id):
        raise NotFound(_("No such user."))
    return user


def create_user(*, username, display_name, role, password, tenant_id=None, grant_tenant_ids=(),
                must_change_password=False):
    """Create a user. Usernames are unique platform-wide; a bureau role needs a tenant; the password
    must pass the policy (accounts/passwords.py). An administrator creating an account for someone
    else passes ``must_change_password=True``: its owner chooses their own at first sign-in."""
    if role not in ROLES:
        raise DomainError(_("Unknown role."), {"role": [_("Unknown role.")]})
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise DomainError(_("That username is taken."), {"username": [_("That username is taken.")]})
    if role in BUREAU_ROLES and not tenant_id:
        raise DomainError(_("A bureau user belongs to a bureau."))
    tenant = db.session.get(Tenant, tenant_id) if tenant_id else None
    passwords.require_strong(password, passwords.user_inputs(
        None, username, display_name, *((tenant.code, tenant.name) if tenant else ())))
    user = User(username=username, display_name=display_name, role=role,
                tenant_id=tenant_id if role in BUREAU_ROLES else None,
                must_change_password=must_change_password)
    user.set_password(password)
    for tid in grant_tenant_ids:
        user.grants.append(TenantGrant(tenant_id=tid))
    db.session.add(user)
    db.session.flush()
    return user


def set_active(user, active):
    """Disable or re-enable a user; users are never deleted, so their history stays attributed.
    Disabling ends the user's sessions and revokes their tokens."""
    user.active = active
    if not active:
        end_sign_ins(user)


def change_password(user, current, new, keep_sid=None, address="", known=False):
    """A person changes their own password; the current one must be given and the new one must
    pass the policy. Every token and every other session of the person ends (``keep_sid``: the
    cookie id of the session making the change, which the caller gives a new id; it must store the
    user's new ``auth_epoch`` in that session). Guesses of the current password count against the
    same throttles as sign-ins (``address``, ``known``: as for ``authenticate``); past a limit
    ``Throttled`` is raised."""
    if not _counted_check(user.username, address, known, lambda: user.check_password(current)):
        raise DomainError(_("The current password is wrong."), {"current": [_("The current password is wrong.")]})
    if current == new:
        raise DomainError(_("Choose a password different from the current one."),
                          {"new": [_("Choose a password different from the current one.")]})
    passwords.require_strong(new, passwords.user_inputs(user), field="new")
    user.set_password(new)
    user.must_change_password = False
    end_sign_ins(user, keep_sid=keep_sid)


def reset_password(user):
    """Give the user a new random password to hand over; they must change it at next sign-in.
    Every token and session of the user ends."""
    password = secrets.token_urlsafe(9)
    user.set_password(password)
    user.must_change_password = True
    end_sign_ins(user)
    return password


def create_tenant(*, code, name, region, admin_username, admin_name, admin_password):
    """A platform admin creates a bureau and its first administrator in one step."""
    with all_tenants():
        if db.session.execute(select(Tenant.id).where(Tenant.code == code)).first():
            raise DomainError(_("A bureau with that code exists."), {"code": [_("A bureau with that code exists.")]})
        tenant = Tenant(code=code, name=name, region=region or "", settings={})
        db.session.add(tenant)
        db.session.flush()
        admin = create_user(username=admin_username, display_name=admin_name, role="admin",
                            password=admin_password, tenant_id=tenant.id, must_change_password=True)
    return tenant, admin
