"""The append-only, hash-chained audit trail."""
from datetime import datetime

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.models import UTCDateTime
from portal.extensions import db
from portal.tenancy.scope import TenantOptional

PLATFORM_CHAIN = 0  # events of no tenant (platform admin work, unknown usernames)


class AuditEntry(TenantOptional, db.Model):
    """One recorded event. Each row's hash covers the previous row's hash in the same chain.

    Rows are only ever inserted: on PostgreSQL the application role has no UPDATE or DELETE right
    on this table, and ``flask --app wsgi audit-verify`` names the first row that no longer matches.
    """

    __tablename__ = "audit_entry"
    __audit__ = False
    __table_args__ = (UniqueConstraint("chain", "seq"),)

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
