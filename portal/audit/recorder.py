"""Records every insert, update and delete of a domain row, and security events, in the chain.

Row changes are captured in ``after_flush`` from SQLAlchemy's attribute history, so they are
written in the same transaction as the change itself: a rolled-back change leaves no audit row,
and a committed one always has its row.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event, inspect, select, tuple_
from sqlalchemy.orm import Mapper, Session

from portal.audit.chain import append
from portal.core.timeutil import utcnow
from portal.extensions import db

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
    append(session.connection(), tenant_id=tenant_id, occurred_at=utcnow(),
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


def _append_row_event(connection, action, obj_type, identity, before, after, tenant_id, now, actor):
    actor_id, username, role, address = actor
    append(connection, tenant_id=tenant_id, occurred_at=now, actor_id=actor_id, actor=username,
           actor_role=role, action=action, object_type=obj_type,
           object_id=",".join(str(p) for p in identity) if identity else "",
           before=before, after=after, address=address)


def _record_bulk_statement(state):
    """ORM bulk UPDATE and DELETE statements skip the flush, so they are audited here: the rows
    they match are read before (and, for updates, after) the statement runs."""
    mapper = state.bind_mapper
    if mapper is None or not getattr(mapper.class_, "__audit__", True):
        return None
    cls, session = mapper.class_, state.session
    where = state.statement.whereclause
    matched = select(cls) if where is None else select(cls).where(where)
    rows = session.execute(matched).scalars().all()
    if not rows:
        return state.invoke_statement()
    before = {inspect(r).identity: _snapshot(r, inspect(r)) for r in rows}
    result = state.invoke_statement()
    after = {}
    if state.is_update:
        pk_cols = mapper.primary_key
        refreshed = session.execute(
            select(cls).where(tuple_(*pk_cols).in_(list(before)))
            .execution_options(populate_existing=True)).scalars()
        after = {inspect(r).identity: _snapshot(r, inspect(r)) for r in refreshed}
    now, actor = utcnow(), current_actor()
    connection = session.connection()
    for identity, old in before.items():
        if state.is_update:
            new = after.get(identity, {})
            changed = {k for k in new if new[k] != old.get(k)}
            if not changed:
                continue
            _append_row_event(connection, "update", cls.__name__, identity,
                              {k: old.get(k) for k in changed}, {k: new[k] for k in changed},
                              old.get("tenant_id"), now, actor)
        else:
            _append_row_event(connection, "delete", cls.__name__, identity, old, None,
                              old.get("tenant_id"), now, actor)
    return result


def _noop(target, value, oldvalue, initiator):
    return value


def _keep_old_values(mapper, class_):
    """Setting a column attribute that is not loaded (the object was expired by a commit) loads
    its old value first, so that the audit row of the update has its real "before"."""
    if not getattr(class_, "__audit__", True):
        return
    for prop in mapper.column_attrs:
        event.listen(getattr(class_, prop.key), "set", _noop, active_history=True, retval=True)


def install(session_class=Session):
    event.listen(Mapper, "mapper_configured", _keep_old_values)
    for mapper in db.Model.registry.mappers:
        if mapper.configured:  # configured before this hook existed
            _keep_old_values(mapper, mapper.class_)

    @event.listens_for(session_class, "do_orm_execute")
    def _audit_bulk_statements(state):
        if state.is_update or state.is_delete:
            return _record_bulk_statement(state)
        return None

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
        now, actor = utcnow(), current_actor()
        connection = session.connection()
        for action, obj, before, after in events:
            state = inspect(obj)
            # A row inserted by this flush has its primary key but no identity key yet.
            identity = state.identity or tuple(state.mapper.primary_key_from_instance(obj))
            _append_row_event(connection, action, type(obj).__name__, identity, before, after,
                              getattr(obj, "tenant_id", None), now, actor)




def record_rows(session, changes):
    """Record row changes written by set-based statements (which the flush never sees): each
    change is (action, object type, object id, before, after, tenant id)."""
    now, actor = utcnow(), current_actor()
    connection = session.connection()
    for action, obj_type, object_id, before, after, tenant_id in changes:
        _append_row_event(connection, action, obj_type, (object_id,), before, after, tenant_id, now, actor)
