"""Bureaus (tenants) and their calendar overrides."""
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
