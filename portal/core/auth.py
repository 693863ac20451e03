"""Gates in front of views: sign-in, capabilities (or roles), and the audited 403.

Core knows no feature and no user model: ``capability_required`` asks the signed-in user
``current_user.can(name)`` (portal/accounts/permissions.py holds the table), and a denial is
announced on the ``access_denied`` signal, which the audit log records (connected by the app
factory, in the same transaction as the 403's commit)."""
from functools import wraps

from blinker import Namespace
from flask import abort, g, redirect, request, url_for
from flask_login import current_user

from portal.extensions import login_manager

_signals = Namespace()

# access_denied.send(None, tenant_id=..., endpoint=...): the audit log records it.
access_denied = _signals.signal("access-denied")


def is_api_request():
    return request.path.startswith("/api/")


def deny():
    """Announce a denied access (the audit log records it) and answer 403."""
    tenant = g.get("tenant")
    access_denied.send(None, tenant_id=tenant.id if tenant else None,
                       endpoint=(request.endpoint or request.path)[:64])
    g.force_commit = True
    abort(403)


def _gate(allowed):
    """A view decorator: signed in, ``allowed(current_user)``, and acting for a tenant unless the
    user is platform-wide. Denials are audited and answered 403."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not allowed(current_user):
                deny()
            if current_user.role != "platform_admin" and g.get("tenant") is None:
                if is_api_request():
                    deny()
                return redirect(url_for("accounts.choose_tenant"))
            return view(*args, **kwargs)
        return wrapped
    return decorator


def capability_required(*capabilities):
    """Coarse gate: the signed-in user must hold one of the named ``capabilities``."""
    return _gate(lambda user: any(user.can(name) for name in capabilities))


def roles_required(*roles):
    """Coarse gate by role names; prefer ``capability_required``."""
    return _gate(lambda user: user.role in roles)


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return view(*args, **kwargs)
    return wrapped
