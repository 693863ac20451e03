"""Calendar months, the unit of spot checks, visit shares and settlement: the one month module.

The contract, for every function below:

- A *month given* is either a ``date`` (any day of the month) or its ``"YYYY-MM"`` text (as forms,
  URLs and the database's ``month`` columns hold it). Text is read by ``parse_month``, so malformed
  text raises the same DomainError wherever it is given.
- A *month returned* is its first day (a ``date``), except ``month_text`` which gives the text.
- Valid text is exactly ``YYYY-MM`` with ASCII digits, a month 01–12 and a year 2000–2099; the
  OpenAPI pattern of every ``month`` query parameter (core/query.py) describes the same set.
- Bounds are in Beijing time: a month runs from local midnight of its first day to local midnight
  of the next month's first day, as aware UTC datetimes (start ≤ t < end).
"""
import re
from datetime import date, timedelta

from flask_babel import gettext as _

from portal.core.errors import DomainError
from portal.core.timeutil import local_midnight_utc

# ASCII digits only (``\d`` would take full-width ones), and nothing after the month
MONTH_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")


def parse_month(text):
    """``"YYYY-MM"`` (years 2000–2099) → the month's first day; DomainError naming the field
    ``month`` for anything else (``None`` included)."""
    match = MONTH_RE.match(text.strip()) if isinstance(text, str) else None
    if not match or not 2000 <= int(match.group(1)) <= 2099:
        message = _("Give the month as YYYY-MM.")
        raise DomainError(message, {"month": [message]})
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_or_none(text):
    """``parse_month`` for optional filters: the month's first day, or None when ``text`` is empty
    or not a valid month."""
    try:
        return parse_month(text)
    except DomainError:
        return None


def first_day(month):
    """The first day of the month given (a date in it or its ``"YYYY-MM"`` text; anything else is
    malformed text)."""
    return month.replace(day=1) if isinstance(month, date) else parse_month(month)


def month_text(month):
    """The month given as ``"YYYY-MM"``."""
    day = first_day(month)
    return f"{day.year:04d}-{day.month:02d}"


def next_month(month):
    """The first day of the month after the month given."""
    return (first_day(month).replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(month):
    """The first day of the month before the month given."""
    return (first_day(month) - timedelta(days=1)).replace(day=1)


def last_day(month):
    """The last day of the month given."""
    return next_month(month) - timedelta(days=1)


def month_days(month):
    """(first day, last day) of the month given."""
    return first_day(month), last_day(month)


def month_bounds(month):
    """(start, end) of the month given in Beijing time, as aware UTC datetimes: start ≤ t < end."""
    return local_midnight_utc(first_day(month)), local_midnight_utc(next_month(month))


def add_months(day, count):
    """``day`` moved ``count`` calendar months on (back when negative), to the same day of the month,
    or that month's last day when it has fewer days: 31 January + 1 → 28 (29) February."""
    index = day.year * 12 + day.month - 1 + count
    target = date(index // 12, index % 12 + 1, 1)
    return target.replace(day=min(day.day, last_day(target).day))


def months_between(start, end):
    """The first days of the months from ``start``'s to ``end``'s, both included, oldest first
    (none when ``end`` falls in an earlier month)."""
    month = first_day(start)
    while month <= end:
        yield month
        month = next_month(month)


def recent_months(day, count):
    """The first days of the ``count`` months up to and including the one ``day`` falls in,
    newest first."""
    months, month = [], first_day(day)
    for _i in range(count):
        months.append(month)
        month = previous_month(month)
    return months
