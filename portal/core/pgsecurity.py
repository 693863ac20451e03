"""PostgreSQL's second wall: row-level security on every tenant-owned table, an application role
that owns nothing and may not change the audit trail, and a platform role, the only one for which
the "every bureau" switch (``app.all_tenants``) means anything.

Applied by ``flask db upgrade`` (migrations/env.py) as the owner of the tables; idempotent.

Roles (names from the environment, checked as plain identifiers since they are written into the
policies and grants):

- the owner (whoever migrates, e.g. ``portal_owner``): owns the tables and the functions below;
- the application role (``PORTAL_APP_ROLE``, ``portal_app``): the web processes. A policy sees a
  row of the transaction's tenant only, and only a tenant the application proves
  (``portal_tenant()``): ``app.tenant_id`` must come with ``app.tenant_proof``, an HMAC of the
  tenant id under the RLS key (``rls_key``: derived from SECRET_KEY; the database holds a copy in
  ``portal_rls_key``, a table of the owner nobody else may read). An injected query can set
  ``app.tenant_id`` but cannot compute another bureau's proof: it then sees no row and writes none.
  Setting ``app.all_tenants`` to 'on' changes nothing for this role either;
- the platform role (``PORTAL_PLATFORM_ROLE``, ``portal_platform``): the workers, the periodic
  scheduler and the cross-bureau commands. With ``app.all_tenants = 'on'`` (``all_tenants()``) it
  sees every bureau's rows; otherwise it is walled in like the application role.

What the web tier must read across bureaus goes through a ``SECURITY DEFINER`` function of the
owner that answers one narrow question (``definer_function``).
"""
import hashlib
import hmac
import logging
import os
import re
from functools import lru_cache

from flask import current_app
from sqlalchemy import inspect, text

from portal.extensions import db

log = logging.getLogger("portal.pgsecurity")
POLICY = "tenant_isolation"
# Tenant tables whose model says ``__tenancy_read__ = "platform"`` are readable by every bureau
# (one more, SELECT-only policy); writing stays with the row's own bureau (tenant_isolation).
PLATFORM_READ_POLICY = "platform_read"
APPEND_ONLY_TABLES = ("audit_entry", "audit_checkpoint")
# The tenant of the transaction, proven (portal_tenant(), below); a sub-select, so that PostgreSQL
# evaluates it once per statement (an InitPlan), not once per row.
TENANT_EXPR = "(SELECT public.portal_tenant())"
RLS_KEY_TABLE = "portal_rls_key"  # (its name is written out in the statements below)
# The database's side of the RLS key: HMAC-SHA256's inner and outer padded keys (RFC 2104), so the
# function checks a proof with the core sha256() alone (no pgcrypto extension needed).
_RLS_KEY_DDL = ("CREATE TABLE IF NOT EXISTS portal_rls_key (id integer PRIMARY KEY CHECK (id = 1), "
                "inner_pad bytea NOT NULL, outer_pad bytea NOT NULL)")
_RLS_KEY_WRITE = text("INSERT INTO portal_rls_key (id, inner_pad, outer_pad) VALUES (1, :inner, :outer) "
                      "ON CONFLICT (id) DO UPDATE SET inner_pad = EXCLUDED.inner_pad, outer_pad = EXCLUDED.outer_pad")
# The transaction's tenant (app.tenant_id) when app.tenant_proof is its HMAC under the RLS key; no
# tenant (empty): NULL, the rows without a bureau, as before; any other tenant: -1, no row at all.
_PORTAL_TENANT = (
    "SELECT CASE WHEN s.tenant IS NULL THEN NULL "
    "WHEN k.id IS NOT NULL AND encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(s.tenant::text, 'UTF8'))), "
    "'hex') = COALESCE(current_setting('app.tenant_proof', true), '') THEN s.tenant ELSE -1 END "
    "FROM (SELECT NULLIF(current_setting('app.tenant_id', true), '')::integer AS tenant) s "
    "LEFT JOIN public.portal_rls_key k ON k.id = 1")
# What the application tells a transaction (tenancy/scope.py, and the plain connections that
# scope themselves): the tenant, its proof, and the platform role's switch.
SHOW_SCOPE = text("SELECT set_config('app.tenant_id', :t, true), set_config('app.tenant_proof', :p, true), "
                  "set_config('app.all_tenants', :a, true)")
_SEARCH_PATH = "pg_catalog, public, pg_temp"  # pg_temp last: a temporary table shadows nothing
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


@lru_cache(maxsize=8)
def rls_key(secret_key):
    """The RLS key of an application whose SECRET_KEY is ``secret_key`` (32 bytes)."""
    if isinstance(secret_key, str):
        secret_key = secret_key.encode()
    return hmac.new(secret_key, b"portal:rls", hashlib.sha256).digest()


def rls_pads(secret_key):
    """{"inner": …, "outer": …}: HMAC-SHA256's padded keys of the RLS key (RFC 2104), with which
    SQL computes a proof as sha256(outer || sha256(inner || tenant))."""
    key = rls_key(secret_key).ljust(64, b"\0")  # a key pads to SHA-256's 64-byte block
    return {"inner": bytes(b ^ 0x36 for b in key), "outer": bytes(b ^ 0x5C for b in key)}


@lru_cache(maxsize=4096)
def _proof(key, tenant):
    return hmac.new(key, tenant.encode(), hashlib.sha256).hexdigest()


def tenant_proof(tenant, secret_key=None):
    """``app.tenant_proof`` for the tenant (id, or its text; empty or None: no tenant, no proof),
    under the RLS key of the current application (or of ``secret_key``)."""
    if tenant is None or tenant == "":
        return ""
    key = rls_key(secret_key if secret_key is not None else current_app.config["SECRET_KEY"])
    return _proof(key, str(int(tenant)))


def scope_parameters(tenant, everyone=False, secret_key=None):
    """The parameters of ``SHOW_SCOPE`` for ``tenant`` (None: none) and the platform switch."""
    text_tenant = "" if tenant is None or tenant == "" else str(int(tenant))
    return {"t": text_tenant, "p": tenant_proof(text_tenant, secret_key), "a": "on" if everyone else "off"}


def show_scope(connection, tenant, everyone=False):
    """Scope ``connection``'s transaction to ``tenant`` for row-level security (PostgreSQL only)."""
    if connection.dialect.name == "postgresql":
        connection.execute(SHOW_SCOPE, scope_parameters(tenant, everyone))


def all_tenants_expr(role):
    """The switch of ``all_tenants()``: honoured only when the session's user is the platform role."""
    return f"(current_user = '{role}' AND current_setting('app.all_tenants', true) = 'on')"


def definer_function(name, arguments, returns, body, tables):
    """Declare a ``SECURITY DEFINER`` SQL function (created by apply_security, owned by the owner,
    ``search_path`` pinned to pg_catalog, public, pg_temp — the body names its tables
    ``public.…`` — EXECUTE for the application and platform roles only) that
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


def _create_definer(connection, name, arguments, returns, body, roles, language="sql"):
    connection.execute(text(
        f"CREATE OR REPLACE FUNCTION {name}({arguments}) RETURNS {returns} LANGUAGE {language} STABLE "
        f"SECURITY DEFINER SET search_path = {_SEARCH_PATH} AS $fn$ {body} $fn$"))
    signature = f"{name}({arguments})"
    connection.execute(text(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC"))
    for role in roles:
        connection.execute(text(f'GRANT EXECUTE ON FUNCTION {signature} TO "{role}"'))


def _write_rls_key(connection, secret_key):
    """The database's copy of the RLS key (rewritten at every upgrade: a new SECRET_KEY takes
    effect with the next ``flask db upgrade``), and ``portal_tenant()``, which checks proofs with it."""
    connection.execute(text(_RLS_KEY_DDL))
    connection.execute(text(f"REVOKE ALL ON {RLS_KEY_TABLE} FROM PUBLIC"))
    connection.execute(_RLS_KEY_WRITE, rls_pads(secret_key))


def apply_security(connection, metadata, secret_key=None):
    """Policies, grants and functions (idempotent); ``secret_key``: the application's SECRET_KEY
    (by default the current application's), from which the RLS key is derived."""
    existing = set(inspect(connection).get_table_names())
    platform_read = set(platform_read_tables(metadata))
    everyone = all_tenants_expr(platform_role())
    roles = _existing_roles(connection, [app_role(), platform_role()])
    _write_rls_key(connection, secret_key if secret_key is not None else current_app.config["SECRET_KEY"])
    # PL/pgSQL: its statement's plan is cached for the session; a SQL function's body would be
    # planned again at every call, i.e. every statement (measured: ~3x the cost per statement).
    _create_definer(connection, "portal_tenant", "", "integer", f"BEGIN RETURN ({_PORTAL_TENANT}); END",
                    roles, language="plpgsql")
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
    for role in roles:
        connection.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
        connection.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'))
        connection.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
        connection.execute(text(f'REVOKE ALL ON alembic_version FROM "{role}"'))
        connection.execute(text(f'GRANT SELECT ON alembic_version TO "{role}"'))
        connection.execute(text(f'REVOKE ALL ON {RLS_KEY_TABLE} FROM "{role}"'))  # the owner's alone
        for table in APPEND_ONLY_TABLES:
            if table in existing:
                connection.execute(text(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM "{role}"'))
    for name, (arguments, returns, body, tables) in sorted(DEFINER_FUNCTIONS.items()):
        if not set(tables) <= existing:
            continue
        _create_definer(connection, name, arguments, returns, body, roles)
