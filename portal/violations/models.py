"""Violations of the subcontracting ban (严禁服务转包), docs/DOMAIN.md §7."""
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import JSON, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.errors import DomainError
from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

VIOLATION_KINDS = (
    "unlisted_worker",      # V01: a deliverable by someone not on the contractor's active roster
    "two_rosters",          # one person on two rosters over overlapping dates
    "insured_elsewhere",    # a roster member whose social insurance another employer pays
    "not_on_roster",        # a worker on a contract's work list who is not on the active roster
    "shared_device",        # one device used by workers of different contractors
)
VIOLATION_STATUSES = ("open", "confirmed", "dismissed")


class Violation(TenantOwned, db.Model):
    """One breach of the subcontracting ban. ``dedupe_key`` makes every detector idempotent:
    finding the same breach again changes nothing."""

    __tablename__ = "violation"
    __table_args__ = (UniqueConstraint("tenant_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    dedupe_key: Mapped[str] = mapped_column(String(200))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    contract = relationship("Contract")
    staff = relationship("StaffMember")

    def confirm(self, by, note):
        """A supervisor confirms an open violation (the settlement then deducts the penalty)."""
        self._decide("confirmed", by, note)

    def dismiss(self, by, note):
        """A supervisor dismisses an open violation: it no longer counts anywhere."""
        self._decide("dismissed", by, note)

    def _decide(self, status, by, note):
        note = (note or "").strip()
        if self.status != "open":
            raise DomainError(_("This violation has already been decided."))
        if not note:
            message = _("Write a note that explains the decision.")
            raise DomainError(message, {"note": [message]})
        self.status, self.decision_note = status, note
        self.decided_by_id, self.decided_at = by.id, utcnow()
