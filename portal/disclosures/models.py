"""Disclosure records: what the portal publishes, when it was due and when it went out."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.models import UTCDateTime
from portal.core.timeutil import local_today, to_local, utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

DISCLOSURE_KINDS = (
    "purchase_intention", "tender_notice", "clarification", "award_result", "failed_tender",
    "contract_notice", "amendment", "scorecard", "performance_evaluation", "assessment_publicity",
    "budget_execution", "award_cancellation", "acceptance_result",
)


class Disclosure(TenantOwned, db.Model):
    """One public notice. ``body`` is what the public reads and must hold nothing private;
    ``due_on`` is the legal deadline, so a late publication shows as late."""

    __tablename__ = "disclosure"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    subject_type: Mapped[str] = mapped_column(String(32), default="")
    subject_id: Mapped[int | None] = mapped_column()
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    due_on: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # set by the periodic job the first time it finds this disclosure late (the dashboard lists them)
    late_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def late(self):
        """Published after its due day (or still unpublished past it), in Beijing time."""
        if self.due_on is None:
            return False
        if self.published_at is None:
            return local_today() > self.due_on
        return to_local(self.published_at).date() > self.due_on
