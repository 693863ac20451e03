"""The demo's working-day calendar: today is late 2026 and the demo tenders run into 2027, a year
for which no State Council schedule is available to us. The demo imports a schedule file that
says it is demo data (portal/tenancy/data/calendar-*-demo.txt) for a year the platform does not
know yet; a real schedule imported before is never replaced."""
from pathlib import Path

from portal.core.workdays import library_knows
from portal.tenancy.calendar_file import parse_schedule
from portal.tenancy.calendar_store import import_schedule, stored_year

DATA = Path(__file__).resolve().parent / "data"


def seed_demo_calendars():
    created = 0
    for path in sorted(DATA.glob("calendar-*-demo.txt")):
        schedule = parse_schedule(path.read_text(encoding="utf-8"))
        if stored_year(schedule.year) is None and not library_knows(schedule.year):
            import_schedule(schedule, "seed-demo")
            created += 1 + len(schedule.days)
    return created
