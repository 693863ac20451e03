"""The annual performance evaluation of one contract (docs/DOMAIN.md §7)."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

# prepared (draft) → submitted for review → approved by another person (then published) or returned
STATUSES = ("draft", "submitted", "returned", "approved")


class PerformanceEvaluation(TenantOwned, db.Model):
    """The evaluation of ``contract`` for ``year``, in hundredths of a point like the scorecards.
    ``quarters`` [{quarter, scorecard_id, score_centi, published}] are the scorecards it averaged;
    ``indicators`` [{code, name, weight, score_centi}] the bureau's indicators as scored;
    ``weights`` the settings it was computed with; ``finance`` the financial reports' summary and
    ``acceptance`` the acceptance result at computation time; ``below_threshold`` flags the
    contract for the renewal decision."""

    __tablename__ = "performance_evaluation"
    __table_args__ = (UniqueConstraint("contract_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    scorecard_centi: Mapped[int] = mapped_column(Integer, default=0)
    score_centi: Mapped[int] = mapped_column(Integer, default=0)
    quarters: Mapped[list] = mapped_column(JSON, default=list)
    indicators: Mapped[list] = mapped_column(JSON, default=list)
    weights: Mapped[dict] = mapped_column(JSON, default=dict)
    finance: Mapped[dict] = mapped_column(JSON, default=dict)
    acceptance: Mapped[dict] = mapped_column(JSON, default=dict)
    threshold_centi: Mapped[int] = mapped_column(Integer, default=0)
    below_threshold: Mapped[bool] = mapped_column(Boolean, default=False)
    conclusion: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date] = mapped_column(Date)
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # everyone who created, recomputed, scored or submitted it since its last review (user ids): none
    # of them may approve or return it (four eyes)
    editors: Mapped[list] = mapped_column(JSON, default=list)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure.id"))

    contract = relationship("Contract")
