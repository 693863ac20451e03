"""Records every insert, update and delete of a domain row, and security events, in the chain.

Row changes are captured in ``after_flush`` from SQLAlchemy's attribute history (ORM bulk UPDATE
and DELETE statements in ``do_orm_execute``), security events by ``record_event``. Nothing is
written then: each entry is collected in the session (``session.info``) with the savepoint open at
the time, and the whole transaction's entries are appended once, when the outermost transaction
commits (``before_commit``: the session is flushed first, so the commit's own flush is recorded
too). Per chain that is one statement taking the chain's lock (PostgreSQL), one read of the
chain's head, one multi-row INSERT and one restore of the tenant setting (PostgreSQL), whatever
the number of entries (portal/audit/chain.py ``append_entries``); the chain's lock is held from
there to the COMMIT, never while a request or job does its work.

So the entries live and die with the change: a rolled-back transaction leaves none, a savepoint
rolled back takes the entries collected inside it (a released one keeps them for the outer
commit), and a committed change always has its entry. A change flushed at commit after the
entries were appended (by another ``before_commit`` hook) is appended at once; entries the commit
hook had to skip (the outer transaction object committed with a savepoint still open) follow the
commit in a transaction of their own.

Reading the trail inside the transaction sees the entries collected so far: an ORM select of
``AuditEntry`` first appends them (as SQLAlchemy's autoflush does for rows), and so does
``append_pending`` for code that reads the table otherwise; either takes the chain's lock until
the transaction ends.
"""
import logging
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import event, inspect, select, tuple_
from sqlalchemy.orm import Mapper, Session, scoped_session
from sqlalchemy.sql.util import find_tables

from portal.audit.chain import append_entries, entry
from portal.audit.models import AuditEntry
from portal.core import pending
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import all_tenants_mode, current_tenant_id

_PENDING_KEY = "portal_audit_pending"  # entries collected, not yet written
_WRITTEN_KEY = "portal_audit_written"  # entries written before the commit inside a savepoint
_COMMITTED_KEY = "portal_audit_appended_at_commit"  # the commit's entries are written: later ones go straight in
log = logging.getLogger("portal.audit")

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


def _session(session):
    return session() if isinstance(session, scoped_session) else session


def collect(session, **fields):
    """Record one entry (the keyword arguments of chain.entry) in ``session``'s transaction: it is
    appended to its chain when the outermost transaction commits, and dropped if the transaction,
    or the savepoint open now, rolls back."""
    session = _session(session)
    fields = entry(**fields)
    if session.info.get(_COMMITTED_KEY):
        append_entries(session.connection(), [fields])
        return
    if not session.in_transaction():
        session.begin()  # so that a rollback before any statement still drops the entry
    pending.collect(session, _PENDING_KEY, fields)


def append_pending(session):
    """Append the entries ``session``'s transaction has collected so far to their chains now,
    for code that must read them before the commit (an ORM select of AuditEntry does this by
    itself). The chains' locks are then held until the transaction ends."""
    session = _session(session)
    collected = pending.take(session, _PENDING_KEY, savepoints=True)
    if not collected:
        return
    append_entries(session.connection(), [fields for fields, _savepoint in collected], _tenant_shown(session))
    written_in = session.get_nested_transaction()
    if written_in is not None:  # a rollback of that savepoint unwrites them: see _forget_rolled_back
        session.info.setdefault(_WRITTEN_KEY, []).extend(
            (fields, savepoint, written_in) for fields, savepoint in collected)


def _tenant_shown(session):
    """The tenant the connection of ``session`` shows row-level security now — the scope's: tenancy
    keeps the app's session in step with it — or False in all-tenants mode, without a tenant, or
    for another session."""
    tenant = current_tenant_id()
    if tenant is None or all_tenants_mode() or session is not _session(db.session):
        return False
    return tenant


def record_event(session, action, *, tenant_id=None, actor=None, object_type="", object_id="",
                 after=None):
    """Record a security event (login, logout, failed login, denied access)."""
    actor_id, username, role, address = current_actor()
    if actor is not None:
        actor_id, username, role = actor.id, actor.username, actor.role
    collect(session, tenant_id=tenant_id, occurred_at=utcnow(), actor_id=actor_id, actor=username,
            actor_role=role, action=action, object_type=object_type, object_id=object_id,
            after=after, address=address)


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


def _collect_row_event(session, action, obj_type, identity, before, after, tenant_id, now, actor):
    actor_id, username, role, address = actor
    collect(session, tenant_id=tenant_id, occurred_at=now, actor_id=actor_id, actor=username,
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
    for identity, old in before.items():
        if state.is_update:
            new = after.get(identity, {})
            changed = {k for k in new if new[k] != old.get(k)}
            if not changed:
                continue
            _collect_row_event(session, "update", cls.__name__, identity,
                              {k: old.get(k) for k in changed}, {k: new[k] for k in changed},
                              old.get("tenant_id"), now, actor)
        else:
            _collect_row_event(session, "delete", cls.__name__, identity, old, None,
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
        if (state.is_select and pending.has_pending(state.session, _PENDING_KEY)
                and _reads_the_trail(state)):
            append_pending(state.session)  # the trail read in the transaction shows its entries
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
        for action, obj, before, after in events:
            state = inspect(obj)
            # A row inserted by this flush has its primary key but no identity key yet.
            identity = state.identity or tuple(state.mapper.primary_key_from_instance(obj))
            _collect_row_event(session, action, type(obj).__name__, identity, before, after,
                               getattr(obj, "tenant_id", None), now, actor)

    @event.listens_for(session_class, "before_commit")
    def _append_at_commit(session):
        if not pending.outermost(session):
            return  # a savepoint released: its entries wait for the outermost commit
        # SQLAlchemy flushes after this hook: flush now so that the last changes are collected.
        session.flush()
        append_pending(session)
        session.info[_COMMITTED_KEY] = True

    @event.listens_for(session_class, "after_commit")
    def _append_missed(session):
        """The outer transaction object committed by itself while a savepoint was still open
        (``transaction.commit()``, not ``session.commit()``) ran the hook above before closing the
        savepoint, which made it skip: the entries follow at once, in a transaction of their own."""
        if not pending.outermost(session) or not pending.has_pending(session, _PENDING_KEY):
            return
        missed = pending.take(session, _PENDING_KEY)
        log.warning("%d audit entries appended after their transaction's commit", len(missed))
        with session.get_bind().begin() as connection:
            append_entries(connection, missed)

    @event.listens_for(session_class, "after_rollback")
    def _forget_rolled_back(session):
        savepoint = session.get_nested_transaction()  # the one rolled back, or None for all
        pending.drop_rolled_back(session, _PENDING_KEY)
        written = session.info.get(_WRITTEN_KEY)
        if savepoint is None or not written:
            return
        # Entries written inside this savepoint are gone from the table: those collected outside
        # it are collected again (before any collected since, as they were).
        undone = [(fields, sp) for fields, sp, written_in in written
                  if pending.inside(written_in, savepoint) and not pending.inside(sp, savepoint)]
        written[:] = [w for w in written if not pending.inside(w[2], savepoint)]
        if undone:
            pending.give_back(session, _PENDING_KEY, undone)

    @event.listens_for(session_class, "after_transaction_end")
    def _forget_transaction(session, transaction):
        if transaction.parent is None:  # committed, rolled back or closed: nothing carries over
            for key in (_PENDING_KEY, _WRITTEN_KEY, _COMMITTED_KEY):
                pending.forget(session, key)


def record_rows(session, changes):
    """Record row changes written by set-based statements (which the flush never sees), collected
    like the flush's: each change is (action, object type, object id, before, after, tenant id)."""
    now, actor = utcnow(), current_actor()
    for action, obj_type, object_id, before, after, tenant_id in changes:
        _collect_row_event(session, action, obj_type, (object_id,), before, after, tenant_id, now, actor)


def _reads_the_trail(state):
    """Does this select read the audit trail? An ORM select says by its entities (cheap: the set
    path's statements are large); a statement of tables only is searched for the table."""
    mappers = state.all_mappers
    if mappers:
        return any(mapper.class_ is AuditEntry for mapper in mappers)
    return AuditEntry.__table__ in find_tables(state.statement, check_columns=True, include_aliases=True,
                                               include_joins=True, include_selects=True)
