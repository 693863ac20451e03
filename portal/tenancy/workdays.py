"""The current bureau's working-day calendar: the national one (portal/core/workdays.py) corrected
by the bureau's own overrides (``CalendarOverride`` rows, tenant-scoped)."""
from sqlalchemy import select

from portal.core.workdays import Calendar
from portal.extensions import db
from portal.tenancy.models import CalendarOverride


def tenant_calendar(session=None):
    """The current tenant's calendar (overrides are tenant-scoped rows)."""
    session = session or db.session
    rows = session.execute(select(CalendarOverride.day, CalendarOverride.is_working)).all()
    return Calendar({day: working for day, working in rows})
