"""Server-side browser sessions kept in the database, so any web process can serve any request.

The cookie carries only a random id; the row is keyed by its SHA-256. A session ends after
30 minutes without a request (idle) or 12 hours after it began (absolute), and gets a new id
at login so an id planted before login is worthless after it. Each row names its user
(``user_id``, from Flask-Login's ``_user_id``), so that a password change, a reset or disabling
the account can end all of that user's sessions at once (accounts/services.py end_sign_ins).
"""
import secrets
from datetime import timedelta

from flask import g
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from portal.accounts.models import WebSession, hash_token
from portal.core.timeutil import utcnow
from portal.extensions import db

TOUCH_EVERY = timedelta(seconds=60)


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, sid=None, created_at=None, last_seen_at=None, expired=False):
        def on_update(self):
            self.modified = True
        super().__init__(initial, on_update)
        self.sid = sid
        self.created_at = created_at
        self.last_seen_at = last_seen_at
        self.expired = expired
        self.modified = False
        self.old_sid = None

    def regenerate(self):
        """Give the session a new id (done at login); the old id stops working."""
        self.old_sid = self.old_sid or self.sid
        self.sid = None
        self.created_at = None
        self.modified = True

    def destroy(self):
        self.clear()
        self.regenerate()


def _user_id(session):
    """The id of the user signed in to ``session`` (Flask-Login keeps it as ``_user_id``), or None."""
    value = session.get("_user_id")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class DatabaseSessionInterface(SessionInterface):
    # Requests that never need a session must not cost a database round trip.
    SESSIONLESS_PREFIXES = ("/static/", "/healthz", "/readyz", "/favicon.ico")

    def open_session(self, app, request):
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or request.path.startswith(self.SESSIONLESS_PREFIXES):
            return ServerSession()
        row = db.session.get(WebSession, hash_token(sid))
        if row is None:
            return ServerSession(expired=True)
        now = utcnow()
        if (now - row.last_seen_at > app.config["SESSION_IDLE_TIMEOUT"]
                or now - row.created_at > app.config["SESSION_ABSOLUTE_TIMEOUT"]
                or (row.user_id is None and (row.data or {}).get("_user_id"))):
            # (the last: a signed-in session saved before rows named their user, which a password
            # change could not find and end; its owner signs in again once)
            db.session.delete(row)
            db.session.commit()
            return ServerSession(expired=True)
        return ServerSession(dict(row.data or {}), sid=sid, created_at=row.created_at,
                             last_seen_at=row.last_seen_at)

    def save_session(self, app, session, response):
        if g.get("database_unavailable"):
            return  # the request was answered 503: the session stays as it was, nothing to write
        name = self.get_cookie_name(app)
        cookie = dict(domain=self.get_cookie_domain(app), path=self.get_cookie_path(app),
                      secure=self.get_cookie_secure(app), httponly=self.get_cookie_httponly(app),
                      samesite=self.get_cookie_samesite(app))
        now = utcnow()
        if session.old_sid:
            old = db.session.get(WebSession, hash_token(session.old_sid))
            if old is not None:
                db.session.delete(old)
        if not session:
            if session.sid:
                row = db.session.get(WebSession, hash_token(session.sid))
                if row is not None:
                    db.session.delete(row)
            db.session.commit()
            if session.sid or session.old_sid or session.expired:
                response.delete_cookie(name, **{k: v for k, v in cookie.items() if k in ("domain", "path")})
            return
        if session.sid is None:
            session.sid = secrets.token_urlsafe(32)
            db.session.add(WebSession(id_hash=hash_token(session.sid), data=dict(session),
                                      user_id=_user_id(session), created_at=now, last_seen_at=now))
        elif session.modified or now - session.last_seen_at > TOUCH_EVERY:
            row = db.session.get(WebSession, hash_token(session.sid))
            if row is None:
                return
            row.data = dict(session)
            row.user_id = _user_id(session)
            row.last_seen_at = now
        else:
            return
        db.session.commit()
        response.headers.add("Vary", "Cookie")
        response.set_cookie(name, session.sid, **cookie)
