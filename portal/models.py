"""Imports every package's models so metadata, migrations and tests see all tables."""
from portal.accounts.models import ApiToken, TenantGrant, User, WebSession  # noqa: F401
from portal.audit.models import AuditEntry  # noqa: F401
from portal.jobs.models import JobRun  # noqa: F401
from portal.tenancy.models import CalendarOverride, Tenant  # noqa: F401
