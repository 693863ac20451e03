"""`flask --app wsgi calendar …`: the platform's working-day calendar (README "Working-day calendar")."""
import getpass
from datetime import date, timedelta

import click
from flask.cli import with_appcontext

from portal.extensions import db


def _by():
    return f"flask calendar ({getpass.getuser()})"


@click.group("calendar")
def calendar():
    """The national working-day calendar kept by the platform."""


@calendar.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_command(path):
    """Import a year's holiday schedule from PATH (see README for the format)."""
    from portal.tenancy.calendar_file import ScheduleFileError, parse_schedule
    from portal.tenancy.calendar_store import import_schedule
    with open(path, encoding="utf-8-sig") as handle:
        text = handle.read()
    try:
        schedule = parse_schedule(text)
    except ScheduleFileError as exc:
        for where, message in exc.errors.items():
            click.echo(f"{path}: {where}: {message}", err=True)
        raise click.ClickException(str(exc.message)) from None
    row, replaced = import_schedule(schedule, _by())
    db.session.commit()
    click.echo(f"{row.year}: {len(schedule.days)} days imported{' (replacing the earlier schedule)' if replaced else ''}; "
               f"source: {row.source}")


@calendar.command("confirm-weekdays")
@click.argument("year", type=int)
@with_appcontext
def confirm_weekdays_command(year):
    """Confirm that YEAR counts Monday to Friday only (no holiday schedule is known for it)."""
    from portal.core.errors import DomainError
    from portal.tenancy.calendar_store import confirm_weekdays_only
    try:
        confirm_weekdays_only(year, _by())
    except DomainError as exc:
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"{year}: confirmed as weekdays only (Monday to Friday are working days, no public holiday).")


@calendar.command("show")
@click.argument("year", type=int)
@with_appcontext
def show_command(year):
    """Print where YEAR's calendar comes from and its holidays and make-up working days."""
    from portal.core.workdays import Calendar, library_knows
    from portal.tenancy.calendar_store import stored_year
    from portal.tenancy.workdays import stored_schedules
    row = stored_year(year)
    if row is not None:
        click.echo(f"{year}: {row.status}; source: {row.source}; recorded by {row.recorded_by} at "
                   f"{row.recorded_at:%Y-%m-%d %H:%M} UTC")
    elif library_knows(year):
        click.echo(f"{year}: State Council schedule as carried by the chinese-calendar library")
    else:
        raise click.ClickException(f"{year}: no calendar known; import the State Council's schedule "
                                   f"(flask calendar import FILE) or confirm weekdays only.")
    cal, day = Calendar(schedules=stored_schedules()), date(year, 1, 1)
    while day.year == year:
        working, weekend, label = cal.is_working_day(day), day.weekday() >= 5, cal.label(day)
        if working == weekend or (label and not working):  # an exception to Monday–Friday, or a named holiday
            click.echo(f"{day.isoformat()} {'班' if working else '休'} {label}".rstrip())
        day += timedelta(days=1)
