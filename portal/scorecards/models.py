"""The quarterly scorecard per contract (docs/DOMAIN.md §7)."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned


class Scorecard(TenantOwned, db.Model):
    """The quarterly score (季度考核) of one contract, 0–100, kept with every component, its raw
    figures and its weight (``components``) so the score explains itself. Scores are stored in
    hundredths of a point (``score_centi``: 87.25 → 8725) to keep the sum exact."""

    __tablename__ = "scorecard"
    __table_args__ = (UniqueConstraint("contract_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))  # YYYY-Qn
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    score_centi: Mapped[int] = mapped_column(Integer, default=0)
    components: Mapped[list] = mapped_column(JSON, default=list)
    weights: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure.id"))

    contract = relationship("Contract")
