"""The append-only, hash-chained audit trail."""
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.models import UTCDateTime
from portal.extensions import db
from portal.tenancy.scope import TenantOptional

PLATFORM_CHAIN = 0  # events of no tenant (platform admin work, unknown usernames)
CHAIN_OF_TENANT = "chain = COALESCE(tenant_id, 0)"  # the chain of a row is its tenant's (PLATFORM_CHAIN)


class AuditEntry(TenantOptional, db.Model):
    """One recorded event. Each row's hash covers the previous row's hash in the same chain.

    Rows are only ever inserted: on PostgreSQL the application role has no UPDATE or DELETE right
    on this table, and ``flask --app wsgi audit-verify`` names the first row that no longer matches.
    """

    __tablename__ = "audit_entry"
    __audit__ = False
    # A row sits in its own bureau's chain (the platform's: 0): no bureau writes into another's.
    __table_args__ = (UniqueConstraint("chain", "seq"), CheckConstraint(CHAIN_OF_TENANT, name="chain_of_tenant"))

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64), default="")
    actor_role: Mapped[str] = mapped_column(String(32), default="")
    action: Mapped[str] = mapped_column(String(32))
    object_type: Mapped[str] = mapped_column(String(64), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    address: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    HASHED_FIELDS = ("tenant_id", "chain", "seq", "occurred_at", "actor_id", "actor", "actor_role",
                     "action", "object_type", "object_id", "before", "after", "address", "prev_hash")


class AuditCheckpoint(TenantOptional, db.Model):
    """The head of one audit chain (its last seq and hash) at a moment, kept outside the audited
    table and signed with a key the database never holds (``AUDIT_CHECKPOINT_KEY``): a tail
    rewritten with recomputed hashes, or rows cut off the end, no longer reach the latest
    checkpoint, and its published copy on the public site lets anyone hold the bureau to it.
    Public information: every bureau (and the public site, without one) may read every row
    (``__tenancy_read__``: on PostgreSQL a SELECT-only policy beside the tenant one)."""

    __tablename__ = "audit_checkpoint"
    __audit__ = False
    __tenancy_read__ = "platform"
    __table_args__ = (UniqueConstraint("chain", "seq", "key_id"), CheckConstraint(CHAIN_OF_TENANT, name="chain_of_tenant"))

    id: Mapped[int] = mapped_column(primary_key=True)
    chain: Mapped[int] = mapped_column(Integer, index=True)
    seq: Mapped[int] = mapped_column(Integer)  # 0: the chain was empty
    hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    key_id: Mapped[str] = mapped_column(String(16), default="")  # which signing key (rotation)
    signature: Mapped[str] = mapped_column(String(128))
