"""Self-care ability assessments of people in extreme poverty (docs/DOMAIN.md §2.1, §6): the six
indicators recorded at home, the publicity round with its objections, the bureau's re-check sample,
and the change reports that call for a re-assessment.

An assessment is done during a home visit: recording one also records that visit (``visit_id``,
item of unit "assessment" of the contract), so the roster, geofence, eligibility and device rules
(V01–V11) judge it like any visit, spot checks can sample it, and settlement pays it — once the
assessment is final — through the visit, with the same entries that keep every unit paid once."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

ASSESSMENT_UNIT = "assessment"  # the unit of the service item an assessment is recorded (and paid) under
WITHDRAWN_EVENT = "assessment_withdrawn"  # the audit event of a withdrawal, with its reason
# docs/API.md: the keys of "indicators", each true when the person can do it.
INDICATORS = ("eating", "dressing", "bed_transfer", "toileting", "indoor_walking", "bathing")
CARE_CLASSES = ("self_care", "partial", "complete")
# recorded by the assessor → submitted by the contractor → in publicity → publicity ended (the
# re-check sample is drawn and worked) → final. ``withdrawn``: the contractor took it back before
# publicity (a mistaken record); it is kept, never deleted.
ASSESSMENT_STATUSES = ("recorded", "submitted", "publicity", "rechecking", "final", "withdrawn")
KINDS = ("initial", "reassessment")
OBJECTION_STATUSES = ("open", "upheld", "rejected")
RECHECK_REASONS = ("sample", "objection")
CHANGE_KINDS = ("hospitalised", "moved", "condition_changed")
# The statuses of a home visit that failed its checks (V01–V11): its assessment is flagged on every
# page that moves it on (submit, open a round, the round, making it final).
FAILED_VISIT_STATUSES = ("exception", "rejected")


def care_class(not_met):
    """The class of a number of indicators not met: 0 → self_care, 1–3 → partial, 4–6 → complete."""
    if not_met <= 0:
        return "self_care"
    return "partial" if not_met <= 3 else "complete"


def not_met_count(indicators):
    """How many of the six indicators are not met (false) in ``{name: bool}``."""
    return sum(1 for name in INDICATORS if not indicators[name])


class Assessment(TenantOwned, db.Model):
    """One assessment as the assessor recorded it. ``client_id`` (a UUID made by the phone) makes
    uploads idempotent, ``body_hash`` tells a faithful replay from a conflicting one. ``care_class``
    is the assessor's; ``final_class`` is set when the assessment becomes final (the re-check's
    class when a re-check found a different one)."""

    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_id"),
        UniqueConstraint("visit_id"),
        Index("ix_assessment_person_time", "tenant_id", "beneficiary_id", "assessed_at"),
        Index("ix_assessment_contract_status", "tenant_id", "contract_id", "status"),
    )
    __audit_redact__ = ("lat", "lon", "notes", "indicators")

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36))
    body_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="initial")
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"))
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"))
    assessor_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id"))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    distance_from_home_m: Mapped[int | None] = mapped_column(Integer)
    indicators: Mapped[dict] = mapped_column(JSON)  # {name: bool} over INDICATORS, true = can do it
    not_met: Mapped[int] = mapped_column(Integer)
    care_class: Mapped[str] = mapped_column(String(16))
    notes: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default="app")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="recorded", index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    publicity_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_publicity.id"), index=True)
    final_class: Mapped[str | None] = mapped_column(String(16))
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contract = relationship("Contract")
    beneficiary = relationship("Beneficiary")
    visit = relationship("Visit")
    publicity = relationship("AssessmentPublicity", back_populates="assessments")
    photos = relationship("AssessmentPhoto", back_populates="assessment", order_by="AssessmentPhoto.id")
    recheck = relationship("AssessmentRecheck", back_populates="assessment", uselist=False)

    @property
    def visit_failed(self):
        """Did the home visit fail its checks (an exception open or a rejected visit)? The flow goes
        on regardless — the bureau decides — but the pages say so beside the assessment."""
        return self.visit is not None and self.visit.status in FAILED_VISIT_STATUSES

    @property
    def visit_codes(self):
        """The codes of the home visit's exceptions (warnings left out), in the order raised."""
        return [e.code for e in self.visit.exceptions if not e.warning] if self.visit is not None else []


class AssessmentPhoto(TenantOwned, db.Model):
    """A photo taken during the assessment (JPEG/PNG by content, location metadata stripped)."""

    __tablename__ = "assessment_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"), index=True)
    file_id: Mapped[str] = mapped_column(ForeignKey("stored_file.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assessment = relationship("Assessment", back_populates="photos")
    file = relationship("StoredFile")


class AssessmentPublicity(TenantOwned, db.Model):
    """A publicity round (公示): the assessments one contract submitted, shown to the public with
    masked names, township and class only, from ``starts_on`` to ``ends_on`` inclusive
    (``assessment_publicity_days``). Its notice is a disclosure (``disclosure_id``). The re-check
    sample is drawn from its assessments once the period has ended: ``seed`` and ``rate_permille``
    reproduce the draw exactly."""

    __tablename__ = "assessment_publicity"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    disclosure_id: Mapped[int | None] = mapped_column(ForeignKey("disclosure.id"))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seed: Mapped[str | None] = mapped_column(String(64))
    rate_permille: Mapped[int | None] = mapped_column(Integer)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    finalised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finalised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    contract = relationship("Contract")
    assessments = relationship("Assessment", back_populates="publicity", order_by="Assessment.id")
    objections = relationship("AssessmentObjection", back_populates="publicity", order_by="AssessmentObjection.id")


class AssessmentRecheck(TenantOwned, db.Model):
    """The bureau's re-check of one assessment, by a different assessor than the one who made it:
    drawn in the sample (``reason`` "sample") or called for by an upheld objection. Empty
    (``rechecked_at`` None) until done; ``discrepancy`` when its class differs from the assessor's."""

    __tablename__ = "assessment_recheck"
    __table_args__ = (UniqueConstraint("assessment_id"),)
    __audit_redact__ = ("notes", "indicators")

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessment.id"))
    publicity_id: Mapped[int] = mapped_column(ForeignKey("assessment_publicity.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16), default="sample")
    assessor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    indicators: Mapped[dict | None] = mapped_column(JSON)
    not_met: Mapped[int | None] = mapped_column(Integer)
    care_class: Mapped[str | None] = mapped_column(String(16))
    discrepancy: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str] = mapped_column(Text, default="")
    rechecked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    assessment = relationship("Assessment", back_populates="recheck")


class AssessmentObjection(TenantOwned, db.Model):
    """An objection to a publicity round, from anyone, without an account: a tracking number, the
    text, the contact (private: never on a public page, never in the audit trail's values) and the
    bureau's answer. ``assessment_id``: the listed person it is about, when the objector named one."""

    __tablename__ = "assessment_objection"
    __table_args__ = (UniqueConstraint("tracking_number"),)
    __audit_redact__ = ("contact", "text")

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(32))
    publicity_id: Mapped[int] = mapped_column(ForeignKey("assessment_publicity.id"), index=True)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))  # bureau staff taking it down
    status: Mapped[str] = mapped_column(String(16), default="open")
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    publicity = relationship("AssessmentPublicity", back_populates="objections")
    assessment = relationship("Assessment")


class ChangeReport(TenantOwned, db.Model):
    """A change in a person's situation (hospitalised, moved, condition changed) that calls for a
    re-assessment within 10 working days (``due_on``); answered by the person's next assessment
    (``assessment_id``, ``closed_at``)."""

    __tablename__ = "change_report"
    __audit_redact__ = ("note",)

    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiary.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    reported_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("assessment.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    beneficiary = relationship("Beneficiary")
    assessment = relationship("Assessment")
