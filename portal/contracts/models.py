"""Contracts made from awards: service items with quotas, amendments, and who works on them.

States (contracts/lifecycle.py): draft → signed → active → completed; active ⇄ suspended;
signed/active/suspended → terminated (with a reason and the amount paid). Nothing is ever
hard-deleted."""
from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.core.errors import DomainError
from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned
from portal.contracts.lifecycle import ContractLifecycle

CONTRACT_STATUSES = ("draft", "signed", "active", "completed", "suspended", "terminated")
# In delivery, or delivered and since ended: its months may be visited, scored and settled (a draft or
# a merely signed contract has delivered nothing). Read it as ``Contract.in_delivery``.
DELIVERY_STATUSES = ("active", "suspended", "completed", "terminated")
# The rationale of an amendment (政府采购法 §49): only an addition of the same subject matter
# (追加同一标的, "additional_quantity") may add money or units; the others change terms only.
AMENDMENT_RATIONALES = ("additional_quantity", "quantity_change", "extension", "correction", "price_adjustment",
                        "other")
ADDING_RATIONALES = ("additional_quantity",)
# The clause every contract carries (严禁服务转包); it cannot be removed or edited.
SUBCONTRACTING_BAN_CLAUSE = (
    "乙方不得将本合同项下服务全部或部分转包、分包给第三方；所有服务须由乙方在册在岗人员提供。"
    "发现转包、分包的，甲方不予支付相应服务费用，按合同约定扣减违约金，并可依法解除合同。"
)


class Contract(ContractLifecycle, TenantOwned, db.Model):
    """A contract from one award (one lot). State machine in contracts/lifecycle.py."""

    __tablename__ = "contract"
    __table_args__ = (UniqueConstraint("tenant_id", "number"), UniqueConstraint("award_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    award_id: Mapped[int] = mapped_column(ForeignKey("award.id"))
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    budget_line_id: Mapped[int] = mapped_column(ForeignKey("budget_line.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # the winning price: the original amount
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    performance_bond_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    payment_terms: Mapped[str] = mapped_column(String(32), default="monthly_settlement")
    spot_check_penalty_multiplier: Mapped[int] = mapped_column(Integer, default=2)
    violation_penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    subcontracting_ban_clause: Mapped[str] = mapped_column(Text, default=SUBCONTRACTING_BAN_CLAUSE)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    signed_on: Mapped[date | None] = mapped_column(Date)
    late_signing_reason: Mapped[str] = mapped_column(Text, default="")  # signed after day 30 of the award notice
    activated_on: Mapped[date | None] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    suspended_on: Mapped[date | None] = mapped_column(Date)
    suspension_reason: Mapped[str] = mapped_column(Text, default="")
    terminated_on: Mapped[date | None] = mapped_column(Date)
    termination_reason: Mapped[str] = mapped_column(Text, default="")
    amount_paid_at_termination_fen: Mapped[int | None] = mapped_column(BigInteger)
    notice_due_on: Mapped[date | None] = mapped_column(Date)
    notice_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspension_review_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    award = relationship("Award")
    contractor = relationship("Contractor")
    budget_line = relationship("BudgetLine")
    items = relationship("ServiceItem", back_populates="contract", order_by="ServiceItem.id")
    amendments = relationship("Amendment", back_populates="contract", order_by="Amendment.number")
    workers = relationship("ContractWorker", back_populates="contract", order_by="ContractWorker.id")

    @validates("subcontracting_ban_clause")
    def _keep_the_ban(self, key, value):
        """The ban on subcontracting (严禁服务转包) is part of every contract, word for word."""
        if value != SUBCONTRACTING_BAN_CLAUSE:
            from flask_babel import gettext as _
            raise DomainError(_("The subcontracting ban clause is part of every contract and cannot be "
                                "removed or changed."))
        return value

    @property
    def effective_end(self):
        """The day the contract's delivery ends: the earliest of its end, its termination and its
        completion, when set (the final payment and the last financial report are of that month)."""
        return min(d for d in (self.ends_on, self.terminated_on, self.completed_on) if d is not None)

    @hybrid_property
    def in_delivery(self):
        """Delivers or has delivered (active, suspended, completed or terminated); in a query,
        ``select(Contract).where(Contract.in_delivery)``."""
        return self.status in DELIVERY_STATUSES

    @in_delivery.inplace.expression
    @classmethod
    def _in_delivery_expression(cls):
        return cls.status.in_(DELIVERY_STATUSES)


def lock_contract_row(contract_id):
    """Lock the Contract row until the transaction ends (SELECT … FOR UPDATE; nothing on SQLite,
    whose writers are serialised anyway): settling a contract and deciding its acceptance take it."""
    from sqlalchemy import select
    db.session.execute(select(Contract.id).where(Contract.id == contract_id).with_for_update()).all()


class ServiceItem(TenantOwned, db.Model):
    """What the contract pays for, per unit, up to a quota (and optionally a monthly cap)."""

    __tablename__ = "service_item"
    __table_args__ = (UniqueConstraint("contract_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(32))
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    quota: Mapped[int] = mapped_column(Integer)
    monthly_cap: Mapped[int | None] = mapped_column(Integer)
    min_minutes: Mapped[int | None] = mapped_column(Integer)
    max_minutes: Mapped[int | None] = mapped_column(Integer)
    daily_limit_per_beneficiary: Mapped[int | None] = mapped_column(Integer)
    photo_required: Mapped[bool] = mapped_column(Boolean, default=False)

    contract = relationship("Contract", back_populates="items")


class Amendment(TenantOwned, db.Model):
    """A change to a signed contract; additions may total at most 10 % of the original amount and
    buy only more of the same services (quota added to existing items, at their unit price).
    Every amendment is published."""

    __tablename__ = "amendment"
    __table_args__ = (UniqueConstraint("contract_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    rationale: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    added_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # More of the same services: {service item code: units added to its quota}.
    added_quotas: Mapped[dict | None] = mapped_column(JSON, default=dict)
    new_ends_on: Mapped[date | None] = mapped_column(Date)
    signed_on: Mapped[date] = mapped_column(Date)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract = relationship("Contract", back_populates="amendments")


class ContractWorker(TenantOwned, db.Model):
    """The contract's work list: a roster member of the contractor working on it, over dates."""

    __tablename__ = "contract_worker"
    __table_args__ = (UniqueConstraint("contract_id", "staff_id", "from_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    from_on: Mapped[date] = mapped_column(Date)
    until_on: Mapped[date | None] = mapped_column(Date)

    contract = relationship("Contract", back_populates="workers")
    staff = relationship("StaffMember")


class Assignment(TenantOwned, db.Model):
    """A beneficiary served by a contract, by one worker of its work list, over dates. What a
    contractor may see of beneficiaries is exactly what these rows give it."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("contract_id", "beneficiary_id", "staff_id", "from_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    from_on: Mapped[date] = mapped_column(Date)
    until_on: Mapped[date | None] = mapped_column(Date)

    contract = relationship("Contract")
    beneficiary = relationship("Beneficiary")
    staff = relationship("StaffMember")
