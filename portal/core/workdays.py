"""Working days on a bureau's calendar (docs/DOMAIN.md §3): the State Council's yearly holiday schedule
(weekends, public holidays and make-up working days, 调休) corrected by the bureau's own overrides.

The schedule of a year comes from, in this order: a schedule the platform keeps as data
(``YearSchedule``: an imported State Council notice, or a year the platform administrator
confirmed as weekdays only), else the chinese-calendar library (the years it knows). A year with
neither cannot be counted: ``UnknownCalendarYear``. This module is pure; the current bureau's
calendar, with the stored schedules and overrides, is ``portal.tenancy.workdays.tenant_calendar``."""
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
from flask_babel import gettext as _

from portal.core.errors import DomainError

NOTICE, WEEKDAYS_ONLY = "notice", "weekdays_only"


class UnknownCalendarYear(DomainError):
    """A deadline would be counted through a year whose holiday schedule nobody knows."""

    def __init__(self, year):
        self.year = year
        super().__init__(_(
            "No working-day calendar is known for %(year)s, so no deadline can be counted in it. "
            "The platform administrator imports the State Council's holiday schedule for %(year)s "
            "(or confirms that %(year)s counts Monday to Friday only); until then choose dates "
            "that need no count in %(year)s.", year=year))
        self.errors = {"calendar": self.message}


@dataclass
class YearSchedule:
    """One year's schedule kept as data: ``days`` lists the exceptions to Monday–Friday
    (``{date: (is_working, label)}``), empty for a year confirmed as weekdays only."""
    year: int
    status: str = NOTICE
    source: str = ""
    days: dict = field(default_factory=dict)


def library_knows(year: int) -> bool:
    """Does the chinese-calendar library carry the State Council's schedule for ``year``?"""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class Calendar:
    """A calendar with overrides ``{date: is_working}`` on top of the national one, the national
    one read from ``schedules`` (``{year: YearSchedule}``) before the library."""

    def __init__(self, overrides=None, schedules=None):
        self.overrides = dict(overrides or {})
        self.schedules = dict(schedules or {})

    def knows_year(self, year: int) -> bool:
        return year in self.schedules or library_knows(year)

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            listed = schedule.days.get(day)
            return listed[0] if listed else day.weekday() < 5
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            raise UnknownCalendarYear(day.year) from None

    def label(self, day: date) -> str:
        """The schedule's name for ``day`` (元旦, 春节, 调休上班 …), "" for an ordinary day."""
        schedule = self.schedules.get(day.year)
        if schedule is not None:
            return schedule.days.get(day, (None, ""))[1]
        try:
            holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return ""
        if name is None:
            return ""
        chinese = next((h.chinese for h in chinese_calendar.Holiday if h.value == name), name)
        return chinese if holiday else _("%(holiday)s make-up working day", holiday=chinese)

    def add_working_days(self, start: date, n: int) -> date:
        """The day ``n`` working days after ``start`` (before it when ``n`` is negative);
        ``start`` itself is not counted. ``n == 0`` gives ``start`` moved to a working day."""
        step = 1 if n >= 0 else -1
        day = start
        if n == 0:
            while not self.is_working_day(day):
                day += timedelta(days=1)
            return day
        remaining = abs(n)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count


def add_working_days(start: date, n: int, calendar: Calendar | None = None) -> date:
    return (calendar or Calendar()).add_working_days(start, n)
