"""Writing and verifying the hash chain."""
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select, text

from portal.audit.models import PLATFORM_CHAIN, AuditEntry

GENESIS = "0" * 64


def json_safe(value):
    """Turn a column value into something JSON keeps exactly (for before/after snapshots)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def entry_hash(fields):
    """SHA-256 over the canonical JSON of the hashed fields, the previous hash included."""
    payload = {k: json_safe(fields[k]) for k in AuditEntry.HASHED_FIELDS}
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def append(connection, *, tenant_id, occurred_at, actor_id, actor, actor_role, action,
           object_type="", object_id="", before=None, after=None, address=""):
    """Append one entry to its tenant's chain on ``connection`` (inside the caller's transaction)."""
    chain = tenant_id or PLATFORM_CHAIN
    table = AuditEntry.__table__
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # Serialise writers of one chain, and let row-level security see this chain's rows.
        connection.execute(text("SELECT pg_advisory_xact_lock(7301, :c)"), {"c": chain})
        previous = connection.execute(text("SELECT current_setting('app.tenant_id', true)")).scalar()
        connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"),
                           {"t": "" if tenant_id is None else str(tenant_id)})
    try:
        last = connection.execute(
            select(table.c.seq, table.c.hash).where(table.c.chain == chain)
            .order_by(table.c.seq.desc()).limit(1)
        ).first()
        fields = {
            "tenant_id": tenant_id, "chain": chain, "seq": (last.seq + 1) if last else 1,
            "occurred_at": occurred_at.astimezone(timezone.utc), "actor_id": actor_id,
            "actor": actor or "", "actor_role": actor_role or "", "action": action,
            "object_type": object_type or "", "object_id": str(object_id or ""),
            "before": json_safe(before) if before is not None else None,
            "after": json_safe(after) if after is not None else None,
            "address": address or "", "prev_hash": last.hash if last else GENESIS,
        }
        fields["hash"] = entry_hash(fields)
        connection.execute(insert(table).values(**fields))
    finally:
        if postgres:
            connection.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": previous or ""})
    return fields


@dataclass
class Verification:
    ok: bool
    checked: int
    broken_id: int | None = None
    broken_seq: int | None = None
    reason: str = ""


def verify_chain(session, tenant_id):
    """Recompute every hash of a tenant's chain in order; report the first row that breaks it."""
    chain = tenant_id or PLATFORM_CHAIN
    prev = GENESIS
    expected_seq = 1
    checked = 0
    rows = session.execute(
        select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq)
        .execution_options(yield_per=1000, skip_tenant_scope=True)
    ).scalars()
    for row in rows:
        fields = {k: getattr(row, k) for k in AuditEntry.HASHED_FIELDS}
        if row.seq != expected_seq:
            return Verification(False, checked, row.id, row.seq, f"sequence gap: expected {expected_seq}")
        if row.prev_hash != prev:
            return Verification(False, checked, row.id, row.seq, "previous hash does not match")
        if entry_hash(fields) != row.hash:
            return Verification(False, checked, row.id, row.seq, "content does not match its hash")
        prev = row.hash
        expected_seq += 1
        checked += 1
    return Verification(True, checked)


def chain_length(session, tenant_id):
    chain = tenant_id or PLATFORM_CHAIN
    return session.execute(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.chain == chain)
        .execution_options(skip_tenant_scope=True)
    ).scalar_one()
