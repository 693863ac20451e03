"""Care plans (一人一策, docs/DOMAIN.md §2.2, §6): the care contractor's needs assessment of a
person over four dimensions, the plan that follows from it (catalogue services with monthly
frequencies and the visits in person a month), approved by the bureau and kept in versions with
the reason for each change.

What was delivered is never stored here: it is read from the verified visits of the person under
the plan's contract (the ``services`` codes each visit carries), so the planned-vs-delivered
figures and the missed list always agree with the visits the bureau verified (delivery.py).

Needs scores and notes describe a person's health and home: every such column is named in
``__audit_redact__`` so that the audit trail keeps that it changed, never its value; nothing of a
plan reaches a public page or the open data."""
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned
from portal.visits.catalogue import CARE_SERVICES  # noqa: F401  (the codes a plan's ``services`` name)

# The four dimensions of the needs assessment (健康维护, 心理情感支持, 居家安全, 能力提升).
DIMENSIONS = ("health", "emotional", "home_safety", "capability")
SCORES = (1, 2, 3, 4, 5)  # 1: no need … 5: very high need
# drafted by the contractor → submitted → approved by the bureau (in force from ``effective_from``
# until a later approved version starts) or returned with a reason (the contractor drafts anew);
# an approved plan replaced by a later approved version is "superseded".
PLAN_STATUSES = ("draft", "submitted", "approved", "returned", "superseded")


class NeedsAssessment(TenantOwned, db.Model):
    """The care contractor's assessment of one person's needs on one day: a score 1–5 and a note
    per dimension (``scores`` {dimension: int}, ``notes`` {dimension: text})."""

    __tablename__ = "needs_assessment"
    __table_args__ = (Index("ix_needs_assessment_person", "tenant_id", "beneficiary_id", "assessed_on"),)
    __audit_redact__ = ("scores", "notes")

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    notes: Mapped[dict] = mapped_column(JSON, default=dict)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    beneficiary = relationship("Beneficiary")
    contract = relationship("Contract")


class CarePlan(TenantOwned, db.Model):
    """One version of one person's plan (一人一策) under a care contract. ``services`` is
    {catalogue code: times a month}; ``in_person_per_month`` the visits at home (探视巡访) a month,
    at least one. ``care_class`` is the person's final self-care class when the plan was drafted:
    the class minimum (tenant setting ``min_services_per_month``) applies to the sum of the
    frequencies. A version applies from ``effective_from`` (the first day of a month) until the
    next approved version of the person starts; ``reason`` says why it changed (empty for the
    first)."""

    __tablename__ = "care_plan"
    __table_args__ = (
        UniqueConstraint("tenant_id", "beneficiary_id", "version"),
        Index("ix_care_plan_contract_status", "tenant_id", "contract_id", "status"),
    )
    __audit_redact__ = ("reason", "decision_note")

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    needs_assessment_id: Mapped[int] = mapped_column(ForeignKey("needs_assessment.id"))
    version: Mapped[int] = mapped_column(Integer)
    care_class: Mapped[str] = mapped_column(String(16))
    services: Mapped[dict] = mapped_column(JSON, default=dict)
    in_person_per_month: Mapped[int] = mapped_column(Integer, default=1)
    effective_from: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    drafted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")

    beneficiary = relationship("Beneficiary")
    contract = relationship("Contract")
    needs_assessment = relationship("NeedsAssessment")

    @property
    def planned_total(self):
        """Services a month in the plan (the sum of the frequencies)."""
        return sum(int(times) for times in (self.services or {}).values())
