"""The feedback item (docs/DOMAIN.md §9 "Public feedback"). The contact is stored encrypted
(core/crypto.py) and shown, decrypted, only to bureau officers on the detail page; the audit trail
redacts the text, the contact and the answer."""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

TOPICS = ("contractor", "service", "notice", "assessment_objection", "other")
STATUSES = ("received", "assigned", "answered")


class FeedbackItem(TenantOwned, db.Model):
    """One piece of feedback: received (UTC time; its day in Beijing counts for ``due_on``), assigned
    to a bureau user, answered; published when the sender consented and an officer publishes it."""

    __tablename__ = "feedback_item"
    __table_args__ = (UniqueConstraint("tracking_number"),)
    __audit_redact__ = ("text", "contact", "answer")
    __encrypted__ = {"contact": None}  # PORTAL_DATA_KEY columns, no keyed hash (ops/rotation.py)

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(24))
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractor.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(Text, default="")  # encrypted (core/crypto.py), "" when none given
    consent_to_publish: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="received")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the officer's finding when answering a complaint about a contractor: upheld complaints count
    # in the contractor's quarterly scorecard (None: not decided, or not a complaint)
    upheld: Mapped[bool | None] = mapped_column(Boolean)

    contractor = relationship("Contractor")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    answered_by = relationship("User", foreign_keys=[answered_by_id])
