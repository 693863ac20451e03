"""An acceptance of one contract period and the opinions of the people asked (docs/DOMAIN.md §7).

Opinions describe people: the comment is named in ``__audit_redact__`` and never published; the
public result carries counts only."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

# open (sample drawn, opinions being gathered) → passed or failed by the committee
STATUSES = ("open", "passed", "failed")
OPINIONS = ("satisfied", "basic", "not_satisfied", "unreachable")
RESPONDENTS = ("self", "guardian")
METHODS = ("phone", "home_visit")


class Acceptance(TenantOwned, db.Model):
    """The acceptance of ``contract`` for [period_start, period_end] (within the contract's
    period). ``seed`` draws the sample reproducibly; ``members`` is the committee, a list of
    {"name", "affiliation", "signed"}; ``signed_file_id`` the scanned signed record."""

    __tablename__ = "acceptance"
    __table_args__ = (UniqueConstraint("contract_id", "period_start", "attempt"),)
    __audit_redact__ = ()

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    # 1 for the first acceptance of a period; a failed acceptance is followed by another of the same
    # period (after rectification, 整改后重新验收) with the next attempt number
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    seed: Mapped[str] = mapped_column(String(64))
    sample_size: Mapped[int] = mapped_column(Integer, default=0)
    members: Mapped[list] = mapped_column(JSON, default=list)
    conclusion: Mapped[str] = mapped_column(Text, default="")
    signed_file_id: Mapped[str | None] = mapped_column(ForeignKey("stored_file.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_on: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure.id"))

    contract = relationship("Contract")
    opinions = relationship("AcceptanceOpinion", back_populates="acceptance",
                            order_by="AcceptanceOpinion.position")


class AcceptanceOpinion(TenantOwned, db.Model):
    """One sampled person's opinion: who answered (the person or a guardian), how (phone or home
    visit), the opinion (None until asked) and a comment (private)."""

    __tablename__ = "acceptance_opinion"
    __table_args__ = (UniqueConstraint("acceptance_id", "beneficiary_id"),)
    __audit_redact__ = ("comment",)

    id: Mapped[int] = mapped_column(primary_key=True)
    acceptance_id: Mapped[int] = mapped_column(ForeignKey("acceptance.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    respondent: Mapped[str | None] = mapped_column(String(16))
    method: Mapped[str | None] = mapped_column(String(16))
    opinion: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    asked_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    acceptance = relationship("Acceptance", back_populates="opinions")
    beneficiary = relationship("Beneficiary")
