"""Household economic surveys (家计调查, docs/DOMAIN.md §2.3, §6): the family's members, incomes,
assets, rigid expenses and neighbour interviews, the judgement against the minimum living
standard (低保标准) in force on the survey's day, the bureau's review and sign-off (four eyes), its
re-check sample, the re-survey schedule and the change reports that bring a re-survey forward.

A survey is made during a home visit: recording one also records that visit (``visit_id``, item of
unit "household_survey" of the contract), so the roster, geofence, eligibility and device rules
(V01–V11) judge it like any visit, and settlement pays it — once the survey is signed off —
through the visit, with the same entries that keep every unit paid once.

Household finances are among the most sensitive data of the portal: members' ID numbers are
stored encrypted (with a keyed hash and a masked form, as for beneficiaries), and every private
column is named in ``__audit_redact__`` so that the audit trail keeps that it changed, never its
value. Nothing of a survey reaches a public page or the open data except counts per township."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

SURVEY_UNIT = "household_survey"  # the unit of the service item a survey is recorded (and paid) under
AREAS = ("urban", "rural")        # which standard applies: the household's registration
# application: a family applying for assistance; review: a family already supported (a periodic or
# early re-survey) — only such a family can be found to exit (应退尽退).
KINDS = ("application", "review")
# The assistance the family holds or applies for; the re-survey schedule is per category
# (tenant setting ``resurvey_months``).
CATEGORIES = ("dibao", "dibao_marginal", "tekun", "expense_poverty")
OUTCOMES = ("eligible", "marginal", "not_eligible", "exit")
RELATIONS = ("self", "spouse", "child", "parent", "grandchild", "grandparent", "sibling", "other")
WORK_ABILITIES = ("able", "limited", "unable")
DISABILITY_GRADES = (0, 1, 2, 3, 4)  # 0: none; 1–4 the grades of the disability certificate
INCOME_KINDS = ("wages", "business", "property", "transfers")
INCOME_PERIODS = ("monthly", "annual")
EXPENSE_KINDS = ("medical", "education")
# recorded by the surveyor → reviewed by one bureau officer → signed off by another (four eyes);
# ``returned``: sent back with a reason (the surveyor records a corrected survey; this one is kept).
SURVEY_STATUSES = ("recorded", "reviewed", "signed_off", "returned")
CHANGE_KINDS = ("income_changed", "members_changed", "assets_changed", "other")
RECHECK_METHODS = ("home_visit",)


class LivingStandard(TenantOwned, db.Model):
    """The minimum living standard (低保标准) of an area, per person and month, from a day on: a
    survey is judged against the one in force on its day (the latest ``effective_from`` not after
    it). Before the first dated standard of an area, the bureau's setting
    ``min_living_standard_fen`` applies."""

    __tablename__ = "living_standard"
    __table_args__ = (UniqueConstraint("tenant_id", "area", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    area: Mapped[str] = mapped_column(String(8))
    effective_from: Mapped[date] = mapped_column(Date)
    monthly_fen: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")  # e.g. the document that set it
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HouseholdSurvey(TenantOwned, db.Model):
    """One survey of one family (the beneficiary is the applicant or head of the household) as the
    surveyor recorded it. ``client_id`` (a UUID made by the phone) makes uploads idempotent,
    ``body_hash`` tells a faithful replay from a conflicting one. The judgement columns are
    computed from the recorded figures and the standard in force on ``surveyed_at``'s day, and
    computed again when the survey is signed off; ``reasons`` keeps each rule that decided, with
    its numbers (``[{"rule": …, …numbers}]``, worded in the reader's language when shown)."""

    __tablename__ = "household_survey"
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_id"),
        UniqueConstraint("visit_id"),
        Index("ix_household_survey_person_time", "tenant_id", "beneficiary_id", "surveyed_at"),
        Index("ix_household_survey_contract_status", "tenant_id", "contract_id", "status"),
    )
    __audit_redact__ = ("lat", "lon", "notes", "annual_income_fen", "deductions_fen", "per_capita_income_fen",
                        "deposits_fen", "dwellings", "housing_area_m2", "vehicles", "reasons", "review_note",
                        "return_reason")

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36))
    body_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(24))
    area: Mapped[str] = mapped_column(String(8))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    surveyor_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    surveyed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    distance_from_home_m: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="app")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # assets (docs/DOMAIN.md §6): money in fen, area in whole square metres
    deposits_fen: Mapped[int] = mapped_column(Integer, default=0)
    dwellings: Mapped[int] = mapped_column(Integer, default=0)
    housing_area_m2: Mapped[int] = mapped_column(Integer, default=0)
    vehicles: Mapped[int] = mapped_column(Integer, default=0)
    # the judgement
    members_count: Mapped[int] = mapped_column(Integer)
    annual_income_fen: Mapped[int] = mapped_column(Integer)
    deductions_fen: Mapped[int] = mapped_column(Integer, default=0)
    per_capita_income_fen: Mapped[int] = mapped_column(Integer)
    standard_fen: Mapped[int] = mapped_column(Integer)
    standard_effective_from: Mapped[date | None] = mapped_column(Date)  # None: the bureau's setting
    marginal_limit_fen: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    # the bureau's side
    status: Mapped[str] = mapped_column(String(16), default="recorded", index=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    review_note: Mapped[str] = mapped_column(Text, default="")
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    return_reason: Mapped[str] = mapped_column(Text, default="")
    next_due_on: Mapped[date | None] = mapped_column(Date, index=True)  # the re-survey, set at sign-off

    contract = relationship("Contract")
    beneficiary = relationship("Beneficiary")
    visit = relationship("Visit")
    members = relationship("SurveyMember", back_populates="survey", order_by="SurveyMember.position",
                           cascade="all, delete-orphan")
    incomes = relationship("SurveyIncome", back_populates="survey", order_by="SurveyIncome.id",
                           cascade="all, delete-orphan")
    expenses = relationship("SurveyExpense", back_populates="survey", order_by="SurveyExpense.id",
                            cascade="all, delete-orphan")
    interviews = relationship("SurveyInterview", back_populates="survey", order_by="SurveyInterview.id",
                              cascade="all, delete-orphan")
    recheck = relationship("SurveyRecheck", back_populates="survey", uselist=False)


class SurveyMember(TenantOwned, db.Model):
    """A member of the surveyed household. The ID number is kept encrypted, with a keyed hash
    (to find the same person again) and the masked form pages show; the age is the member's on
    the survey's day, read from the ID number's birth date."""

    __tablename__ = "survey_member"
    __table_args__ = (UniqueConstraint("survey_id", "position"),)
    __audit_redact__ = ("name", "id_number_encrypted", "id_number_hash", "age", "disability_grade", "work_ability")
    __encrypted__ = {"id_number_encrypted": "id_number_hash"}  # PORTAL_DATA_KEY columns (ops/rotation.py)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("household_survey.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 0-based, as sent
    name: Mapped[str] = mapped_column(String(64))
    relation: Mapped[str] = mapped_column(String(16))
    id_number_encrypted: Mapped[str] = mapped_column(Text)
    id_number_hash: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    age: Mapped[int] = mapped_column(Integer)
    work_ability: Mapped[str] = mapped_column(String(16))
    disability_grade: Mapped[int] = mapped_column(Integer, default=0)

    survey = relationship("HouseholdSurvey", back_populates="members")


class SurveyIncome(TenantOwned, db.Model):
    """One income of the household (of a member when ``member_position`` is set): the amount as
    declared per month or per year, and the same per year (``annual_fen``) that the judgement adds."""

    __tablename__ = "survey_income"
    __audit_redact__ = ("amount_fen", "annual_fen", "note")

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("household_survey.id"), index=True)
    member_position: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(8))
    amount_fen: Mapped[int] = mapped_column(Integer)
    annual_fen: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")

    survey = relationship("HouseholdSurvey", back_populates="incomes")


class SurveyExpense(TenantOwned, db.Model):
    """A rigid expense of the year (medical, education) that the judgement deducts from the
    household's income (支出型贫困)."""

    __tablename__ = "survey_expense"
    __audit_redact__ = ("annual_fen", "note")

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("household_survey.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    annual_fen: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")

    survey = relationship("HouseholdSurvey", back_populates="expenses")


class SurveyInterview(TenantOwned, db.Model):
    """A neighbour interview (邻里走访): who was asked, when, and what they said. At least one per
    survey."""

    __tablename__ = "survey_interview"
    __audit_redact__ = ("neighbour", "statement")

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("household_survey.id"), index=True)
    neighbour: Mapped[str] = mapped_column(String(120))
    interviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    statement: Mapped[str] = mapped_column(Text)

    survey = relationship("HouseholdSurvey", back_populates="interviews")


class SurveyRecheckDraw(TenantOwned, db.Model):
    """The bureau's re-check sample of one contract's signed-off surveys of one month: ``seed`` and
    ``rate_permille`` reproduce the draw exactly."""

    __tablename__ = "survey_recheck_draw"
    __table_args__ = (UniqueConstraint("tenant_id", "contract_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM of the surveys' days
    seed: Mapped[str] = mapped_column(String(64))
    rate_permille: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    contract = relationship("Contract")
    rechecks = relationship("SurveyRecheck", back_populates="draw", order_by="SurveyRecheck.id")


class SurveyRecheck(TenantOwned, db.Model):
    """The bureau's re-check of one drawn survey by a home visit: what the checker found (the
    outcome and the per-capita income) and whether it differs from the survey's outcome
    (``discrepancy``, counted per contractor and deducted like a spot check). Empty
    (``rechecked_at`` None) until done."""

    __tablename__ = "survey_recheck"
    __table_args__ = (UniqueConstraint("survey_id"),)
    __audit_redact__ = ("per_capita_found_fen", "notes", "outcome_found", "members_found")

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("household_survey.id"))
    draw_id: Mapped[int] = mapped_column(ForeignKey("survey_recheck_draw.id"), index=True)
    method: Mapped[str] = mapped_column(String(16), default="home_visit")
    checker_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    rechecked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_found: Mapped[str | None] = mapped_column(String(16))
    per_capita_found_fen: Mapped[int | None] = mapped_column(Integer)
    members_found: Mapped[int | None] = mapped_column(Integer)
    discrepancy: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    survey = relationship("HouseholdSurvey", back_populates="recheck")
    draw = relationship("SurveyRecheckDraw", back_populates="rechecks")


class SurveyChangeReport(TenantOwned, db.Model):
    """A change in a family's situation (income, members, assets) that brings its re-survey
    forward: due ``due_on``; answered by the family's next survey (``survey_id``, ``closed_at``)."""

    __tablename__ = "survey_change_report"
    __audit_redact__ = ("note",)

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    reported_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("household_survey.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    beneficiary = relationship("Beneficiary")
    survey = relationship("HouseholdSurvey")
