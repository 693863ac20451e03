"""The working-day calendar as platform data (docs/DOMAIN.md §3): a year's State
Council schedule kept by the platform overrides the library, a year nobody knows is refused by
name, the platform administrator may confirm a year as weekdays only, bureau overrides apply on
top; the schedule file format, its errors by line, and the `flask calendar` commands."""
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.core.workdays import NOTICE, WEEKDAYS_ONLY, Calendar, UnknownCalendarYear, YearSchedule
from portal.extensions import db
from portal.tenancy.calendar_file import ScheduleFileError, format_schedule, parse_schedule
from portal.tenancy.models import CalendarYear
from tests import support

FIXTURE = (Path(__file__).resolve().parent / "fixtures" / "calendar-2027.txt").read_text(encoding="utf-8")


@pytest.fixture
def english(app):
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        yield


@pytest.fixture
def cal_2027(english):
    return Calendar(schedules={2027: parse_schedule(FIXTURE)})


# --- counting across 2027's holidays (fixture schedule: 元旦 1–3 Jan, 春节 5–12 Feb, 班 20 Feb) --

def test_new_year_2027_day_before_day_and_day_after(cal_2027):
    assert cal_2027.is_working_day(date(2026, 12, 31))      # Thursday, library year
    assert not cal_2027.is_working_day(date(2027, 1, 1))    # 元旦
    assert not cal_2027.is_working_day(date(2027, 1, 3))
    assert cal_2027.is_working_day(date(2027, 1, 4))        # Monday after
    assert cal_2027.label(date(2027, 1, 1)) == "元旦"


def test_counts_across_new_year_2027(cal_2027):
    assert cal_2027.add_working_days(date(2026, 12, 30), 1) == date(2026, 12, 31)
    assert cal_2027.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)
    assert cal_2027.add_working_days(date(2027, 1, 1), 1) == date(2027, 1, 4)
    assert cal_2027.add_working_days(date(2026, 12, 31), 2) == date(2027, 1, 5)
    assert cal_2027.add_working_days(date(2027, 1, 4), -1) == date(2026, 12, 31)


def test_counts_across_the_2027_spring_festival(cal_2027):
    assert cal_2027.is_working_day(date(2027, 2, 4))        # the day before the span
    assert not cal_2027.is_working_day(date(2027, 2, 5))    # its first day, a Friday
    assert not cal_2027.is_working_day(date(2027, 2, 12))   # its last day, a Friday
    assert cal_2027.is_working_day(date(2027, 2, 15))       # the Monday after
    assert cal_2027.is_working_day(date(2027, 2, 20))       # the make-up Saturday
    assert not cal_2027.is_working_day(date(2027, 2, 21))
    # 7 working days from 4 Feb: 15, 16, 17, 18, 19, 20 (班), 22
    assert cal_2027.add_working_days(date(2027, 2, 4), 7) == date(2027, 2, 22)
    assert cal_2027.working_days_between(date(2027, 2, 4), date(2027, 2, 22)) == 7
    # Counted as weekdays only it would have ended on 15 Feb, inside the holiday week's shadow.
    assert Calendar(schedules={2027: YearSchedule(2027, WEEKDAYS_ONLY)}).add_working_days(
        date(2027, 2, 4), 7) == date(2027, 2, 15)


def test_a_year_nobody_knows_is_refused_by_name(cal_2027):
    with pytest.raises(UnknownCalendarYear) as caught:
        cal_2027.is_working_day(date(2028, 1, 3))
    assert "2028" in caught.value.message and "State Council" in caught.value.message
    assert caught.value.year == 2028
    # A count that runs into 2028 is refused too, one ending on 31 Dec 2027 is not.
    assert cal_2027.add_working_days(date(2027, 12, 30), 1) == date(2027, 12, 31)
    with pytest.raises(UnknownCalendarYear):
        cal_2027.add_working_days(date(2027, 12, 31), 1)


def test_a_stored_schedule_overrides_the_library_and_overrides_apply_on_top(english):
    # 2026-10-07 is a holiday in the library; a stored 2026 schedule without it makes it a Wednesday.
    stored = YearSchedule(2026, NOTICE, "test", {date(2026, 10, 1): (False, "国庆节")})
    assert not Calendar().is_working_day(date(2026, 10, 7))
    assert Calendar(schedules={2026: stored}).is_working_day(date(2026, 10, 7))
    assert not Calendar(schedules={2026: stored}).is_working_day(date(2026, 10, 1))
    bureau = Calendar({date(2026, 10, 1): True, date(2028, 3, 1): False}, {2026: stored})
    assert bureau.is_working_day(date(2026, 10, 1))
    assert not bureau.is_working_day(date(2028, 3, 1))      # an override answers even in an unknown year
    with pytest.raises(UnknownCalendarYear):
        bureau.is_working_day(date(2028, 3, 2))


def test_a_year_confirmed_as_weekdays_only_counts_monday_to_friday(english):
    cal = Calendar(schedules={2028: YearSchedule(2028, WEEKDAYS_ONLY)})
    assert not cal.is_working_day(date(2028, 1, 1))          # a Saturday
    assert cal.is_working_day(date(2028, 1, 3))
    assert cal.add_working_days(date(2027, 12, 31), 1) == date(2028, 1, 3)


# --- the file format -----------------------------------------------------------------------

def test_the_fixture_file_parses_and_round_trips(english):
    schedule = parse_schedule(FIXTURE)
    assert schedule.year == 2027 and schedule.status == NOTICE and schedule.source == "测试夹具（非官方）2027"
    assert schedule.days[date(2027, 2, 20)] == (True, "春节调休")
    assert len(schedule.days) == 12
    assert parse_schedule(format_schedule(schedule)) == schedule


@pytest.mark.parametrize("line, error", [
    ("2027-13-01 休 元旦", "is not a date"),
    ("2027-01-01 放 元旦", "休 (a day off) or 班"),
    ("2027-01-01", "休 (a day off) or 班"),
    ("2028-01-01 休 元旦", "one file holds one year"),
    ("2027-01-01 休 元旦", "listed twice"),
    ("2027-01-04 班 调休", "falls on a Saturday or Sunday"),   # a Monday
    ("2027-10-01 休", "Name the holiday"),
])
def test_a_wrong_line_is_named_and_nothing_is_kept(english, line, error):
    text = "# source: 测试\n2027-01-01 休 元旦\n" + line + "\n"
    with pytest.raises(ScheduleFileError) as caught:
        parse_schedule(text)
    assert caught.value.errors == {"line 3": caught.value.errors["line 3"]}
    assert error in caught.value.errors["line 3"]


def test_a_file_without_source_or_without_days_is_refused(english):
    with pytest.raises(ScheduleFileError) as caught:
        parse_schedule("2027-01-01 休 元旦\n")
    assert "# source:" in " ".join(caught.value.errors.values())
    with pytest.raises(ScheduleFileError) as caught:
        parse_schedule("# source: 测试\n# nothing else\n")
    assert "weekdays only" in " ".join(caught.value.errors.values())


# --- stored schedules: the database, the bureau's calendar, the commands ------------------------

def test_the_bureau_calendar_reads_the_stored_schedule_once_per_transaction(app, demo):
    from portal.tenancy.calendar_store import import_schedule
    from portal.tenancy.scope import tenant_scope
    from portal.tenancy.workdays import tenant_calendar
    with app.test_request_context(), tenant_scope(demo.tenant_id("ganxian")):
        first = tenant_calendar()
        assert first is tenant_calendar()                      # cached
        assert not first.is_working_day(date(2027, 2, 8))      # the conftest's fixture schedule
        with pytest.raises(UnknownCalendarYear):
            first.is_working_day(date(2028, 2, 8))
        import_schedule(YearSchedule(2028, NOTICE, "测试", {date(2028, 2, 8): (False, "测试假日")}), "tests")
        again = tenant_calendar()
        assert again is not first                              # forgotten after the write
        assert not again.is_working_day(date(2028, 2, 8))
        assert again.is_working_day(date(2028, 2, 9))
        db.session.rollback()
        assert tenant_calendar().knows_year(2028) is False     # the rollback took the import away


def test_confirming_weekdays_only_is_refused_for_a_known_year(app, demo, english):
    from portal.core.errors import Conflict
    from portal.tenancy.calendar_store import confirm_weekdays_only
    with pytest.raises(Conflict, match="already known"):
        confirm_weekdays_only(2026, "platform")
    with pytest.raises(Conflict, match="imported holiday schedule"):
        confirm_weekdays_only(2027, "platform")
    row = confirm_weekdays_only(2028, "platform")
    assert row.status == WEEKDAYS_ONLY and row.recorded_by == "platform"
    db.session.rollback()


def test_the_commands_import_show_and_confirm(app, demo, tmp_path):
    runner = support.platform_app(app).test_cli_runner()
    bad = tmp_path / "bad.txt"
    bad.write_text("# source: 测试\n2028-01-01 休 元旦\n2028-01-03 班 调休\n2029-01-01 休 元旦\n", encoding="utf-8")
    result = runner.invoke(args=["calendar", "import", str(bad)])
    assert result.exit_code != 0
    assert "line 3" in result.output or "第 3 行" in result.output
    with app.app_context():
        assert db.session.execute(select(CalendarYear).where(CalendarYear.year == 2028)).first() is None

    good = tmp_path / "good.txt"
    good.write_text("# source: 国务院办公厅通知（测试）\n2028-01-01 休 元旦\n2028-01-29 班 春节调休\n", encoding="utf-8")
    result = runner.invoke(args=["calendar", "import", str(good)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["calendar", "show", "2028"])
    assert result.exit_code == 0, result.output
    assert "notice" in result.output and "国务院办公厅通知（测试）" in result.output
    assert "2028-01-29 班 春节调休" in result.output and "2028-01-01 休 元旦" in result.output

    result = runner.invoke(args=["calendar", "show", "2029"])
    assert result.exit_code != 0 and "no calendar known" in result.output
    result = runner.invoke(args=["calendar", "confirm-weekdays", "2029"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["calendar", "confirm-weekdays", "2028"])
    assert result.exit_code != 0
    with app.app_context():
        statuses = dict(db.session.execute(select(CalendarYear.year, CalendarYear.status)).all())
    assert statuses == {2027: NOTICE, 2028: NOTICE, 2029: WEEKDAYS_ONLY}


def test_the_demo_imports_its_2027_schedule_only_as_labelled_demo_data(app, english):
    from portal.tenancy.demo import DATA, seed_demo_calendars
    text = (DATA / "calendar-2027-demo.txt").read_text(encoding="utf-8")
    schedule = parse_schedule(text)
    assert "演示数据" in schedule.source and "国务院办公厅" not in schedule.source
    assert seed_demo_calendars() == 0     # 2027 is already known (the fixture): never replaced
    row = db.session.execute(select(CalendarYear).where(CalendarYear.year == 2027)).scalar_one()
    db.session.delete(row)
    db.session.flush()
    assert seed_demo_calendars() == 1 + len(schedule.days)
    row = db.session.execute(select(CalendarYear).where(CalendarYear.year == 2027)).scalar_one()
    assert "演示数据" in row.source
    db.session.rollback()


# --- the deadlines of docs/DOMAIN.md §3 across the 2027 fixture holidays ---------------------------

def test_the_challenge_period_runs_across_the_spring_festival(cal_2027):
    """Published Thu 4 Feb 2027: the 1-working-day publicity ends Mon 15 Feb (春节 5–12 Feb); the 7
    working days are 16, 17, 18, 19, 20 (班), 22, 23 Feb."""
    from portal.tenders import deadlines
    assert deadlines.publicity_ends_on(date(2027, 2, 4), cal_2027) == date(2027, 2, 15)
    last = deadlines.challenge_until(date(2027, 2, 4), cal_2027)
    assert last == date(2027, 2, 23)
    assert cal_2027.working_days_between(date(2027, 2, 15), date(2027, 2, 22)) == 6     # the day before: 6
    assert cal_2027.working_days_between(date(2027, 2, 15), last) == 7                  # the day: 7
    assert cal_2027.working_days_between(date(2027, 2, 15), date(2027, 2, 24)) == 8     # the day after: late
    # a challenge received on 4 Feb is answered within 7 working days: 15–19, 20 (班), 22 Feb
    assert deadlines.challenge_answer_due(date(2027, 2, 4), cal_2027) == date(2027, 2, 22)


def test_the_result_and_contract_notices_count_across_new_year(cal_2027):
    from portal.tenders import deadlines
    assert deadlines.award_deadlines(date(2026, 12, 31), cal_2027).publish_by == date(2027, 1, 5)
    assert deadlines.contract_publish_by(date(2026, 12, 30), cal_2027) == date(2027, 1, 4)
    assert deadlines.contract_publish_by(date(2026, 12, 31), cal_2027) == date(2027, 1, 5)


def test_the_negotiation_clarification_lead_skips_the_spring_festival(cal_2027):
    """3 working days before a deadline on Tue 16 Feb 2027: 15 Feb, then 4 and 3 Feb."""
    from datetime import datetime, timezone

    from portal.tenders import deadlines
    deadline = datetime(2027, 2, 16, 1, 30, tzinfo=timezone.utc)
    assert deadlines.clarification_due_on(deadline, cal_2027, "competitive_negotiation") == date(2027, 2, 3)
    assert deadlines.clarification_due_on(deadline, cal_2027, "open_tender") == date(2027, 2, 1)   # 15 days
    # a clarification issued on 4 Feb (one working day too late) moves the deadline 3 working days on
    moved = deadlines.clarified_deadline(datetime(2027, 2, 4, 2, 0, tzinfo=timezone.utc), deadline, cal_2027,
                                         "competitive_negotiation")
    assert deadlines.local_date(moved) == date(2027, 2, 17)
    issued_in_time = datetime(2027, 2, 3, 2, 0, tzinfo=timezone.utc)
    assert deadlines.clarified_deadline(issued_in_time, deadline, cal_2027, "competitive_negotiation") == deadline


def test_a_bid_deadline_on_new_years_day_2027_is_refused(cal_2027):
    from datetime import datetime, timezone

    from portal.core.errors import DomainError
    from portal.tenders import deadlines
    with pytest.raises(DomainError) as refused:
        deadlines.check_timetable("open_tender", date(2026, 12, 1), date(2026, 12, 1), date(2026, 12, 10),
                                  datetime(2027, 1, 1, 1, 30, tzinfo=timezone.utc), cal_2027,
                                  intention_published_on=date(2026, 10, 1))
    assert "2027-01-01" in refused.value.errors["bid_deadline"]
    deadlines.check_timetable("open_tender", date(2026, 12, 1), date(2026, 12, 1), date(2026, 12, 10),
                              datetime(2027, 1, 4, 1, 30, tzinfo=timezone.utc), cal_2027,
                              intention_published_on=date(2026, 10, 1))


def test_importing_a_year_again_replaces_its_days(app, demo, english):
    from portal.tenancy.calendar_store import import_schedule
    from portal.tenancy.workdays import stored_schedules
    replacement = parse_schedule("# source: 国务院办公厅通知（测试，替换）\n2027-01-01 休 元旦\n2027-02-11 休 春节\n")
    row, replaced = import_schedule(replacement, "tests")
    assert replaced and row.source == "国务院办公厅通知（测试，替换）"
    schedule = stored_schedules()[2027]
    assert set(schedule.days) == {date(2027, 1, 1), date(2027, 2, 11)}
    assert Calendar(schedules={2027: schedule}).is_working_day(date(2027, 2, 8))   # no longer a holiday
    db.session.rollback()
