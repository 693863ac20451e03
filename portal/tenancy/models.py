"""Bureaus (tenants), the platform's yearly holiday schedules and the bureaus' calendar overrides."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned
from portal.tenancy.settings import merged_settings


class Tenant(db.Model):
    """A civil-affairs bureau: owns its data and never sees another's."""

    __tablename__ = "tenant"
    __tenancy__ = "global"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region: Mapped[str] = mapped_column(String(120), default="")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def setting(self, key):
        return merged_settings(self.settings)[key]

    @property
    def effective_settings(self):
        return merged_settings(self.settings)

    def __repr__(self):
        return f"<Tenant {self.code}>"


class CalendarOverride(TenantOwned, db.Model):
    """A bureau's correction to the national calendar: a day made working or made a holiday."""

    __tablename__ = "calendar_override"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    is_working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class CalendarYear(db.Model):
    """A year of the national working-day calendar kept as platform data (docs/DOMAIN.md §3): an
    imported holiday schedule (``notice``, its source named) or a year the platform administrator
    confirmed as Monday to Friday only (``weekdays_only``). Not tenant-owned: every bureau counts
    on it."""

    __tablename__ = "calendar_year"
    __tenancy__ = "global"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(500), default="")
    recorded_by: Mapped[str] = mapped_column(String(120), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    days: Mapped[list["CalendarDay"]] = relationship(back_populates="calendar_year", cascade="all, delete-orphan",
                                                     order_by="CalendarDay.day")


class CalendarDay(db.Model):
    """A day of a stored schedule that differs from Monday–Friday: a holiday or a make-up working day."""

    __tablename__ = "calendar_day"
    __tenancy__ = "global"

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_year_id: Mapped[int] = mapped_column(ForeignKey("calendar_year.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[str] = mapped_column(String(40), default="")
    calendar_year: Mapped[CalendarYear] = relationship(back_populates="days")
