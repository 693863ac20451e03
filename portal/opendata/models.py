"""OCDS releases as published: immutable snapshots, one row each, newest first by id."""
from datetime import datetime

from sqlalchemy import JSON, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned


class OcdsRelease(TenantOwned, db.Model):
    """One OCDS release of one procurement process (``ocid``). ``data`` is the whole release as
    published and is never edited; a record is compiled from all releases of an ocid."""

    __tablename__ = "ocds_release"
    __table_args__ = (UniqueConstraint("tenant_id", "release_id"),
                      Index("ix_ocds_release_ocid", "tenant_id", "ocid"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ocid: Mapped[str] = mapped_column(String(120))
    release_id: Mapped[str] = mapped_column(String(160))
    tags: Mapped[list] = mapped_column(JSON, default=list)
    date: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
