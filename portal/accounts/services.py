"""Sign-in, throttling, tokens and the bureau's management of its users."""
import logging
import secrets

from flask import current_app, g
from flask_babel import gettext as _
from limits import parse
from sqlalchemy import select

from portal.accounts.models import ApiToken, TenantGrant, User, hash_token
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


def _limits():
    return (parse(current_app.config["LOGIN_THROTTLE_USER"]),
            parse(current_app.config["LOGIN_THROTTLE_ADDR"]))


def _throttle_keys(username, address):
    return (f"login-user:{username.lower()}", f"login-addr:{address}")


def _strategy():
    """The limiter's strategy, or None when rate limiting is switched off (RATELIMIT_ENABLED)."""
    limiter = current_limiter()
    return limiter.limiter if limiter.enabled else None


def is_throttled(username, address):
    per_user, per_addr = _limits()
    user_key, addr_key = _throttle_keys(username, address)
    strategy = _strategy()
    if strategy is None:
        return False
    return not (strategy.test(per_user, user_key) and strategy.test(per_addr, addr_key))


def _count_failure(username, address):
    per_user, per_addr = _limits()
    user_key, addr_key = _throttle_keys(username, address)
    strategy = _strategy()
    if strategy is None:
        return
    strategy.hit(per_user, user_key)
    strategy.hit(per_addr, addr_key)


def seconds_until_retry(username, address):
    """How long until the throttled username or address may try again."""
    import time
    strategy = current_limiter().limiter
    per_user, per_addr = _limits()
    user_key, addr_key = _throttle_keys(username, address)
    waits = []
    for limit, key in ((per_user, user_key), (per_addr, addr_key)):
        reset_at, remaining = strategy.get_window_stats(limit, key)
        if remaining <= 0:
            waits.append(reset_at - time.time())
    return max(1, int(max(waits, default=1) + 0.999))


def authenticate(username, password, address):
    """Check a username and password. Failures are counted per username and per address and
    logged; past the limit every attempt is refused, right or wrong, until the window passes."""
    username = (username or "").strip()
    if is_throttled(username, address):
        log.warning("login throttled for username=%s address=%s", username, address)
        record_event(db.session, "login_throttled", after={"username": username[:64]})
        g.force_commit = True
        raise Throttled(_("Too many failed sign-in attempts. Please wait 15 minutes and try again."))
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.check_password(password or "") or not user.active:
        _count_failure(username, address)
        log.warning("failed login for username=%s address=%s", username, address)
        record_event(db.session, "login_failed", tenant_id=user.tenant_id if user else None,
                     after={"username": username[:64]})
        g.force_commit = True
        raise LoginFailed(_("Wrong username or password, or the account is disabled."))
    return user


def record_login(user, tenant_id, action="login"):
    record_event(db.session, action, tenant_id=tenant_id, actor=user)


def issue_token(user, tenant_id):
    """A bearer token for the API, bound to one tenant; only its hash is stored."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(token_hash=hash_token(raw), user_id=user.id, tenant_id=tenant_id,
                     created_at=now, expires_at=now + current_app.config["API_TOKEN_LIFETIME"])
    db.session.add(token)
    db.session.flush()
    return raw, token


def find_token(raw):
    token = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(raw))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at <= utcnow():
        return None
    return token


def revoke_token(token):
    token.revoked_at = utcnow()


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


def create_user(*, username, display_name, role, password, tenant_id=None, grant_tenant_ids=()):
    """Create a user. Usernames are unique platform-wide; a bureau role needs a tenant."""
    if role not in ROLES:
        raise DomainError(_("Unknown role."), {"role": [_("Unknown role.")]})
    if db.session.execute(select(User.id).where(User.username == username)).first():
        raise DomainError(_("That username is taken."), {"username": [_("That username is taken.")]})
    if role in BUREAU_ROLES and not tenant_id:
        raise DomainError(_("A bureau user belongs to a bureau."))
    user = User(username=username, display_name=display_name, role=role,
                tenant_id=tenant_id if role in BUREAU_ROLES else None)
    user.set_password(password)
    for tid in grant_tenant_ids:
        user.grants.append(TenantGrant(tenant_id=tid))
    db.session.add(user)
    db.session.flush()
    return user


def set_active(user, active):
    """Disable or re-enable a user; users are never deleted, so their history stays attributed."""
    user.active = active


def change_password(user, current, new):
    """A person changes their own password; the current one must be given."""
    if not user.check_password(current):
        raise DomainError(_("The current password is wrong."), {"current": [_("The current password is wrong.")]})
    if current == new:
        raise DomainError(_("Choose a password different from the current one."),
                          {"new": [_("Choose a password different from the current one.")]})
    user.set_password(new)
    user.must_change_password = False


def reset_password(user):
    """Give the user a new random password to hand over; they must change it at next sign-in."""
    password = secrets.token_urlsafe(9)
    user.set_password(password)
    user.must_change_password = True
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
                            password=admin_password, tenant_id=tenant.id)
    return tenant, admin
