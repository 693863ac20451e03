"""Records every insert, update and delete of a domain row, and security events, in the chain.

Row changes are captured in ``after_flush`` from SQLAlchemy's attribute history, so they are
written in the same transaction as the change itself: a rolled-back change leaves no audit row,
and a committed one always has its row.
"""
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone

from flask import has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from portal.audit.chain import append

_system_actor: ContextVar[str | None] = ContextVar("audit_system_actor", default=None)


@contextmanager
def acting_as(name):
    """Name the actor of changes made outside a request: a job, a command."""
    token = _system_actor.set(name)
    try:
        yield
    finally:
        _system_actor.reset(token)


def current_actor():
    """(id, username, role, address) of whoever is acting now."""
    if has_request_context():
        from flask_login import current_user
        address = request.remote_addr or ""
        if current_user and getattr(current_user, "is_authenticated", False):
            return current_user.id, current_user.username, current_user.role, address
        return None, _system_actor.get() or "anonymous", "", address
    return None, _system_actor.get() or "system", "", ""


def record_event(session, action, *, tenant_id=None, actor=None, object_type="", object_id="",
                 after=None):
    """Record a security event (login, logout, failed login, denied access)."""
    actor_id, username, role, address = current_actor()
    if actor is not None:
        actor_id, username, role = actor.id, actor.username, actor.role
    append(session.connection(), tenant_id=tenant_id, occurred_at=datetime.now(timezone.utc),
           actor_id=actor_id, actor=username, actor_role=role, action=action,
           object_type=object_type, object_id=object_id, after=after, address=address)


def _audited(obj):
    return getattr(type(obj), "__audit__", True)


def _snapshot(obj, state):
    redact = getattr(type(obj), "__audit_redact__", ())
    values = {}
    for attr in state.mapper.column_attrs:
        values[attr.key] = "[redacted]" if attr.key in redact else state.dict.get(attr.key)
    return values


def _changes(obj, state):
    redact = getattr(type(obj), "__audit_redact__", ())
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        hist = state.attrs[attr.key].history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if attr.key in redact:
            old, new = "[redacted]", "[changed]"
        before[attr.key], after[attr.key] = old, new
    return before, after


def install(session_class=Session):
    @event.listens_for(session_class, "after_flush")
    def _record_row_changes(session, flush_context):
        events = []
        for obj in session.new:
            if _audited(obj):
                state = inspect(obj)
                events.append(("insert", obj, None, _snapshot(obj, state)))
        for obj in session.dirty:
            if _audited(obj) and session.is_modified(obj, include_collections=False):
                before, after = _changes(obj, inspect(obj))
                if after:
                    events.append(("update", obj, before, after))
        for obj in session.deleted:
            if _audited(obj):
                events.append(("delete", obj, _snapshot(obj, inspect(obj)), None))
        if not events:
            return
        actor_id, username, role, address = current_actor()
        now = datetime.now(timezone.utc)
        connection = session.connection()
        for action, obj, before, after in events:
            pk = inspect(obj).identity
            append(connection, tenant_id=getattr(obj, "tenant_id", None), occurred_at=now,
                   actor_id=actor_id, actor=username, actor_role=role, action=action,
                   object_type=type(obj).__name__,
                   object_id=",".join(str(p) for p in pk) if pk else "",
                   before=before, after=after, address=address)


