"""Policy pages of the public site (the disclosure records are in portal/disclosures)."""
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.tenancy.scope import TenantOwned

POLICY_SLUGS = ("dibao", "tekun", "linshi")  # 最低生活保障, 特困人员救助供养, 临时救助


class PolicyPage(TenantOwned, db.Model):
    """A policy page (eligibility and how to apply) the tenant admin edits. ``body_html`` is
    stored already sanitised (an allow-list of tags), so the template may render it as is."""

    __tablename__ = "policy_page"
    __table_args__ = (db.UniqueConstraint("tenant_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body_html: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user_account.id"))
