"""Writing and verifying the hash chain."""
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select, text

from portal.audit.models import PLATFORM_CHAIN, AuditEntry
from portal.core.pgsecurity import tenant_proof

GENESIS = "0" * 64


_PLAIN = frozenset({str, int, float, bool, type(None)})


def json_safe(value):
    """Turn a column value into something JSON keeps exactly (for before/after snapshots)."""
    if type(value) in _PLAIN:  # most values: answered first
        return value
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


def entry(*, tenant_id, occurred_at, actor_id, actor, actor_role, action, object_type="",
          object_id="", before=None, after=None, address=""):
    """The fields of one entry before it is chained (no seq, prev_hash nor hash yet). Values are
    made JSON-safe now, so a snapshot kept until the commit cannot change under it."""
    return {
        "tenant_id": tenant_id, "chain": tenant_id or PLATFORM_CHAIN,
        "occurred_at": occurred_at.astimezone(timezone.utc), "actor_id": actor_id,
        "actor": actor or "", "actor_role": actor_role or "", "action": action,
        "object_type": object_type or "", "object_id": str(object_id or ""),
        "before": json_safe(before) if before is not None else None,
        "after": json_safe(after) if after is not None else None,
        "address": address or "",
    }


# Rows per INSERT: 15 values a row stays well under SQLite's 32,766 and PostgreSQL's 65,535
# parameters per statement.
ROWS_PER_INSERT = 1000
# pg_advisory_xact_lock(LOCK_SPACE, chain) serialises the writers of one chain on PostgreSQL.
LOCK_SPACE = 7301
# Take the chain's lock and show row-level security the chain's tenant, in one round trip; the
# setting it replaces comes back for the restore (read first: a materialised CTE is evaluated
# before the outer select list).
_LOCK_AND_ENTER = text(
    "WITH previous AS MATERIALIZED (SELECT current_setting('app.tenant_id', true) AS tenant, "
    "current_setting('app.tenant_proof', true) AS proof) "
    "SELECT previous.tenant, previous.proof, pg_advisory_xact_lock(:space, :chain), "
    "set_config('app.tenant_id', :tenant, true), set_config('app.tenant_proof', :proof, true) FROM previous")
_RESTORE = text("SELECT set_config('app.tenant_id', :tenant, true), set_config('app.tenant_proof', :proof, true)")
# The same lock when the connection already shows row-level security the chain's tenant.
_LOCK = text("SELECT pg_advisory_xact_lock(:space, :chain)")
# Many rows in one INSERT on PostgreSQL: one array per column, so the statement is the same
# whatever the number of rows (no statement built and compiled per row).
_COLUMNS = (("tenant_id", "integer"), ("chain", "integer"), ("seq", "integer"), ("occurred_at", "timestamptz"),
            ("actor_id", "integer"), ("actor", "varchar"), ("actor_role", "varchar"), ("action", "varchar"),
            ("object_type", "varchar"), ("object_id", "varchar"), ("before", "json"), ("after", "json"),
            ("address", "varchar"), ("prev_hash", "varchar"), ("hash", "varchar"))
# The rows travel as one JSON document (json.dumps is C; a text array per column has each element
# quoted by the driver in Python, which cost more than the rest of a large block).
# Built from the constant _COLUMNS only; the rows travel as one bound parameter.
_INSERT_RECORDSET = text(
    f"INSERT INTO audit_entry ({', '.join(c for c, _t in _COLUMNS)}) SELECT {', '.join(c for c, _t in _COLUMNS)} "  # nosec B608 # constants (above)
    f"FROM json_to_recordset(CAST(:rows AS json)) AS r({', '.join(f'{c} {t}' for c, t in _COLUMNS)})")


def _as_json(rows):
    """The rows as one JSON array of objects: the hashed fields are JSON-safe already (``entry``)."""
    return json.dumps([{c: row.get(c) for c, _t in _COLUMNS} for row in rows], ensure_ascii=False,
                      default=_timestamp)


def _timestamp(value):
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in an audit row")


def append_entries(connection, entries, tenant_shown=False):
    """Append ``entries`` (from ``entry``) to their chains on ``connection``, inside the caller's
    transaction, in the order given; return them chained (seq, prev_hash and hash filled in).

    Per chain, in ascending chain order (so that two writers never wait on each other's locks in
    a cycle): on PostgreSQL one statement takes the chain's advisory transaction lock and sets
    ``app.tenant_id`` (and its proof) to the chain's tenant; then one read of the chain's head, one multi-row
    INSERT (per ``ROWS_PER_INSERT`` rows) of the entries hashed in Python, and on PostgreSQL one
    restore of ``app.tenant_id``. The lock is held until the transaction ends: called at commit,
    that is for the time of these statements and the COMMIT. ``tenant_shown``: the connection's
    ``app.tenant_id`` is already the tenant whose chain is written (and ``app.all_tenants`` off),
    as in a request's own transaction; that chain then needs neither the setting nor its restore."""
    by_chain = {}
    for fields in entries:
        by_chain.setdefault(fields["chain"], []).append(fields)
    chained = []
    for chain in sorted(by_chain):
        chained += _append_to_chain(connection, chain, by_chain[chain], tenant_shown)
    return chained


def _append_to_chain(connection, chain, entries, tenant_shown=False):
    table = AuditEntry.__table__
    postgres = connection.dialect.name == "postgresql"
    tenant = entries[0]["tenant_id"]
    shown = tenant_shown is not False and tenant is not None and tenant_shown == tenant
    if postgres and shown:
        connection.execute(_LOCK, {"space": LOCK_SPACE, "chain": chain})
    elif postgres:
        previous = connection.execute(_LOCK_AND_ENTER, {
            "space": LOCK_SPACE, "chain": chain, "tenant": "" if tenant is None else str(tenant),
            "proof": tenant_proof(tenant)}).first()
    last = connection.execute(
        select(table.c.seq, table.c.hash).where(table.c.chain == chain).order_by(table.c.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
    rows = []
    for fields in entries:
        seq += 1
        row = {**fields, "seq": seq, "prev_hash": prev_hash}
        row["hash"] = prev_hash = entry_hash(row)
        rows.append(row)
    if postgres:
        for start in range(0, len(rows), ROWS_PER_INSERT):
            connection.execute(_INSERT_RECORDSET, {"rows": _as_json(rows[start:start + ROWS_PER_INSERT])})
    else:  # SQLite: the driver's executemany, one prepared statement
        connection.execute(insert(table), rows)
    if postgres and not shown:  # (a failed statement above ends the transaction: nothing to restore then)
        connection.execute(_RESTORE, {"tenant": previous.tenant or "", "proof": previous.proof or ""})
    return rows


def append(connection, **fields):
    """Append one entry (the keyword arguments of ``entry``) to its chain on ``connection`` now."""
    [chained] = append_entries(connection, [entry(**fields)])
    return chained


@dataclass
class Verification:
    ok: bool
    checked: int
    broken_id: int | None = None
    broken_seq: int | None = None
    reason: str = ""
    kind: str = ""  # what broke it: "gap" (a missing entry), "link" (prev_hash), "content"
    head_hash: str = GENESIS  # of an intact chain: the hash of its last row (seq ``checked``)


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
            return Verification(False, checked, row.id, row.seq, f"sequence gap: expected {expected_seq}", "gap")
        if row.prev_hash != prev:
            return Verification(False, checked, row.id, row.seq, "previous hash does not match", "link")
        if entry_hash(fields) != row.hash:
            return Verification(False, checked, row.id, row.seq, "content does not match its hash", "content")
        prev = row.hash
        expected_seq += 1
        checked += 1
    return Verification(True, checked, head_hash=prev)


def chain_length(session, tenant_id):
    chain = tenant_id or PLATFORM_CHAIN
    return session.execute(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.chain == chain)
        .execution_options(skip_tenant_scope=True)
    ).scalar_one()
