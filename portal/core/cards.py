"""One home-page card (portal/dashboard): what a package answers when the dashboard asks for its
work — a title, a count, how old the oldest item is in days (Beijing) and, optionally, how many are
older than a threshold, leading to the filtered queue. A card with a count of 0 says there is
nothing to do (templates/dashboard/home.html)."""
from datetime import date, datetime, timezone

from portal.core.timeutil import local_today, to_local

OLD_AFTER_DAYS = 7  # an item older than this is counted apart ("N older than 7 days")


def age_in_days(moment, today=None):
    """Whole days from ``moment`` (a UTC datetime or a date) to today in Beijing; None for None."""
    if moment is None:
        return None
    if isinstance(moment, datetime):
        moment = to_local(moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).date()
    day = moment
    if not isinstance(day, date):
        return None
    return max(((today or local_today()) - day).days, 0)


def card(title, value, endpoint, args=None, *, oldest=None, older=None, note=None):
    """A card: ``oldest`` the oldest item's time (its age is shown), ``older`` how many are older
    than OLD_AFTER_DAYS, ``note`` a line of text shown under the title (e.g. a time)."""
    return {"title": title, "value": value, "endpoint": endpoint, "args": args or {},
            "age_days": age_in_days(oldest) if value else None, "older": older or None,
            "older_days": OLD_AFTER_DAYS, "note": note}


def older_than(moments, today=None):
    """How many of ``moments`` are older than OLD_AFTER_DAYS."""
    ages = [age_in_days(moment, today) for moment in moments]
    return sum(1 for age in ages if age is not None and age > OLD_AFTER_DAYS)
