"""Offline supervision (docs/DOMAIN.md §7): the month's spot-check sample drawn with a recorded seed,
and the checks a supervisor makes by phone or at home."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

SPOT_CHECK_METHODS = ("phone", "home_visit")
SPOT_CHECK_OUTCOMES = ("confirmed", "not_confirmed", "unreachable")
MAX_ATTEMPTS = 3


class SpotCheckSample(TenantOwned, db.Model):
    """One contract's sample for one calendar month. ``seed`` and ``rate_permille`` reproduce the
    draw exactly ("redraw" gives the very same visits); one sample per contract and month."""

    __tablename__ = "spot_check_sample"
    __table_args__ = (UniqueConstraint("contract_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    seed: Mapped[str] = mapped_column(String(64))
    rate_permille: Mapped[int] = mapped_column(Integer)  # 5 % → 50
    population: Mapped[int] = mapped_column(Integer, default=0)  # verified visits drawn from
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    contract = relationship("Contract")
    checks = relationship("SpotCheck", back_populates="sample", order_by="SpotCheck.id")


class SpotCheck(TenantOwned, db.Model):
    """One sampled visit and what the supervisor found: outcome, satisfaction 1–5, complaint.
    ``outcome`` stays empty until decided; three unreachable attempts make it "unreachable"."""

    __tablename__ = "spot_check"
    __table_args__ = (UniqueConstraint("sample_id", "visit_id"),
                      Index("ix_spot_check_outcome", "tenant_id", "outcome"))

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_id: Mapped[int] = mapped_column(ForeignKey("spot_check_sample.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    method: Mapped[str] = mapped_column(String(16), default="phone")
    outcome: Mapped[str | None] = mapped_column(String(16))
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    complaint: Mapped[str] = mapped_column(Text, default="")
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sample = relationship("SpotCheckSample", back_populates="checks")
    visit = relationship("Visit")
    staff = relationship("StaffMember")
    attempts = relationship("SpotCheckAttempt", back_populates="check", order_by="SpotCheckAttempt.id")


class SpotCheckAttempt(TenantOwned, db.Model):
    """Each try to reach the beneficiary, with its time: reached or unreachable."""

    __tablename__ = "spot_check_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("spot_check.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    reached: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    check = relationship("SpotCheck", back_populates="attempts")
