"""Times are stored in UTC and shown in Asia/Shanghai."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow():
    """Now, as an aware UTC datetime: the one clock of the portal (stored times are UTC)."""
    return datetime.now(timezone.utc)


def to_local(value):
    """An aware datetime in Beijing time (naive values are refused: they are ambiguous)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(LOCAL_TZ)


def local_today(now=None):
    return to_local(now or utcnow()).date()


def format_local(value, with_seconds=False):
    if value is None:
        return ""
    return to_local(value).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def local_midnight_utc(day: date):
    """The UTC instant when ``day`` begins in Beijing."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def parse_iso_datetime(text):
    """ISO 8601 with an offset -> aware UTC datetime; ValueError when the offset is missing."""
    value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("time needs an offset, e.g. 2026-11-29T09:30:00+08:00")
    return value.astimezone(timezone.utc)
