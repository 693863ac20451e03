"""PostgreSQL's second wall: row-level security on every tenant-owned table, and an
application role that owns nothing and may not change the audit trail.

Applied by ``flask db upgrade`` (migrations/env.py) as the owner of the tables; idempotent.
"""
import logging
import os

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
ALL_TENANTS_EXPR = "current_setting('app.all_tenants', true) = 'on'"


def app_role():
    return os.environ.get("PORTAL_APP_ROLE", "portal_app")


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


def apply_security(connection, metadata):
    existing = set(inspect(connection).get_table_names())
    platform_read = set(platform_read_tables(metadata))
    for table in tenant_tables(metadata):
        if table not in existing:
            continue
        connection.execute(text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
        connection.execute(text(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"'))
        connection.execute(text(
            f'CREATE POLICY {POLICY} ON "{table}" USING ({ALL_TENANTS_EXPR} '
            f'OR tenant_id IS NOT DISTINCT FROM {TENANT_EXPR})'))
        connection.execute(text(f'DROP POLICY IF EXISTS {PLATFORM_READ_POLICY} ON "{table}"'))
        if table in platform_read:  # permissive policies add up: SELECT sees every bureau's rows
            connection.execute(text(f'CREATE POLICY {PLATFORM_READ_POLICY} ON "{table}" FOR SELECT USING (true)'))
    role = app_role()
    if not connection.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
        log.warning("role %s does not exist: create it (see README) and run `flask db upgrade` again", role)
        return
    connection.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
    connection.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"'))
    connection.execute(text(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO "{role}"'))
    connection.execute(text(f'REVOKE ALL ON alembic_version FROM "{role}"'))
    connection.execute(text(f'GRANT SELECT ON alembic_version TO "{role}"'))
    for table in APPEND_ONLY_TABLES:
        if table in existing:
            connection.execute(text(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{table}" FROM "{role}"'))
