"""Monthly statements (docs/DOMAIN.md §8): lines per service item and per deduction, the visits and
violations behind every line, and the workflow draft → sent → confirmed/disputed → approved → paid.

Money is integer fen everywhere. Approved and paid statements never change: the service layer
refuses it and database triggers (migration ``billing_guards``) abort any UPDATE or DELETE that
would alter one, its lines or its entries."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flask_babel import lazy_gettext as _l

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

STATEMENT_STATUSES = ("draft", "sent", "confirmed", "disputed", "approved", "paid")
FROZEN_STATUSES = ("approved", "paid")
LINE_KINDS = (
    "service",                 # payable units of one service item × unit price (adds)
    "adjustment",              # a correction of an earlier approved month (signed amount)
    "deduction_spot_check",    # visits not confirmed by spot checks × price × multiplier (subtracts)
    "deduction_violation",     # subcontracting violations × the contract's fixed penalty (subtracts)
    "deduction_staffing",      # a station's missing staff-days: price × missing // required (subtracts; staffing.py)
    "late_verified",           # visits of an earlier approved month verified after its approval (adds)
    "deduction_carried_forward",  # deductions an earlier statement could not cover (subtracts)
    "carried_out",             # what this statement's deductions leave uncovered, carried to the next one
    "deduction_clawback",      # visits an approved statement paid that were rejected since × price (subtracts)
    "deduction_discrepancy",   # assessments the re-check put in another class × price × multiplier (subtracts)
    "deduction_survey_discrepancy",  # surveys the re-check found with another outcome × price × multiplier
)
PAYING_KINDS = ("service", "late_verified")  # lines that pay visits: quota and contract total apply
ENTRY_ROLES = ("paid", "penalty", "capped", "clawback")  # capped: left unpaid by the monthly cap or quota
STATUS_LABELS = {
    "draft": _l("Draft"), "sent": _l("Sent to the contractor"), "confirmed": _l("Confirmed by the contractor"),
    "disputed": _l("Disputed by the contractor"), "approved": _l("Approved"), "paid": _l("Paid"),
}
KIND_LABELS = {
    "service": _l("Service"), "adjustment": _l("Adjustment"),
    "deduction_spot_check": _l("Deduction: visit not confirmed by a spot check"),
    "deduction_violation": _l("Deduction: subcontracting violation"),
    "deduction_staffing": _l("Deduction: station staffing shortfall"),
    "late_verified": _l("Late-verified visits of an earlier month"),
    "deduction_carried_forward": _l("Deduction carried forward from an earlier statement"),
    "carried_out": _l("Uncovered deductions carried to the next statement"),
    "deduction_clawback": _l("Deduction: paid visit rejected since"),
    "deduction_discrepancy": _l("Deduction: assessment found in another class on re-check"),
    "deduction_survey_discrepancy": _l("Deduction: household survey found with another outcome on re-check"),
}


class Statement(TenantOwned, db.Model):
    """One contract's statement for one calendar month."""

    __tablename__ = "statement"
    __table_args__ = (UniqueConstraint("contract_id", "month"),
                      Index("ix_statement_month_status", "tenant_id", "month", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    number: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    gross_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    deductions_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    net_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    job_run_id: Mapped[int | None] = mapped_column(ForeignKey("job_run.id"))
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_reason: Mapped[str] = mapped_column(Text, default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_on: Mapped[date | None] = mapped_column(Date)
    payment_reference: Mapped[str] = mapped_column(String(100), default="")
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the computation would pay and deduct (settlement.plan_digest): send and approve refuse a
    # draft whose records changed since (stale); a recompute that found them changed is recorded.
    plan_digest: Mapped[str | None] = mapped_column(String(64))
    stale_recomputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stale_recomputed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract = relationship("Contract")
    lines = relationship("StatementLine", back_populates="statement", order_by="StatementLine.position")

    @property
    def frozen(self):
        return self.status in FROZEN_STATUSES

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def editable(self):
        """Only a draft may be recomputed or adjusted."""
        return self.status == "draft"

    @property
    def service_lines(self):
        return [line for line in self.lines if line.kind == "service"]

    @property
    def deduction_lines(self):
        return [line for line in self.lines if line.is_deduction]

    @property
    def adjustment_lines(self):
        return [line for line in self.lines if line.kind == "adjustment"]

    @property
    def carried_out_fen(self):
        """What the deductions leave uncovered, carried to the contract's next statement."""
        return sum(line.amount_fen for line in self.lines if line.kind == "carried_out")


class StatementLine(TenantOwned, db.Model):
    """One line: a service item's payable units, a deduction or an adjustment. ``amount_fen`` is
    positive for service and deduction lines (the kind says whether it adds or subtracts) and
    signed for adjustments. The figures that explain the units are kept beside them."""

    __tablename__ = "statement_line"
    # The ids behind the line until approval (entries.py): in the table, never in the mapper, so
    # the ORM and the row-by-row audit trail do not carry a month of visit ids.
    __mapper_args__ = {"exclude_properties": ["entry_ids"]}

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(32))
    service_item_id: Mapped[int | None] = mapped_column(ForeignKey("service_item.id"))
    description: Mapped[str] = mapped_column(Text, default="")
    verified_units: Mapped[int] = mapped_column(Integer, default=0)
    monthly_cap: Mapped[int | None] = mapped_column(Integer)
    quota_left: Mapped[int | None] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer, default=0)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    multiplier: Mapped[int] = mapped_column(Integer, default=1)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    disputed: Mapped[bool] = mapped_column(Boolean, default=False)
    dispute_note: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    entry_ids = Column(JSON(none_as_null=True))  # {role: [ids]} (entries.py); a plain Column, not mapped

    statement = relationship("Statement", back_populates="lines")
    service_item = relationship("ServiceItem")

    @property
    def is_deduction(self):
        return self.kind.startswith("deduction_")

    @property
    def kind_label(self):
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def signed_amount_fen(self):
        """What the line does to the net: negative for deductions, signed for adjustments, nothing
        for the uncovered amount carried out (it is deducted from the next statement)."""
        if self.kind == "carried_out":
            return 0
        return -self.amount_fen if self.is_deduction else self.amount_fen

    @property
    def pays_visits(self):
        return self.kind in PAYING_KINDS

    @property
    def unpaid_units(self):
        """Verified units of a paying line that were not paid (over the cap, quota or contract total)."""
        return max(self.verified_units - self.units, 0) if self.kind in PAYING_KINDS else 0


class StatementEntry(TenantOwned, db.Model):
    """What stands behind a line of an approved (or paid) statement: a visit paid, penalised,
    clawed back or left over the cap, or a violation penalised. Written once, at approval, from
    the ids the draft's lines kept (entries.py), with ``approved_visit_id`` /
    ``approved_violation_id`` filled in: the unique constraints make it impossible for one visit to
    be paid (or penalised) in two approved statements."""

    __tablename__ = "statement_entry"
    __table_args__ = (
        UniqueConstraint("approved_visit_id", "role"),
        UniqueConstraint("approved_violation_id"),
        Index("ix_statement_entry_visit", "visit_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statement.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("statement_line.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="paid")
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    violation_id: Mapped[int | None] = mapped_column(ForeignKey("violation.id"))
    approved_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    approved_violation_id: Mapped[int | None] = mapped_column(ForeignKey("violation.id"))

    line = relationship("StatementLine")
    visit = relationship("Visit", foreign_keys=[visit_id])
    violation = relationship("Violation", foreign_keys=[violation_id])
