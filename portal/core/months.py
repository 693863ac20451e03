"""Calendar months, the unit of spot checks and settlement: ``"YYYY-MM"`` in forms, URLs and the
database, the month's first day in arithmetic, and the month's bounds in Beijing time."""
import re
from datetime import date, timedelta

from flask_babel import gettext as _

from portal.core.errors import DomainError
from portal.core.timeutil import local_midnight_utc

# ASCII digits only (``\d`` would take full-width ones), and nothing after the month
MONTH_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")


def parse_month(text):
    """``"YYYY-MM"`` (years 2000–2099) → the month's first day; DomainError naming the field
    ``month`` for anything else."""
    match = MONTH_RE.match(text.strip()) if isinstance(text, str) else None
    if not match or not 2000 <= int(match.group(1)) <= 2099:
        message = _("Give the month as YYYY-MM.")
        raise DomainError(message, {"month": [message]})
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_text(day):
    """The month ``day`` falls in as ``"YYYY-MM"``."""
    return f"{day.year:04d}-{day.month:02d}"


def next_month(day):
    """The first day of the month after the one ``day`` falls in."""
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_month(day):
    """The first day of the month before the one ``day`` falls in."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def last_day(day):
    """The last day of the month ``day`` falls in."""
    return next_month(day) - timedelta(days=1)


def month_bounds(day):
    """(start, end) of the month ``day`` falls in, in Beijing time, as aware UTC datetimes:
    start ≤ t < end."""
    return local_midnight_utc(day.replace(day=1)), local_midnight_utc(next_month(day))
