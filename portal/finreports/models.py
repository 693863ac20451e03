"""A financial report and its attachments (docs/DOMAIN.md §7 "Financial reports")."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

CATEGORIES = ("staff", "travel", "materials", "management", "other")
# drafted by the manager → submitted → accepted by finance, or returned with comments (the manager
# corrects and submits again)
STATUSES = ("draft", "submitted", "returned", "accepted")


class FinancialReport(TenantOwned, db.Model):
    """How one contract's money was used in ``period`` ("YYYY-MM" for a month, "YYYY" for a year):
    ``amounts`` {category: fen}, ``total_fen`` their sum. ``settled_fen`` is the net of the
    period's approved statements when finance reviewed the report (the difference is shown
    beside it); ``due_on`` the last day it is expected."""

    __tablename__ = "financial_report"
    __table_args__ = (UniqueConstraint("contract_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    amounts: Mapped[dict] = mapped_column(JSON, default=dict)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date] = mapped_column(Date, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    settled_fen: Mapped[int | None] = mapped_column(BigInteger)
    # every decision, oldest first: [{"decision", "comment", "by_id", "at", "settled_fen", "total_fen"}],
    # so a comment of an earlier return stays readable after the report is accepted
    history: Mapped[list] = mapped_column(JSON, default=list)

    contract = relationship("Contract")
    contractor = relationship("Contractor")
    attachments = relationship("FinancialReportAttachment", back_populates="report",
                               order_by="FinancialReportAttachment.id")


class FinancialReportAttachment(TenantOwned, db.Model):
    """A PDF or image (type judged from its first bytes, portal/files) backing a report."""

    __tablename__ = "financial_report_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("financial_report.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report = relationship("FinancialReport", back_populates="attachments")
    file = relationship("StoredFile")
