"""Electronic visit verification: visits as the phone recorded them, photos, corrections that
never overwrite the raw record, and the exceptions the rules raise (docs/DOMAIN.md §6)."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

VISIT_STATUSES = ("pending", "verified", "exception", "rejected")
EXCEPTION_CODES = ("V01", "V02", "V03", "V04", "V05", "V06", "V07", "V08", "V09", "V10", "V11")
WARNING_CODES = ("V09",)  # recorded, shown, but the visit still counts
EXCEPTION_STATUSES = ("open", "answered", "accepted", "rejected")
SOURCES = ("app", "web", "manual")
# A contractor's correction waits for a supervisor (pending); a supervisor's own is accepted at
# once; a newer correction of the same visit supersedes a pending one. Only accepted ones count.
CORRECTION_STATUSES = ("pending", "accepted", "rejected", "superseded")


class Visit(TenantOwned, db.Model):
    """One visit as submitted. ``client_id`` (a UUID made by the phone) makes uploads
    idempotent; ``body_hash`` tells a faithful replay from a conflicting one. The recorded
    times and coordinates are never edited: see VisitCorrection."""

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_id"),
        Index("ix_visit_worker_time", "tenant_id", "staff_id", "check_in_at"),
        Index("ix_visit_beneficiary_time", "tenant_id", "beneficiary_id", "check_in_at"),
        Index("ix_visit_device_time", "tenant_id", "device_id", "check_in_at"),
        Index("ix_visit_contract_time", "tenant_id", "contract_id", "check_in_at"),
        Index("ix_visit_comparison_due", "tenant_id", sqlite_where=text("comparison_due"),
              postgresql_where=text("comparison_due")),
    )
    __audit_redact__ = ("check_in_lat", "check_in_lon", "check_out_lat", "check_out_lon", "notes")

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36))
    body_hash: Mapped[str] = mapped_column(String(64))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    service_item_id: Mapped[int] = mapped_column(ForeignKey("service_item.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    worker_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(100))
    check_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    check_in_lat: Mapped[float] = mapped_column(Float)
    check_in_lon: Mapped[float] = mapped_column(Float)
    check_in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    check_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_out_lat: Mapped[float | None] = mapped_column(Float)
    check_out_lon: Mapped[float | None] = mapped_column(Float)
    services: Mapped[list] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="app")
    recorded_live: Mapped[bool] = mapped_column(Boolean, default=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_out_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    distance_from_home_m: Mapped[int | None] = mapped_column(Integer)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    penalised: Mapped[bool] = mapped_column(Boolean, default=False)  # rejected by a spot check
    # its comparison is queued and has not run yet (migration c4e8a1f09d27; tasks.compare_unjudged)
    comparison_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    contract = relationship("Contract")
    service_item = relationship("ServiceItem")
    beneficiary = relationship("Beneficiary")
    staff = relationship("StaffMember")
    photos = relationship("VisitPhoto", back_populates="visit", order_by="VisitPhoto.id")
    corrections = relationship("VisitCorrection", back_populates="visit", order_by="VisitCorrection.id")
    exceptions = relationship("VisitException", back_populates="visit", order_by="VisitException.code")

    @property
    def correction_in_force(self):
        """The latest accepted correction, or None: a pending or rejected one changes nothing."""
        return next((c for c in reversed(self.corrections) if c.status == "accepted"), None)

    @property
    def standing_correction(self):
        """The correction made last that still stands — in force (accepted) or waiting for a
        supervisor (pending) — or None. A further correction must shorten it."""
        return next((c for c in reversed(self.corrections) if c.status in ("pending", "accepted")), None)

    def times_with(self, correction):
        """(check-in, check-out) with ``correction`` applied, or the recorded times without one."""
        if correction is not None:
            return correction.adjusted_check_in_at, correction.adjusted_check_out_at
        return self.check_in_at, self.check_out_at

    @property
    def effective_times(self):
        """(check-in, check-out) the rules count: the latest accepted correction's, else the
        recorded ones (a contractor's correction counts only once a supervisor has accepted it)."""
        return self.times_with(self.correction_in_force)

    @property
    def pending_correction(self):
        """The correction waiting for a supervisor's decision, or None (there is at most one)."""
        return next((c for c in reversed(self.corrections) if c.status == "pending"), None)


class VisitPhoto(TenantOwned, db.Model):
    """A photo of a visit (JPEG/PNG by content, location metadata stripped before storing)."""

    __tablename__ = "visit_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("stored_file.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    visit = relationship("Visit", back_populates="photos")
    file = relationship("StoredFile")


class VisitCorrection(TenantOwned, db.Model):
    """An adjusted time with a reason code, who made it and when. It may only shorten the visit
    (start later and/or end earlier than recorded). A contractor's correction is ``pending`` until
    a supervisor accepts or rejects it; the latest accepted correction is the one in force."""

    __tablename__ = "visit_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    adjusted_check_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    adjusted_check_out_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason_code: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    made_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    visit = relationship("Visit", back_populates="corrections")


class VisitException(TenantOwned, db.Model):
    """A rule the visit failed (V01–V11), with its resolution: the contractor answers with a
    reason code and evidence, a supervisor accepts (the visit counts) or rejects it."""

    __tablename__ = "visit_exception"
    __table_args__ = (UniqueConstraint("visit_id", "code"),
                      Index("ix_visit_exception_code_status", "tenant_id", "code", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    code: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    warning: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="open")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    response_reason: Mapped[str] = mapped_column(String(32), default="")
    response_text: Mapped[str] = mapped_column(Text, default="")
    evidence_file_id: Mapped[str | None] = mapped_column(ForeignKey("stored_file.id"))
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    visit = relationship("Visit", back_populates="exceptions")
