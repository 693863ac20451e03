"""Social-work stations and training (docs/DOMAIN.md §2.4, §6, §8): the district hub (区总站) and
the township stations (社工站) of a bureau, each with the staff it requires and the contract that
staffs it; the postings of roster members to stations; daily presence by check-in at the station
(the field app, against the station's geofence, idempotent by the phone's client id like visits);
the target-group service logs; training sessions and who attended them.

Staffing compliance is never stored: it is computed for a month from the postings, the counted
check-ins and the bureau's working days (compliance.py), and settlement deducts the shortfall from
the same computation (billing: ``deduction_staffing``).

A station's address is a public office's and may be shown; the check-in coordinates of a worker
are not, and are redacted from the audit trail."""
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

STATION_KINDS = ("hub", "township")  # 区总站, 乡镇（街道）社工站
# counted: within the geofence, by a worker posted there that day; flagged: outside the geofence,
# uploaded late or from a device another worker used that day (checkins.flag_reasons; not counted
# unless a supervisor accepts it); accepted / rejected: a supervisor's decision on a
# flagged one, with a reason.
CHECKIN_STATUSES = ("counted", "flagged", "accepted", "rejected")
COUNTED_STATUSES = ("counted", "accepted")
TRAINING_MODES = ("online", "offline")
STATION_MONTH_UNIT = "station_month"  # the unit of the service item a station-month is paid under


class Station(TenantOwned, db.Model):
    """A station of the bureau. ``radius_m`` empty: the bureau's ``geofence_radius_m``.
    ``opened_on``: the day it opened (by default the Beijing day it is set up); no day before it
    is required of it (compliance.py)."""

    __tablename__ = "station"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    township: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[int | None] = mapped_column(Integer)
    required_staff: Mapped[int] = mapped_column(Integer)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    opened_on: Mapped[date] = mapped_column(Date, default=local_today)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract = relationship("Contract")
    postings = relationship("StationPosting", back_populates="station", order_by="StationPosting.from_on")


class StationRequirement(TenantOwned, db.Model):
    """The staff a station requires each working day from ``from_on`` until the next row's day
    (compliance.py reads the one in force on each day): a change of required staff takes effect
    from a day and never rewrites the days before it. ``Station.required_staff`` is the value in
    force today, for display."""

    __tablename__ = "station_requirement"
    __table_args__ = (UniqueConstraint("station_id", "from_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    from_on: Mapped[date] = mapped_column(Date)
    required_staff: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StationPosting(TenantOwned, db.Model):
    """A roster member of the staffing contractor posted to a station over dates (inclusive)."""

    __tablename__ = "station_posting"
    __table_args__ = (UniqueConstraint("station_id", "staff_id", "from_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    from_on: Mapped[date] = mapped_column(Date)
    until_on: Mapped[date | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    station = relationship("Station", back_populates="postings")
    staff = relationship("StaffMember")


class StationCheckIn(TenantOwned, db.Model):
    """A worker's check-in at a station as the phone sent it. ``client_id`` (a UUID made by the
    phone) makes uploads idempotent, ``body_hash`` tells a faithful replay from a conflicting one.
    ``day`` is the Beijing day of ``checked_in_at``; one counted check-in per worker and day makes
    a staff-day present."""

    __tablename__ = "station_checkin"
    __table_args__ = (
        UniqueConstraint("tenant_id", "client_id"),
        Index("ix_station_checkin_station_day", "tenant_id", "station_id", "day"),
    )
    __audit_redact__ = ("lat", "lon")

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36))
    body_hash: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    worker_user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    device_id: Mapped[str] = mapped_column(String(100))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[date] = mapped_column(Date)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[int] = mapped_column(Integer)
    # what the worker said when checking in beyond the geofence, warned by the phone ("" if nothing)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="counted")
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    station = relationship("Station")
    staff = relationship("StaffMember")


class StationServiceLog(TenantOwned, db.Model):
    """What a station did for one of the eight target groups on a day (beneficiaries' CATEGORIES):
    the service, how many people were served, how many volunteers helped. Counts only — never a
    person's name."""

    __tablename__ = "station_service_log"
    __table_args__ = (Index("ix_station_service_log_station_day", "tenant_id", "station_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("station.id"))
    day: Mapped[date] = mapped_column(Date)
    target_group: Mapped[str] = mapped_column(String(32))
    service: Mapped[str] = mapped_column(String(200))
    people: Mapped[int] = mapped_column(Integer)
    volunteers: Mapped[int] = mapped_column(Integer, default=0)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    station = relationship("Station")


class TrainingSession(TenantOwned, db.Model):
    """A training class for front-line staff ("互联网+"课堂 online, or in a room), optionally for
    one contract's staff or one station's."""

    __tablename__ = "training_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(16))
    held_on: Mapped[date] = mapped_column(Date, index=True)
    trainer: Mapped[str] = mapped_column(String(100))
    hours: Mapped[int] = mapped_column(Integer, default=2)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contract.id"), index=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attendees = relationship("TrainingAttendee", back_populates="session", order_by="TrainingAttendee.id")


class TrainingAttendee(TenantOwned, db.Model):
    """A roster member expected at a session, and whether they attended (the rate's numerator)."""

    __tablename__ = "training_attendee"
    __table_args__ = (UniqueConstraint("session_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"), index=True)
    contractor_id: Mapped[int] = mapped_column(ForeignKey("contractor.id"), index=True)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)

    session = relationship("TrainingSession", back_populates="attendees")
    staff = relationship("StaffMember")
