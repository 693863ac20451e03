"""The current bureau's working-day calendar: the national one (portal/core/workdays.py, with the
yearly schedules the platform keeps as data) corrected by the bureau's own overrides
(``CalendarOverride`` rows, tenant-scoped).

The calendar is read once per transaction and bureau (two small queries), kept in the session's
``info`` and forgotten at commit or rollback and whenever a schedule or an override is written."""
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from portal.core.errors import DomainError
from portal.core.workdays import Calendar, UnknownCalendarYear, YearSchedule
from portal.extensions import db
from portal.tenancy.models import CalendarDay, CalendarOverride, CalendarYear
from portal.tenancy.scope import all_tenants_mode, current_tenant_id

CACHE_KEY = "portal_calendars"


def stored_schedules(session=None):
    """``{year: YearSchedule}`` of every schedule the platform keeps."""
    session = session or db.session
    years = session.execute(select(CalendarYear.id, CalendarYear.year, CalendarYear.status,
                                   CalendarYear.source)).all()
    schedules = {row.year: YearSchedule(row.year, row.status, row.source) for row in years}
    by_id = {row.id: row.year for row in years}
    for year_id, day, working, label in session.execute(
            select(CalendarDay.calendar_year_id, CalendarDay.day, CalendarDay.is_working, CalendarDay.label)):
        schedules[by_id[year_id]].days[day] = (working, label)
    return schedules


def tenant_calendar(session=None):
    """The current tenant's calendar (overrides are tenant-scoped rows), read once per transaction."""
    session = session or db.session
    cache = session.info.setdefault(CACHE_KEY, {})
    key = (current_tenant_id(), all_tenants_mode())
    if key not in cache:
        rows = session.execute(select(CalendarOverride.day, CalendarOverride.is_working)).all()
        cache[key] = Calendar({day: working for day, working in rows}, stored_schedules(session))
    return cache[key]


def working_days_after(day, count, field, calendar=None):
    """The day ``count`` working days after ``day`` (not counted) on ``calendar`` (the current
    bureau's by default): the due day of a change report and the like. A year the calendar does not
    know is refused with the calendar's own message, on ``field``."""
    try:
        return (calendar or tenant_calendar()).add_working_days(day, count)
    except UnknownCalendarYear as exc:
        raise DomainError(exc.message, {field: [exc.message]}) from None


def forget_calendars(session=None):
    """Drop the calendars read in this session (after a schedule or an override was written)."""
    (session or db.session).info.pop(CACHE_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session, transaction):
    if transaction.parent is None:  # the outermost transaction ended: another may change them
        session.info.pop(CACHE_KEY, None)
