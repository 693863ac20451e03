"""The registry of people served, with a dated history of their status."""
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

# The eight target groups of docs/DOMAIN.md §2.
CATEGORIES = ("dibao", "tekun", "dibao_marginal", "expense_poverty", "orphan", "de_facto_orphan",
              "disabled", "homeless")
STATUSES = ("active", "hospitalised", "moved", "deceased")


class Beneficiary(TenantOwned, db.Model):
    __tablename__ = "beneficiary"
    __table_args__ = (UniqueConstraint("tenant_id", "id_number_hash"),)
    # The audit trail keeps that these changed, never their values (the masked number may stay).
    __audit_redact__ = ("name", "id_number_encrypted", "id_number_hash", "phone", "address", "lat", "lon")
    __encrypted__ = {"id_number_encrypted": "id_number_hash"}  # PORTAL_DATA_KEY columns (ops/rotation.py)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    category: Mapped[str] = mapped_column(String(32))
    township: Mapped[str] = mapped_column(String(64))
    village: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    phone: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # the latest status
    status_since: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    history = relationship("BeneficiaryStatus", back_populates="beneficiary",
                           order_by="BeneficiaryStatus.effective_on")


class BeneficiaryStatus(TenantOwned, db.Model):
    """A dated change of status: verification asks "was this person eligible on that day"."""

    __tablename__ = "beneficiary_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    effective_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    beneficiary = relationship("Beneficiary", back_populates="history")
