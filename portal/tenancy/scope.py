"""The current tenant, and the automatic scoping of every query to it.

Every model that mixes in TenantOwned gets an indexed ``tenant_id``. Inserts take the current
tenant; selects, updates and deletes are filtered to it by a ``do_orm_execute`` hook, so a
forgotten filter cannot leak another bureau's rows. On PostgreSQL the same tenant is written to
the ``app.tenant_id`` setting of each transaction with its proof (``app.tenant_proof``,
core/pgsecurity.py), which the row-level security policies read:
before each statement of the session's transaction, whenever the scope differs from what the
transaction was last told (one ``set_config`` round trip per change actually used).
"""
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import Engine, ForeignKey, event, inspect
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column, with_loader_criteria
from sqlalchemy.pool import Pool
from sqlalchemy.sql.elements import ReleaseSavepointClause, RollbackToSavepointClause, SavepointClause

from portal.core.pgsecurity import SHOW_SCOPE, scope_parameters

_current_tenant: ContextVar[int | None] = ContextVar("current_tenant", default=None)
# Platform-wide work (the platform admin, seeding, cross-tenant jobs) opts out explicitly.
_all_tenants: ContextVar[bool] = ContextVar("all_tenants", default=False)

NO_TENANT = -1  # matches no row: queries without a tenant see nothing


class TenancyError(RuntimeError):
    """A tenant-owned row was written without, or outside, the current tenant."""


class TenantOwned:
    """Mixin for tables whose rows belong to one bureau."""

    __tenancy__ = "tenant"

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenant.id"), index=True, nullable=False)


class TenantOptional(TenantOwned):
    """Mixin for tenant-scoped tables that also hold platform rows (tenant_id NULL), such as the
    audit trail and job runs; platform rows are read only in ``all_tenants()`` mode."""

    __tenancy__ = "tenant"

    @declared_attr
    def tenant_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("tenant.id"), index=True, nullable=True)


def current_tenant_id():
    return _current_tenant.get()


def all_tenants_mode():
    return _all_tenants.get()


@contextmanager
def tenant_scope(tenant_id):
    """Run a block as one tenant (jobs, commands, tests). Restores the outer scope after."""
    token = _current_tenant.set(tenant_id)
    flag = _all_tenants.set(False)
    try:
        yield tenant_id
    finally:
        _current_tenant.reset(token)
        _all_tenants.reset(flag)


@contextmanager
def all_tenants():
    """Run a block that may see every tenant's rows (platform-level work only).

    The ORM drops its tenant filter; on PostgreSQL the transaction says ``app.all_tenants = 'on'``,
    which the row-level security policies honour only for the platform role
    (``PORTAL_PLATFORM_ROLE``: workers, the scheduler, cross-bureau commands; core/pgsecurity.py).
    In a web process (the application role) the database still shows the rows of the current
    tenant only, or with none the rows without a bureau (platform audit chain, platform job runs)."""
    flag = _all_tenants.set(True)
    try:
        yield
    finally:
        _all_tenants.reset(flag)


def set_request_tenant(tenant_id):
    """Bind the tenant of the current request (reset at the end of the request context)."""
    from flask import g
    tokens = (_current_tenant.set(tenant_id), _all_tenants.set(False))
    g.setdefault("_tenant_tokens", []).append(tokens)


def reset_request_tenant(exc=None):
    """Teardown of every request: forget its tenant, so nothing run later in the same thread
    (the next request before its own binding, a test, a command) inherits it."""
    from flask import g
    for tenant_token, flag_token in reversed(g.pop("_tenant_tokens", [])):
        try:
            _all_tenants.reset(flag_token)
            _current_tenant.reset(tenant_token)
        except ValueError:  # set in another context: clear instead
            _all_tenants.set(False)
            _current_tenant.set(None)


# What a PostgreSQL connection of the session has told row-level security in its transaction:
# connection.info[_SHOWN] = (tenant, all tenants) as set_config last wrote them. Set when the
# session begins a transaction, forgotten when it ends. Before each statement on such a connection
# the setting follows the scope (``_show_scope``), so changing the scope costs nothing until a
# statement runs, and a scope entered and left between two statements costs nothing at all.
_SHOWN = "portal_tenancy_shown"
_NOTHING = ("", "off")  # a transaction's start: set_config(…, true) has set nothing yet
_UNKNOWN = ("?", "?")   # after a savepoint's rollback, which restores what was shown before it
_SAVEPOINTS = (SavepointClause, RollbackToSavepointClause, ReleaseSavepointClause)


def _scope_setting():
    tenant = _current_tenant.get()
    return ("" if tenant is None else str(tenant)), ("on" if _all_tenants.get() else "off")


def _show_scope(conn, clauseelement, multiparams, params, execution_options):
    """Before a statement on a tracked connection: tell PostgreSQL the current scope if it differs
    from what the transaction shows (one set_config statement, then the statement itself)."""
    shown = conn.info.get(_SHOWN)
    if shown is None or isinstance(clauseelement, _SAVEPOINTS):
        return  # (a ROLLBACK TO SAVEPOINT may follow a failed statement: nothing else runs before it)
    wanted = _scope_setting()
    if shown != wanted:
        conn.info[_SHOWN] = wanted  # first: the set_config below passes through here too
        conn.execute(SHOW_SCOPE, scope_parameters(wanted[0], wanted[1] == "on"))


def _forget_shown(conn, *args):
    if not conn.invalidated:  # a lost connection's info went with it (and reading it would raise)
        conn.info.pop(_SHOWN, None)


def _shown_unknown(conn, *args):
    if not conn.invalidated and _SHOWN in conn.info:
        conn.info[_SHOWN] = _UNKNOWN


def _forget_shown_at_reset(dbapi_connection, connection_record, reset_state):
    connection_record.info.pop(_SHOWN, None)


def _write_pg_setting(connection):
    tenant, everyone = _scope_setting()
    connection.execute(SHOW_SCOPE, scope_parameters(tenant, everyone == "on"))


@contextmanager
def own_transaction(engine):
    """A transaction on a connection of its own, committed on leaving whatever the session's
    transaction does, in the current scope (PostgreSQL is told the tenant as for the session)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            _write_pg_setting(connection)
        yield connection


def install(session_class=Session):
    """Register the session hooks that apply tenancy; called once at import of the app."""

    @event.listens_for(session_class, "do_orm_execute")
    def _scope_orm_statements(state):
        if _all_tenants.get() or state.execution_options.get("skip_tenant_scope"):
            return
        if not (state.is_select or state.is_update or state.is_delete):
            return
        if state.is_column_load or state.is_relationship_load:
            return  # the parent query was already scoped
        tenant = _current_tenant.get()
        tenant = NO_TENANT if tenant is None else tenant
        state.statement = state.statement.options(
            with_loader_criteria(TenantOwned, lambda cls: cls.tenant_id == tenant, include_aliases=True)
        )

    @event.listens_for(session_class, "before_flush")
    def _stamp_new_rows(session, flush_context, instances):
        tenant = _current_tenant.get()
        everyone = _all_tenants.get()
        for obj in session.new:
            if not isinstance(obj, TenantOwned):
                continue
            if obj.tenant_id is None:
                if tenant is None and isinstance(obj, TenantOptional):
                    continue
                if tenant is None:
                    raise TenancyError(f"{type(obj).__name__} created outside a tenant scope")
                obj.tenant_id = tenant
            elif obj.tenant_id != tenant and not everyone:
                raise TenancyError(f"{type(obj).__name__} of tenant {obj.tenant_id} written as tenant {tenant}")
        if everyone:
            return
        # Rows already in the session (loaded earlier, e.g. by platform code) may be changed or
        # deleted only as their own tenant, and never handed to another one.
        changed = [o for o in session.dirty if isinstance(o, TenantOwned)
                   and session.is_modified(o, include_collections=False)]
        for obj in changed + [o for o in session.deleted if isinstance(o, TenantOwned)]:
            owners = {obj.tenant_id, *inspect(obj).attrs.tenant_id.history.deleted}
            if owners != {tenant}:
                others = sorted(owners - {tenant}, key=str)
                raise TenancyError(f"{type(obj).__name__} of tenant {others} changed as tenant {tenant}")

    @event.listens_for(session_class, "after_begin")
    def _track_postgres(session, transaction, connection):
        """A transaction of the session begins on ``connection``: from now on every statement on
        it runs with the scope's setting (``_show_scope``), written only when it changes."""
        if connection.dialect.name == "postgresql" and transaction.nested is False and transaction.parent is None:
            connection.info[_SHOWN] = _NOTHING

    event.listen(Engine, "before_execute", _show_scope)
    event.listen(Engine, "commit", _forget_shown)
    event.listen(Engine, "rollback", _forget_shown)
    event.listen(Engine, "rollback_savepoint", _shown_unknown)
    event.listen(Pool, "reset", _forget_shown_at_reset)
