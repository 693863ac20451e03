"""Budget lines, the procurement plan, tenders with lots, bids, evaluation, awards, challenges.

Procurement records are kept at least 15 years: nothing here is ever hard-deleted (rows are
cancelled, withdrawn or superseded instead)."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned
from portal.tenders.lifecycle import TenderLifecycle

METHODS = ("open_tender", "invited_tender", "competitive_negotiation", "competitive_consultation",
           "request_for_quotation", "single_source")
TENDER_STATUSES = ("draft", "intention_published", "tendering", "evaluation", "awarded", "failed", "cancelled")
PLAN_PHASES = ("preparation", "pilot", "evaluation", "consolidation")
SERVICE_UNITS = ("assessment", "visit", "household_survey", "station_month", "training_session")


class BudgetLine(TenantOwned, db.Model):
    """A year's allocation from one fund source (e.g. 社会救助专项资金); contracts may not exceed it."""

    __tablename__ = "budget_line"
    __table_args__ = (UniqueConstraint("tenant_id", "year", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    fund_source: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcurementPlan(TenantOwned, db.Model):
    __tablename__ = "procurement_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    phases = relationship("PlanPhase", back_populates="plan", order_by="PlanPhase.position")


class PlanPhase(TenantOwned, db.Model):
    """Preparation, pilot, evaluation, consolidation — the programme's phases, with milestones."""

    __tablename__ = "plan_phase"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("procurement_plan.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")

    plan = relationship("ProcurementPlan", back_populates="phases")
    milestones = relationship("PlanMilestone", back_populates="phase", order_by="PlanMilestone.due_on")


class PlanMilestone(TenantOwned, db.Model):
    __tablename__ = "plan_milestone"

    id: Mapped[int] = mapped_column(primary_key=True)
    phase_id: Mapped[int] = mapped_column(ForeignKey("plan_phase.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    done_on: Mapped[date | None] = mapped_column(Date)

    phase = relationship("PlanPhase", back_populates="milestones")


class PurchaseIntention(TenantOwned, db.Model):
    """采购意向: published at least 30 days before the tender notice."""

    __tablename__ = "purchase_intention"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("procurement_plan.id"), index=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    expected_month: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    budget_line = relationship("BudgetLine")


class Tender(TenderLifecycle, TenantOwned, db.Model):
    """One procurement process (one OCDS ocid). State machine: draft → intention_published →
    tendering → evaluation → awarded, or failed, or cancelled (methods in tenders/lifecycle.py)."""

    __tablename__ = "tender"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="draft", index=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"), index=True)
    intention_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_intention.id"))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    bid_bond_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    price_weight_percent: Mapped[int] = mapped_column(Integer, default=10)
    buyer_contact: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    invited_contractor_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Dates of the legal timetable (docs/DOMAIN.md §3); checked by tenders/deadlines.py.
    notice_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # single source: the first day its reasons were publicised (5 working days before the decision)
    single_source_publicity_from: Mapped[date | None] = mapped_column(Date)
    documents_from: Mapped[date | None] = mapped_column(Date)
    documents_until: Mapped[date | None] = mapped_column(Date)
    # The tender documents (招标文件, one PDF): published with the award result (87号令 §69).
    documents_file_id: Mapped[str | None] = mapped_column(ForeignKey("stored_file.id"))
    bid_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_confirmed_on: Mapped[date | None] = mapped_column(Date)
    result_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    challenge_until: Mapped[date | None] = mapped_column(Date)
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    retender_of_id: Mapped[int | None] = mapped_column(ForeignKey("tender.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    budget_line = relationship("BudgetLine")
    intention = relationship("PurchaseIntention")
    lots = relationship("Lot", back_populates="tender", order_by="Lot.number")
    criteria = relationship("EvaluationCriterion", back_populates="tender", order_by="EvaluationCriterion.id")
    clarifications = relationship("Clarification", back_populates="tender", order_by="Clarification.issued_at")
    experts = relationship("Expert", back_populates="tender", order_by="Expert.id")
    documents_file = relationship("StoredFile")


class Lot(TenantOwned, db.Model):
    """标段: normally one service line, one contract."""

    __tablename__ = "lot"
    __table_args__ = (UniqueConstraint("tender_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    max_price_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, failed, awarded
    failed_reason: Mapped[str] = mapped_column(Text, default="")

    tender = relationship("Tender", back_populates="lots")
    items = relationship("LotItem", back_populates="lot", order_by="LotItem.id")


class LotItem(TenantOwned, db.Model):
    """A service item of a lot: what is bought, how many, at most at what unit price."""

    __tablename__ = "lot_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    max_unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    requirements: Mapped[str] = mapped_column(Text, default="")

    lot = relationship("Lot", back_populates="items")


class EvaluationCriterion(TenantOwned, db.Model):
    __tablename__ = "evaluation_criterion"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # technical or business
    name: Mapped[str] = mapped_column(String(200))
    max_points: Mapped[int] = mapped_column(Integer)

    tender = relationship("Tender", back_populates="criteria")


class Clarification(TenantOwned, db.Model):
    """澄清或修改: one that changes the documents less than 15 days before the deadline moves it."""

    __tablename__ = "clarification"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    body: Mapped[str] = mapped_column(Text)
    changes_documents: Mapped[bool] = mapped_column(Boolean, default=False)
    previous_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tender = relationship("Tender", back_populates="clarifications")


class Bid(TenantOwned, db.Model):
    """A sealed bid. Until ``opens_at`` (the lot's bid deadline, kept in step with it) no bureau
    user can load this row at all: tenders/sealing.py filters it out in the query layer."""

    __tablename__ = "bid"
    __table_args__ = (UniqueConstraint("lot_id", "contractor_id"),)
    # The audit trail is read by bureau admins and auditors at any time: a bid's content must
    # not reach it before the opening, so the row-level audit records only that it changed.
    __audit_redact__ = ("price_fen", "unit_prices_fen", "staff_ids", "proposal_file_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    proposal_file_id: Mapped[str | None] = mapped_column(ForeignKey("stored_file.id"))
    staff_ids: Mapped[list] = mapped_column(JSON, default=list)  # roster members named in the staffing plan
    # Unit prices quoted per lot item ({item code: fen}), one for every item, adding up (times the
    # quantities) to the price; the award notice and the contract take them over.
    unit_prices_fen: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid: Mapped[bool | None] = mapped_column(Boolean)  # decided at opening
    invalid_reason: Mapped[str] = mapped_column(Text, default="")

    lot = relationship("Lot")
    contractor = relationship("Contractor")
    proposal_file = relationship("StoredFile")

    @property
    def withdrawn(self):
        return self.withdrawn_at is not None

    @property
    def counts(self):
        """Taken into the evaluation: submitted, not withdrawn, not found invalid."""
        return self.withdrawn_at is None and self.valid is not False


MEMBER_KINDS = ("expert", "buyer_representative")


class Expert(TenantOwned, db.Model):
    """A member of the evaluation committee (评标委员会/评审小组, 87号令 §47): an evaluation
    expert (评审专家, named in the award announcement, with the field they were drawn for) or a
    representative of the buyer (采购人代表). The composition rules are in tenders/committee.py."""

    __tablename__ = "expert"

    id: Mapped[int] = mapped_column(primary_key=True)
    tender_id: Mapped[int] = mapped_column(ForeignKey("tender.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(24), default="expert", server_default="expert")
    field: Mapped[str] = mapped_column(String(100), default="", server_default="")

    @property
    def is_expert(self):
        return self.kind == "expert"

    tender = relationship("Tender", back_populates="experts")


class BidScore(TenantOwned, db.Model):
    """One expert's technical and business points for one bid, in hundredths of a point."""

    __tablename__ = "bid_score"
    __table_args__ = (UniqueConstraint("bid_id", "expert_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"), index=True)
    expert_id: Mapped[int] = mapped_column(ForeignKey("expert.id"), index=True)
    technical_centipoints: Mapped[int] = mapped_column(Integer)
    business_centipoints: Mapped[int] = mapped_column(Integer)


AWARD_STATUSES = ("active", "cancelled")


class Award(TenantOwned, db.Model):
    """中标/成交结果 of one lot. At most one award of a lot is active; an award cancelled after an
    upheld challenge stays on record (``status`` cancelled, with when and why), and the award
    that replaces it names it in ``supersedes_id`` (tenders/remedies.py)."""

    __tablename__ = "award"
    __table_args__ = (Index("uq_award_active_lot", "lot_id", unique=True,
                            sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lot.id"), index=True)
    bid_id: Mapped[int] = mapped_column(ForeignKey("bid.id"))
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    total_centipoints: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_on: Mapped[date] = mapped_column(Date)
    notice_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    challenge_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active", server_default="active")
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("award.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lot = relationship("Lot")
    bid = relationship("Bid")
    contractor = relationship("Contractor")
    supersedes = relationship("Award", remote_side=[id])
    challenges = relationship("Challenge", back_populates="award", order_by="Challenge.received_at")


class Challenge(TenantOwned, db.Model):
    """质疑: accepted for 7 working days after the result; while one that may change the result is
    open, the contract cannot be signed."""

    __tablename__ = "challenge"

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    challenger: Mapped[str] = mapped_column(String(200))
    grounds: Mapped[str] = mapped_column(Text)
    may_change_result: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, dismissed, upheld
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After an upheld challenge, what the officer chose (tenders/remedies.py): re_evaluate,
    # next_ranked or retender, and when.
    remedy: Mapped[str] = mapped_column(String(16), default="", server_default="")
    remedied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    award = relationship("Award", back_populates="challenges")

    @property
    def blocks_signing(self):
        """Open and able to change the result, or upheld (the result it challenged stands changed)."""
        return self.may_change_result and self.status in ("open", "upheld")
