"""The text format of a yearly holiday schedule, read by `flask calendar import` and the platform
administrator's page (README "Working-day calendar")::

    # source: 国务院办公厅关于2027年部分节假日安排的通知 https://www.gov.cn/...
    2027-01-01 休 元旦
    2027-02-20 班 春节调休

One day a line: the date, 休 (a day off) or 班 (a make-up working day on a weekend), and a label
(required for 休). Only the days that differ from Monday–Friday are listed; every date is in one
year. Lines starting with ``#`` are comments, except the ``# source:`` line (也可写 ``# 来源：``),
which is required. Errors name their line; a file with any error is refused whole."""
import re
from datetime import date

from flask_babel import gettext as _, ngettext

from portal.core.errors import DomainError
from portal.core.workdays import NOTICE, YearSchedule

SOURCE_LINE = re.compile(r"^#\s*(?:source|来源)\s*[:：]\s*(.*)$", re.IGNORECASE)
KINDS = {"休": False, "班": True}
MAX_LABEL = 40
MAX_SOURCE = 500


class ScheduleFileError(DomainError):
    """The schedule file was refused; ``errors`` maps "line N" to its message."""


def parse_schedule(text: str) -> YearSchedule:
    """The schedule in ``text``, or ``ScheduleFileError`` listing every wrong line."""
    errors, days, source, year = {}, {}, "", None

    def refuse(number, message):
        errors[_("line %(n)s", n=number) if number else _("file")] = message

    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            found = SOURCE_LINE.match(line)
            if found:
                source = found.group(1).strip()
                if not source or len(source) > MAX_SOURCE:
                    refuse(number, _("The source names the notice (title or address), at most %(n)s characters.",
                                     n=MAX_SOURCE))
            continue
        parts = line.split(None, 2)
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            refuse(number, _("“%(text)s” is not a date written YYYY-MM-DD.", text=parts[0][:20]))
            continue
        if len(parts) < 2 or parts[1] not in KINDS:
            refuse(number, _("After the date write 休 (a day off) or 班 (a make-up working day)."))
            continue
        label = parts[2].strip() if len(parts) > 2 else ""
        working = KINDS[parts[1]]
        year = year or day.year
        if day.year != year:
            refuse(number, _("%(day)s is not in %(year)s: one file holds one year.", day=day.isoformat(), year=year))
        elif day in days:
            refuse(number, _("%(day)s is listed twice.", day=day.isoformat()))
        elif not working and not label:
            refuse(number, _("Name the holiday of %(day)s (元旦, 春节 …).", day=day.isoformat()))
        elif len(label) > MAX_LABEL:
            refuse(number, _("The label is at most %(n)s characters.", n=MAX_LABEL))
        elif working and day.weekday() < 5:
            refuse(number, _("%(day)s is a weekday and a working day anyway: a make-up working day (班) "
                             "falls on a Saturday or Sunday.", day=day.isoformat()))
        else:
            days[day] = (working, label)
    if not source:
        refuse(0, _("The file must name its source in a line “# source: <notice title or address>”."))
    if not days and not errors:
        refuse(0, _("The file lists no day. A year without holidays is confirmed as weekdays only instead."))
    if errors:
        raise ScheduleFileError(ngettext("The schedule was not imported: %(num)s error.", "The schedule was not imported: %(num)s errors.", len(errors)), errors)
    return YearSchedule(year=year, status=NOTICE, source=source, days=days)


def format_schedule(schedule: YearSchedule) -> str:
    """The file text of ``schedule`` (what `calendar show` prints and the import reads back)."""
    lines = [f"# source: {schedule.source}"]
    for day, (working, label) in sorted(schedule.days.items()):
        lines.append(f"{day.isoformat()} {'班' if working else '休'} {label}".rstrip())
    return "\n".join(lines) + "\n"
