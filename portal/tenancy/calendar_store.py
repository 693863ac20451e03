"""Writing the working-day calendar: the platform's yearly schedules (imported from the text
format of portal/tenancy/calendar_file.py, or confirmed as weekdays only) and a bureau's own
overrides. Reading it is portal/tenancy/workdays.py."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from portal.core.errors import Conflict, DomainError, NotFound
from portal.core.timeutil import utcnow
from portal.core.workdays import NOTICE, WEEKDAYS_ONLY, Calendar, YearSchedule, library_knows
from portal.extensions import db
from portal.tenancy.models import CalendarDay, CalendarOverride, CalendarYear
from portal.tenancy.workdays import forget_calendars, tenant_calendar

MAX_REASON = 200


def stored_year(year):
    return db.session.execute(select(CalendarYear).where(CalendarYear.year == year)).scalar_one_or_none()


def import_schedule(schedule: YearSchedule, by: str):
    """Keep ``schedule`` (parsed, so already checked) as the year's calendar; an earlier schedule
    or weekdays-only confirmation of the year is replaced. Returns ``(row, replaced)``."""
    row = stored_year(schedule.year)
    replaced = row is not None
    if row is None:
        row = CalendarYear(year=schedule.year)
        db.session.add(row)
    else:
        row.days.clear()
        db.session.flush()  # the old days go before the new ones take their dates
    row.status, row.source, row.recorded_by, row.recorded_at = NOTICE, schedule.source, by, utcnow()
    row.days.extend(CalendarDay(day=day, is_working=working, label=label)
                    for day, (working, label) in sorted(schedule.days.items()))
    db.session.flush()
    forget_calendars()
    return row, replaced


def confirm_weekdays_only(year: int, by: str):
    """The platform administrator's confirmation that ``year`` counts Monday to Friday only (no
    public holiday is known for it). Refused for a year whose schedule is known: confirming would
    throw the holidays away."""
    if not 1949 < year < 2200:
        raise DomainError(_("%(year)s is not a year the platform can keep a calendar for.", year=year))
    row = stored_year(year)
    if row is not None and row.status == NOTICE:
        raise Conflict(_("%(year)s already has an imported holiday schedule (%(source)s); it is not "
                         "replaced by weekdays only.", year=year, source=row.source))
    if row is None and library_knows(year):
        raise Conflict(_("The State Council's holiday schedule for %(year)s is already known; "
                         "there is nothing to confirm.", year=year))
    if row is None:
        row = CalendarYear(year=year)
        db.session.add(row)
    row.status, row.source, row.recorded_by, row.recorded_at = (
        WEEKDAYS_ONLY, _("confirmed as weekdays only by %(by)s", by=by), by, utcnow())
    db.session.flush()
    forget_calendars()
    return row


def add_override(day: date, is_working: bool, reason: str):
    """The current bureau makes ``day`` a working day or a day off, with its reason."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the change (the local notice, the office closure …)."),
                          {"note": _("Required.")})
    if len(reason) > MAX_REASON:
        raise DomainError(_("The reason is at most %(n)s characters.", n=MAX_REASON), {"note": _("Too long.")})
    taken = db.session.execute(select(CalendarOverride).where(CalendarOverride.day == day)).scalar_one_or_none()
    if taken is not None:
        raise Conflict(_("%(day)s already has an override; remove it first.", day=day.isoformat()),
                       {"day": _("Already changed.")})
    national = Calendar(schedules=tenant_calendar().schedules)  # the national one, schedules read once
    if national.knows_year(day.year) and national.is_working_day(day) == bool(is_working):
        state = _("a working day") if is_working else _("a day off")
        raise DomainError(_("%(day)s is already %(state)s on the national calendar: nothing to change.",
                            day=day.isoformat(), state=state), {"kind": _("No change.")})
    row = CalendarOverride(day=day, is_working=is_working, note=reason)
    db.session.add(row)
    db.session.flush()
    forget_calendars()
    return row


def remove_override(override_id: int, reason: str):
    """Remove one of the current bureau's overrides (another bureau's is not found), with the
    reason: written on the row first, so the audit trail's update and delete entries keep it."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the change (the local notice, the office closure …)."),
                          {"reason": _("Required.")})
    row = db.session.execute(select(CalendarOverride).where(CalendarOverride.id == override_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(_("No such calendar change."))
    row.note = f"{_('removed')}: {reason} · {row.note}"[:MAX_REASON]  # the reason first: never cut away
    db.session.flush()
    db.session.delete(row)
    db.session.flush()
    forget_calendars()
    return row
