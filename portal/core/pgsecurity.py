"""PostgreSQL's second wall: row-level security on every tenant-owned table, an application role
that owns nothing and may not change the audit trail, and a platform role, the only one for which
the "every bureau" switch (``app.all_tenants``) means anything.

Applied by ``flask db upgrade`` (migrations/env.py) as the owner of the tables; idempotent.

Roles (names from the environment, checked as plain identifiers since they are written into the
policies and grants):

- the owner (whoever migrates, e.g. ``portal_owner``): owns the tables and the functions below;
- the application role (``PORTAL_APP_ROLE``, ``portal_app``): the web processes. A policy sees a
  row of the transaction's tenant (``app.tenant_id``) only; setting ``app.all_tenants`` to 'on'
  changes nothing for it, so an injected ``set_config`` cannot lower the wall;
- the platform role (``PORTAL_PLATFORM_ROLE``, ``portal_platform``): the workers, the periodic
  scheduler and the cross-bureau commands. With ``app.all_tenants = 'on'`` (``all_tenants()``) it
  sees every bureau's rows; otherwise it is walled in like the application role.

What the web tier must read across bureaus goes through a ``SECURITY DEFINER`` function of the
owner that answers one narrow question (``definer_function``).
"""
import logging
import os
import re

from sqlalchemy import inspect, text

from portal.extensions import db

log = logging.getLogger("portal.pgsecurity")
POLICY = "tenant_isolation"
# Tenant tables whose model says ``__tenancy_read__ = "platform"`` are readable by every bureau
# (one more, SELECT-only policy); writing stays with the row's own bureau (tenant_isolation).
PLATFORM_READ_POLICY = "platform_read"
APPEND_ONLY_TABLES = ("audit_entry", "audit_checkpoint")
# The tenant of the transaction, from set_config('app.tenant_id', …, true); empty means none.
TENANT_EXPR = "NULLIF(current_setting('app.tenant_id', true), '')::integer"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# SECURITY DEFINER functions declared by the feature packages: name -> (arguments, returns, SQL body, tables read)
DEFINER_FUNCTIONS = {}


def _role_name(variable, default):
    name = os.environ.get(variable) or default
    if not _IDENTIFIER.match(name):
        raise ValueError(f"{variable}={name!r}: a role name must be a plain lower-case identifier")
    return name


def app_role():
    return _role_name("PORTAL_APP_ROLE", "portal_app")


def platform_role():
    return _role_name("PORTAL_PLATFORM_ROLE", "portal_platform")


def all_tenants_expr(role):
    """The switch of ``all_tenants()``: honoured only when the session's user is the platform role."""
    return f"(current_user = '{role}' AND current_setting('app.all_tenants', true) = 'on')"


def definer_function(name, arguments, returns, body, tables):
    """Declare a ``SECURITY DEFINER`` SQL function (created by apply_security, owned by the owner,
    ``search_path`` pinned to public, EXECUTE for the application and platform roles only) that
    answers one narrow cross-bureau question for the web tier. ``tables``: it is created once
    they all exist."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"function name {name!r} is not a plain identifier")
    DEFINER_FUNCTIONS[name] = (arguments, returns, body, tuple(tables))


def tenant_tables(metadata):
    """Tables whose model declares ``__tenancy__ = "tenant"``."""
    tables = []
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__tenancy__", None) == "tenant" and cls.__table__.name in metadata.tables:
            tables.append(cls.__table__.name)
    return sorted(set(tables))


def platform_read_tables(metadata):
    """Tenant tables every bureau may read (e.g. the 失信名单, which bans platform-wide)."""
    return sorted({mapper.class_.__table__.name for mapper in db.Model.registry.mappers
                   if getattr(mapper.class_, "__tenancy_read__", None) == "platform"
                   and mapper.class_.__table__.name in metadata.tables})


def _existing_roles(connection, roles):
    present = []
    for role in roles:
        if connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
            present.append(role)
        else:
            log.warning("role %s does not exist: create it (see README) and run `flask db upgrade` again", role)
    return present


def apply_security(connection, metadata):
    existing = set(inspect(connection).get_table_names())
    platform_read = set(platform_read_tables(metadata))
    everyone = all_tenants_expr(platform_role())
    for table in tenant_tables(metadata):
        if table not in existing:
            continue
        connection.execute(text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
        connection.execute(text(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"'))
        connection.execute(text(
            f'CREATE POLICY {POLICY} ON "{table}" USING ({everyone} '
            f'OR tenant_id IS NOT DISTINCT FROM {TENANT_EXPR})'))
        connection.execute(text(f'DROP POLICY IF EXISTS {PLATFORM_READ_POLICY} ON "{table}"'))
        if table in platform_read:  # permissive policies add up: SELECT sees every bureau's rows
            connection.execute(text(f'CREATE POLICY {PLATFORM_READ_POLICY} ON "{table}" FOR SELECT USING (true)'))
    roles = _existing_roles(connection, [app_role(), platform_role()])
    for role in roles:
        connection.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
        connection.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'))
        connection.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
        connection.execute(text(f'REVOKE ALL ON alembic_version FROM "{role}"'))
        connection.execute(text(f'GRANT SELECT ON alembic_version TO "{role}"'))
        for table in APPEND_ONLY_TABLES:
            if table in existing:
                connection.execute(text(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM "{role}"'))
    for name, (arguments, returns, body, tables) in sorted(DEFINER_FUNCTIONS.items()):
        if not set(tables) <= existing:
            continue
        connection.execute(text(
            f"CREATE OR REPLACE FUNCTION {name}({arguments}) RETURNS {returns} LANGUAGE sql STABLE "
            f"SECURITY DEFINER SET search_path = public AS $fn$ {body} $fn$"))
        signature = f"{name}({arguments})"
        connection.execute(text(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC"))
        for role in roles:
            connection.execute(text(f'GRANT EXECUTE ON FUNCTION {signature} TO "{role}"'))
