"""A contractor is one organisation across the platform; what it does for a bureau (its
registration there, its blacklisting there) is that bureau's data."""
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.errors import DomainError
from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

CONTRACTOR_KINDS = ("social_work_agency", "company", "other")
REGISTRATION_STATUSES = ("pending", "approved", "rejected", "suspended")
DOCUMENT_KINDS = ("licence", "qualification", "other")


class Contractor(db.Model):
    """The organisation, identified by its unified social credit code."""

    __tablename__ = "contractor"
    __tenancy__ = "global"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    legal_representative: Mapped[str] = mapped_column(String(64))
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    documents = relationship("ContractorDocument", back_populates="contractor", order_by="ContractorDocument.id")
    staff = relationship("StaffMember", back_populates="contractor", order_by="StaffMember.id")

    def __repr__(self):
        return f"<Contractor {self.credit_code}>"


class ContractorDocument(db.Model):
    """A licence or qualification certificate; the file is a StoredFile."""

    __tablename__ = "contractor_document"
    __tenancy__ = "global"

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200), default="")
    file_id: Mapped[str] = mapped_column(ForeignKey("stored_file.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contractor = relationship("Contractor", back_populates="documents")
    file = relationship("StoredFile")


class ContractorRegistration(TenantOwned, db.Model):
    """A contractor's standing with one bureau: pending → approved / rejected; approved ⇄ suspended;
    a rejected application may be sent again (rejected → pending) for a new decision."""

    __tablename__ = "contractor_registration"
    __table_args__ = (UniqueConstraint("tenant_id", "contractor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contractor = relationship("Contractor")

    # action -> the states it may start from
    MOVES = {"approve": ("pending",), "reject": ("pending",), "suspend": ("approved",),
             "reinstate": ("suspended",), "reapply": ("rejected",)}

    def can(self, action):
        return self.status in self.MOVES[action]

    def _decide(self, status, by, reason, allowed_from):
        if self.status not in allowed_from:
            raise DomainError(_("A registration that is %(status)s cannot become %(new)s.",
                                status=self.status, new=status))
        self.status, self.reason = status, reason or ""
        self.decided_by_id, self.decided_at = by.id, utcnow()

    def approve(self, by):
        """Approve the application; refused while the organisation has no business licence uploaded."""
        if self.can("approve") and not any(d.kind == "licence" for d in self.contractor.documents):
            raise DomainError(_("Upload the business licence (营业执照或登记证书) first: a registration without it "
                                "cannot be approved."))
        self._decide("approved", by, "", self.MOVES["approve"])

    def reject(self, by, reason):
        if not (reason or "").strip():
            raise DomainError(_("Give the reason for the rejection."))
        self._decide("rejected", by, reason, self.MOVES["reject"])

    def suspend(self, by, reason):
        if not (reason or "").strip():
            raise DomainError(_("Give the reason for the suspension."))
        self._decide("suspended", by, reason, self.MOVES["suspend"])

    def reinstate(self, by):
        self._decide("approved", by, "", self.MOVES["reinstate"])

    def reapply(self):
        """The contractor applies again after a rejection; the bureau decides anew."""
        if not self.can("reapply"):
            raise DomainError(_("Only a rejected registration can be sent again."))
        self.status, self.reason = "pending", ""
        self.decided_by_id, self.decided_at = None, None


class BlacklistEntry(TenantOwned, db.Model):
    """A 失信名单 entry (政府采购法 §77): while it lasts (start to end date, inclusive, 1 to 3 years)
    the contractor cannot bid with any bureau of the platform. The bureau that records it owns it
    (only it writes the row); every bureau reads every entry (``__tenancy_read__``: on PostgreSQL
    a SELECT-only policy beside the tenant one, in the ORM ``skip_tenant_scope``)."""

    __tablename__ = "blacklist_entry"
    __tenancy_read__ = "platform"

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contractor = relationship("Contractor")
    bureau = relationship("Tenant")

    def active_on(self, day):
        return self.starts_on <= day <= self.ends_on


class StaffMember(db.Model):
    """A person on a contractor's roster. The ID number is stored encrypted; ``id_number_hash``
    (a keyed hash) finds the same person on any roster, and a partial unique index allows one
    active roster entry per person platform-wide."""

    __tablename__ = "staff_member"
    __tenancy__ = "global"
    __audit_redact__ = ("id_number_encrypted", "id_number_hash")
    __encrypted__ = {"id_number_encrypted": "id_number_hash"}  # PORTAL_DATA_KEY columns (ops/rotation.py)
    __table_args__ = (
        Index("uq_staff_member_active_person", "id_number_hash", unique=True,
              sqlite_where=text("left_on IS NULL"), postgresql_where=text("left_on IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    phone: Mapped[str] = mapped_column(String(32), default="")
    qualification: Mapped[str] = mapped_column(String(120), default="")
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contractor = relationship("Contractor", back_populates="staff")
    employment = relationship("StaffEmployment", back_populates="staff", order_by="StaffEmployment.month")

    @property
    def active(self):
        return self.left_on is None

    def on_roster(self, day):
        """Was this person on the roster on ``day``?"""
        return self.joined_on <= day and (self.left_on is None or day <= self.left_on)


class StaffEmployment(db.Model):
    """Monthly employment evidence: a labour contract, and who paid the social insurance."""

    __tablename__ = "staff_employment"
    __tenancy__ = "global"
    __table_args__ = (UniqueConstraint("staff_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    labour_contract: Mapped[bool] = mapped_column(Boolean, default=True)
    insured_by_credit_code: Mapped[str] = mapped_column(String(18), default="")
    evidence_file_id: Mapped[str | None] = mapped_column(ForeignKey("stored_file.id"))

    staff = relationship("StaffMember", back_populates="employment")

    @property
    def insured_by_own_contractor(self):
        return self.insured_by_credit_code == self.staff.contractor.credit_code
