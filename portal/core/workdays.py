"""Working days on a bureau's calendar: the national calendar (chinese-calendar: weekends,
public holidays and make-up working days, 调休) corrected by the bureau's own overrides (the
current bureau's calendar: ``portal.tenancy.workdays.tenant_calendar``)."""
from datetime import date, timedelta

import chinese_calendar


class Calendar:
    """A calendar with overrides ``{date: is_working}`` on top of the national one."""

    def __init__(self, overrides=None):
        self.overrides = dict(overrides or {})

    def is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # beyond the years the library knows: weekdays only
            return day.weekday() < 5

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
