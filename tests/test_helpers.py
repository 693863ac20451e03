"""Money in fen, times in UTC shown in Beijing, working days on the bureau's calendar."""
from datetime import date, datetime, timezone

import pytest

from portal.core.money import format_fen, parse_yuan
from portal.core.timeutil import format_local, local_midnight_utc, parse_iso_datetime
from portal.core.workdays import Calendar, add_working_days


def test_fen_shown_as_yuan_with_two_decimals():
    assert format_fen(0) == "0.00"
    assert format_fen(5) == "0.05"
    assert format_fen(123456789) == "1,234,567.89"
    assert format_fen(-150, symbol=True) == "¥-1.50"


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        format_fen(1.5)


@pytest.mark.parametrize("text,fen", [("12", 1200), ("12.3", 1230), ("1,234.56", 123456), ("¥0.07", 7), ("-3.10", -310)])
def test_yuan_parsed_to_exact_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("bad", ["1.234", "abc", "", "1e3", "12.3.4"])
def test_bad_amounts_are_refused(bad):
    with pytest.raises(ValueError):
        parse_yuan(bad)


def test_utc_times_shown_in_beijing():
    assert format_local(datetime(2026, 9, 30, 16, 30, tzinfo=timezone.utc)) == "2026-10-01 00:30"
    assert local_midnight_utc(date(2026, 10, 1)) == datetime(2026, 9, 30, 16, 0, tzinfo=timezone.utc)


def test_times_without_offset_are_refused():
    assert parse_iso_datetime("2026-11-29T09:30:00+08:00") == datetime(2026, 11, 29, 1, 30, tzinfo=timezone.utc)
    assert parse_iso_datetime("2026-11-29T01:30:00Z").tzinfo == timezone.utc
    with pytest.raises(ValueError):
        parse_iso_datetime("2026-11-29T09:30:00")


# 2026 National Day: 1–7 October off; Sunday 20 September and Saturday 10 October are make-up
# working days (调休).
def test_national_day_holiday_is_skipped():
    cal = Calendar()
    assert not cal.is_working_day(date(2026, 10, 1))
    assert not cal.is_working_day(date(2026, 10, 7))
    # Two working days after Wednesday 30 September: 8 October (Thu) and 9 October (Fri).
    assert add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 9)


def test_make_up_saturday_counts_as_a_working_day():
    cal = Calendar()
    assert cal.is_working_day(date(2026, 10, 10))  # a Saturday
    assert cal.add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)
    assert cal.is_working_day(date(2026, 9, 20))  # a Sunday
    assert cal.add_working_days(date(2026, 9, 19), 1) == date(2026, 9, 20)


def test_ordinary_weekend_is_skipped():
    # Friday 13 November 2026 + 1 working day = Monday 16 November.
    assert add_working_days(date(2026, 11, 13), 1) == date(2026, 11, 16)


def test_counting_backwards_and_between():
    cal = Calendar()
    assert cal.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert cal.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_bureau_override_beats_the_national_calendar():
    cal = Calendar({date(2026, 10, 9): False, date(2026, 10, 11): True})
    assert cal.add_working_days(date(2026, 10, 8), 1) == date(2026, 10, 10)
    assert cal.add_working_days(date(2026, 10, 10), 1) == date(2026, 10, 11)


def test_tenant_calendar_reads_the_bureau_overrides(app, demo):
    from portal.tenancy.workdays import tenant_calendar
    from portal.extensions import db
    from portal.tenancy.models import CalendarOverride
    from portal.tenancy.scope import tenant_scope
    gx, zg = demo.tenant_id("ganxian"), demo.tenant_id("zhanggong")
    with app.app_context():
        with tenant_scope(gx):
            db.session.add(CalendarOverride(day=date(2026, 10, 9), is_working=False, note="区级调整"))
            db.session.commit()
            assert tenant_calendar().add_working_days(date(2026, 10, 8), 1) == date(2026, 10, 10)
        with tenant_scope(zg):
            assert tenant_calendar().add_working_days(date(2026, 10, 8), 1) == date(2026, 10, 9)


def test_a_refusal_lands_on_the_fields_it_names_or_on_the_default_field(app):
    from flask_wtf import FlaskForm
    from wtforms import StringField

    from portal.core.errors import DomainError
    from portal.core.forms import show_refusal

    class Form(FlaskForm):
        class Meta:
            csrf = False
        code = StringField()
        admin_username = StringField()

    with app.test_request_context():
        form = Form()
        show_refusal(form, DomainError("taken", {"username": ["已被使用"], "code": "编码重复"}),
                     "code", aliases={"username": "admin_username"})
        assert form.admin_username.errors == ["已被使用"] and form.code.errors == ["编码重复"]
        form = Form()
        assert show_refusal(form, DomainError("整体拒绝"), "code") and form.code.errors == ["整体拒绝"]
        form = Form()
        show_refusal(form, DomainError("x", {"nowhere": ["无对应字段"]}), "code")
        assert form.code.errors == ["无对应字段"]
        assert not show_refusal(Form(), DomainError("no default"))


@pytest.mark.parametrize("text, expected", [("12", 12), (" 7 ", 7), ("x", None), ("²", None), ("١٢", None),
                                            (str(2**40), None), ("0", None), ("-1", None), ("", None), (None, None)])
def test_a_chosen_id_is_ascii_digits_within_the_id_range(text, expected):
    """A select's value as typed into the request: "²".isdigit() is true but int("²") fails."""
    from portal.core.query import chosen_id
    assert chosen_id(text) == expected


@pytest.mark.parametrize("part, whole, text", [(1, 8, "12.50"), (1, 3, "33.33"), (2, 3, "66.67"), (0, 5, "0.00"),
                                               (5, 5, "100.00"), (1, 0, ""), (1, 200_000, "0.00"), (1, 20_000, "0.01")])
def test_a_share_as_a_percentage_rounds_half_up_in_integers(part, whole, text):
    from portal.core.numbers import percent_text
    assert percent_text(part, whole) == text
