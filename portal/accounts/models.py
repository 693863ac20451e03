"""People who sign in, the tenants they may act for, API tokens and server-side sessions."""
import hashlib
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.accounts.permissions import BUREAU_ROLES, MULTI_TENANT_ROLES, can
from portal.accounts.signals import worker_tenants
from portal.core.models import UTCDateTime
from portal.core.timeutil import utcnow
from portal.extensions import db

_hasher = PasswordHasher()


def use_fast_password_hashing():
    """Tests only: argon2 at its cheapest, so creating users costs microseconds, not 50 ms."""
    global _hasher
    _hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


_dummy_hash = {}


def spend_a_password_check(password):
    """Verify ``password`` against a hash of nothing, as slowly as a real check: a sign-in with an
    unknown username must take as long as one with a wrong password (no timing oracle)."""
    dummy = _dummy_hash.setdefault(id(_hasher), _hasher.hash("no such user"))
    try:
        _hasher.verify(dummy, password)
    except (VerificationError, InvalidHashError):
        pass


def hash_token(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


class User(UserMixin, db.Model):
    """A person with one role. Bureau roles belong to one tenant; users are never deleted."""

    __tablename__ = "user_account"
    __tenancy__ = "global"  # usernames are unique platform-wide; tenant scoping is by tenant_id below
    __audit_redact__ = ("password_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), index=True)
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractor.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # The credential stamp: raised by a password change, a reset and disabling. A token or web
    # session carries the value read when its password was checked and is refused once it differs,
    # so a sign-in whose check raced a change (and was written after the change ended the
    # others) does not outlive it.
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    tenant = relationship("Tenant")
    contractor = relationship("Contractor")
    grants = relationship("TenantGrant", back_populates="user", cascade="all, delete-orphan")

    def set_password(self, password):
        self.password_hash = _hasher.hash(password)

    def check_password(self, password):
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @property
    def is_active(self):
        return self.active

    def can(self, capability, obj=None):
        """Whether this person holds ``capability`` (portal/accounts/permissions.py)."""
        return can(self, capability, obj)

    @property
    def is_bureau_user(self):
        return self.role in BUREAU_ROLES

    def tenant_ids(self):
        """The tenants this person may act for: a bureau user its bureau; an auditor the bureaus
        granted; a contractor manager any active bureau (to register and bid there); a field
        worker the bureaus where the contractor is approved, plus any explicit grant."""
        if self.role == "platform_admin":
            return []
        granted = {g.tenant_id for g in self.grants}
        if self.role == "contractor_manager":
            from portal.tenancy.models import Tenant
            return sorted(db.session.execute(select(Tenant.id).where(Tenant.active.is_(True))).scalars())
        if self.role == "field_worker" and self.contractor_id:
            for _receiver, approved in worker_tenants.send(self):  # contractors answers
                granted |= set(approved)
            return sorted(granted)
        if self.role in MULTI_TENANT_ROLES:
            return sorted(granted)
        return [self.tenant_id] if self.tenant_id else []

    def can_act_for(self, tenant_id):
        return tenant_id in self.tenant_ids()

    def __repr__(self):
        return f"<User {self.username} {self.role}>"


class TenantGrant(db.Model):
    """A tenant an auditor or contractor user may act for (one chosen per session)."""

    __tablename__ = "tenant_grant"
    __tenancy__ = "global"
    __table_args__ = (UniqueConstraint("user_id", "tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", back_populates="grants")
    tenant = relationship("Tenant")


class ApiToken(db.Model):
    """A bearer token for the JSON API, stored as a SHA-256 hash, bound to one tenant."""

    __tablename__ = "api_token"
    __tenancy__ = "global"
    __audit_redact__ = ("token_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # the user's, when issued

    user = relationship("User")


class WebSession(db.Model):
    """A server-side browser session; the cookie holds only a random id whose hash is the key."""

    __tablename__ = "web_session"
    __tenancy__ = "global"
    __audit__ = False

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Who is signed in (kept beside ``data`` so a password change can end the user's sessions).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
