"""The one month module (portal/core/months.py): a month is given as a date in it or as its
"YYYY-MM" text, and comes back as its first day."""
from datetime import date, datetime, timezone

import pytest

from portal.core import months
from portal.core.errors import DomainError


@pytest.mark.parametrize("given", ["2026-02", " 2026-02 ", date(2026, 2, 1), date(2026, 2, 17)])
def test_a_month_is_given_as_text_or_as_a_day_in_it(given):
    assert months.first_day(given) == date(2026, 2, 1)
    assert months.month_text(given) == "2026-02"
    assert months.next_month(given) == date(2026, 3, 1)
    assert months.previous_month(given) == date(2026, 1, 1)
    assert months.last_day(given) == date(2026, 2, 28)
    assert months.month_days(given) == (date(2026, 2, 1), date(2026, 2, 28))


def test_year_ends_and_leap_years():
    assert months.next_month(date(2026, 12, 31)) == date(2027, 1, 1)
    assert months.previous_month("2027-01") == date(2026, 12, 1)
    assert months.last_day("2028-02") == date(2028, 2, 29)


def test_bounds_are_beijing_midnights_in_utc():
    start, end = months.month_bounds("2026-11")
    assert (start, end) == (datetime(2026, 10, 31, 16, tzinfo=timezone.utc),
                            datetime(2026, 11, 30, 16, tzinfo=timezone.utc))
    assert months.month_bounds(date(2026, 11, 30)) == (start, end)


@pytest.mark.parametrize("text", ["2026-13", "2026-1", "1999-12", "２０２６-10", "2026-01-01", "", None])
def test_malformed_text_is_one_domain_error_everywhere(text):
    for use in (months.parse_month, months.month_text, months.month_bounds, months.next_month):
        with pytest.raises(DomainError) as refused:
            use(text)
        assert "month" in refused.value.errors
    assert months.month_or_none(text) is None


def test_recent_months_newest_first():
    assert months.recent_months(date(2026, 2, 14), 3) == [date(2026, 2, 1), date(2026, 1, 1), date(2025, 12, 1)]
