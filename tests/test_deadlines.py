"""The legal timetable of §3 on the working-day calendar, around the 2026 National Day holiday:
1–7 October off, Sunday 20 September and Saturday 10 October make-up working days (and
Friday 25 September, Mid-Autumn, off)."""
from datetime import date, datetime, time, timedelta

import pytest

from portal.core.errors import DomainError
from portal.core.timeutil import LOCAL_TZ
from portal.core.workdays import Calendar
from portal.tenders import deadlines

NATIONAL = Calendar()


def at(day, clock=time(9, 30)):
    return datetime.combine(day, clock, tzinfo=LOCAL_TZ)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def test_the_calendar_knows_the_2026_national_day_holiday():
    assert not NATIONAL.is_working_day(date(2026, 10, 1)) and not NATIONAL.is_working_day(date(2026, 10, 7))
    assert NATIONAL.is_working_day(date(2026, 9, 20)) and NATIONAL.is_working_day(date(2026, 10, 10))


def test_award_confirmed_on_30_september_is_published_by_9_october_and_challenged_until_20_october():
    publish_by, challenge_until = deadlines.award_deadlines(date(2026, 9, 30), NATIONAL)
    assert publish_by == date(2026, 10, 9)        # 8 and 9 October: the 2 working days after the holiday
    # publicity: Sat 10 October (make-up); then 7 working days: 12, 13, 14, 15, 16, 19, 20 October
    assert challenge_until == date(2026, 10, 20)


def test_challenge_period_counts_from_the_day_the_result_actually_went_out():
    result = deadlines.award_deadlines(date(2026, 9, 30), NATIONAL, published_on=date(2026, 9, 30))
    assert result.publish_by == date(2026, 10, 9)
    # published the same day: publicity on 8 October; then 9, 10 (Saturday, make-up), 12, 13, 14,
    # 15, 16 October
    assert result.challenge_until == date(2026, 10, 16)


def test_a_bureau_override_moves_the_award_deadline():
    bureau = Calendar({date(2026, 10, 8): False})  # the bureau's own day off
    assert deadlines.award_deadlines(date(2026, 9, 30), bureau).publish_by == date(2026, 10, 10)


def test_the_result_stays_up_one_working_day_a_make_up_saturday_counts():
    assert deadlines.result_stays_up_until(date(2026, 10, 9), NATIONAL) == date(2026, 10, 10)


def test_contract_signed_within_30_days_of_the_award_notice_and_published_2_working_days_after():
    assert deadlines.contract_sign_by(date(2026, 10, 9)) == date(2026, 11, 8)
    assert deadlines.contract_publish_by(date(2026, 9, 29), NATIONAL) == date(2026, 10, 8)


def test_open_tender_bid_deadline_is_at_least_20_days_after_the_documents():
    assert deadlines.earliest_bid_deadline(date(2026, 9, 1), "open_tender", NATIONAL) == date(2026, 9, 21)
    # 20 days after 15 September is 5 October, a holiday: the next working day, 8 October
    assert deadlines.earliest_bid_deadline(date(2026, 9, 15), "open_tender", NATIONAL) == date(2026, 10, 8)


def test_competitive_consultation_bid_deadline_is_at_least_10_days_after_the_documents():
    assert deadlines.earliest_bid_deadline(date(2026, 9, 1), "competitive_consultation", NATIONAL) == date(2026, 9, 11)
    # 10 days after 25 September is 5 October: moved to 8 October
    assert deadlines.earliest_bid_deadline(date(2026, 9, 25), "competitive_consultation", NATIONAL) == date(2026, 10, 8)


def _check(method, documents_from, documents_until, deadline_day, notice_on=None, intention_on=date(2026, 7, 1)):
    deadlines.check_timetable(method, notice_on or documents_from, documents_from, documents_until,
                              at(deadline_day), NATIONAL, intention_published_on=intention_on)


def test_a_19_day_open_tender_window_is_refused_and_20_days_accepted(ctx):
    with pytest.raises(DomainError) as refused:
        _check("open_tender", date(2026, 9, 1), date(2026, 9, 8), date(2026, 9, 20))  # a make-up Sunday, 19 days
    assert "2026-09-21" in refused.value.message and "bid_deadline" in refused.value.errors
    _check("open_tender", date(2026, 9, 1), date(2026, 9, 8), date(2026, 9, 21))


def test_a_9_day_consultation_window_is_refused_and_10_days_accepted(ctx):
    with pytest.raises(DomainError) as refused:
        _check("competitive_consultation", date(2026, 9, 1), date(2026, 9, 8), date(2026, 9, 10))
    assert "2026-09-11" in refused.value.message
    _check("competitive_consultation", date(2026, 9, 1), date(2026, 9, 8), date(2026, 9, 11))


def test_a_bid_deadline_on_a_holiday_is_refused(ctx):
    with pytest.raises(DomainError) as refused:
        _check("open_tender", date(2026, 9, 1), date(2026, 9, 8), date(2026, 10, 6))
    assert "2026-10-06" in refused.value.message


def test_documents_are_available_for_at_least_5_working_days_across_the_holiday(ctx):
    # From Monday 28 September: 28, 29, 30 September, 8 and 9 October
    assert deadlines.documents_available_until(date(2026, 9, 28), NATIONAL) == date(2026, 10, 9)
    with pytest.raises(DomainError) as refused:
        _check("open_tender", date(2026, 9, 28), date(2026, 10, 8), date(2026, 10, 19))
    assert "documents_until" in refused.value.errors
    _check("open_tender", date(2026, 9, 28), date(2026, 10, 9), date(2026, 10, 19))


def test_the_tender_notice_comes_at_least_30_days_after_the_purchase_intention(ctx):
    assert deadlines.earliest_notice_date(date(2026, 8, 1)) == date(2026, 8, 31)
    with pytest.raises(DomainError) as refused:
        _check("open_tender", date(2026, 8, 30), date(2026, 9, 7), date(2026, 9, 21), intention_on=date(2026, 8, 1))
    assert "2026-08-31" in refused.value.message and "intention" in refused.value.errors
    _check("open_tender", date(2026, 8, 31), date(2026, 9, 7), date(2026, 9, 21), intention_on=date(2026, 8, 1))
    with pytest.raises(DomainError):
        _check("open_tender", date(2026, 8, 31), date(2026, 9, 7), date(2026, 9, 21), intention_on=None)


def test_a_clarification_10_days_before_the_deadline_moves_it_to_15_days_after_the_clarification():
    deadline = at(date(2026, 11, 20))
    moved = deadlines.clarified_deadline(at(date(2026, 11, 10), time(15, 0)), deadline, NATIONAL)
    assert moved == at(date(2026, 11, 25))  # same clock time, 15 days after the clarification


def test_a_clarification_15_days_before_the_deadline_leaves_it():
    deadline = at(date(2026, 11, 20))
    assert deadlines.clarified_deadline(at(date(2026, 11, 5), time(17, 0)), deadline, NATIONAL) == deadline


def test_a_moved_deadline_that_would_fall_in_the_holiday_goes_to_the_next_working_day():
    moved = deadlines.clarified_deadline(at(date(2026, 9, 20)), at(date(2026, 9, 28)), NATIONAL)
    assert moved == at(date(2026, 10, 8))  # 20 September + 15 days = 5 October, a holiday


# The challenge period runs 7 working days from the END of the 1-working-day publicity period
# (实施条例 §53(3), 87号令 §69): published on Sunday 6 December 2026, publicity ends Monday 7th,
# challenges are accepted through Wednesday 16th — the 15th would cut the period by a day.
@pytest.mark.parametrize("published_on, until", [
    (date(2026, 12, 4), date(2026, 12, 16)),   # Friday: publicity Mon 7th, then 8–11, 14–16
    (date(2026, 12, 6), date(2026, 12, 16)),   # the case
    (date(2026, 12, 7), date(2026, 12, 17)),
    (date(2026, 9, 29), date(2026, 10, 15)),   # publicity 30 Sep; 8, 9, 10 (make-up), 12–15 Oct
])
def test_challenges_run_seven_working_days_after_the_publicity_period(published_on, until):
    assert deadlines.challenge_until(published_on, NATIONAL) == until
    assert deadlines.award_deadlines(published_on, NATIONAL, published_on=published_on).challenge_until == until


@pytest.mark.parametrize("received_on, due", [
    (date(2026, 12, 3), date(2026, 12, 14)),   # Thursday: 4, 7, 8, 9, 10, 11, 14
    (date(2026, 12, 4), date(2026, 12, 15)),
    (date(2026, 12, 5), date(2026, 12, 15)),   # a Saturday counts from the next working days
    (date(2026, 9, 28), date(2026, 10, 13)),   # across National Day: 29, 30 Sep, 8, 9, 10, 12, 13 Oct
])
def test_a_challenge_is_answered_within_seven_working_days(received_on, due):
    assert deadlines.challenge_answer_due(received_on, NATIONAL) == due


@pytest.mark.parametrize("method, deadline_day, due_on", [
    ("open_tender", date(2026, 11, 20), date(2026, 11, 5)),
    ("invited_tender", date(2026, 11, 20), date(2026, 11, 5)),
    ("competitive_consultation", date(2026, 11, 20), date(2026, 11, 15)),
    ("competitive_negotiation", date(2026, 11, 20), date(2026, 11, 17)),   # 3 working days: 17, 18, 19
    ("request_for_quotation", date(2026, 11, 23), date(2026, 11, 18)),     # Monday: 19, 20, 23 counted
    ("competitive_negotiation", date(2026, 10, 9), date(2026, 9, 29)),     # across National Day
])
def test_the_clarification_lead_depends_on_the_method(method, deadline_day, due_on):
    deadline = at(deadline_day)
    assert deadlines.clarification_due_on(deadline, NATIONAL, method) == due_on
    on_time = at(due_on, time(17, 0))
    assert deadlines.clarified_deadline(on_time, deadline, NATIONAL, method) == deadline
    late = at(due_on + timedelta(days=1), time(9, 0))
    assert deadlines.clarified_deadline(late, deadline, NATIONAL, method) > deadline


def test_a_late_consultation_clarification_moves_the_deadline_five_days_and_a_negotiation_three_working_days():
    deadline = at(date(2026, 11, 20))
    assert deadlines.clarified_deadline(at(date(2026, 11, 17)), deadline, NATIONAL,
                                        "competitive_consultation") == at(date(2026, 11, 23))  # 22nd is a Sunday
    assert deadlines.clarified_deadline(at(date(2026, 11, 19)), deadline, NATIONAL,
                                        "competitive_negotiation") == at(date(2026, 11, 24))


@pytest.mark.parametrize("starts_on, first_decision_day", [
    (date(2026, 12, 7), date(2026, 12, 15)),   # published Mon 7: 8–11 and 14 publicised, decided 15th at the earliest
    (date(2026, 12, 4), date(2026, 12, 14)),   # published Fri 4: 7–11 publicised
    (date(2026, 12, 5), date(2026, 12, 14)),   # a Saturday publication counts from Monday
    (date(2026, 9, 28), date(2026, 10, 12)),   # 29, 30 Sep, 8, 9, 10 Oct (a make-up Saturday); then Mon 12
])
def test_single_source_reasons_are_publicised_five_working_days_before_the_decision(starts_on, first_decision_day):
    assert deadlines.single_source_decision_from(starts_on, NATIONAL) == first_decision_day


@pytest.mark.parametrize("notice_on, last_day", [
    (date(2026, 9, 8), date(2026, 10, 8)),    # day 30 is 8 October, a working day
    (date(2026, 9, 1), date(2026, 10, 8)),    # day 30 is 1 October (National Day): the next working day
    (date(2026, 9, 9), date(2026, 10, 9)),
])
def test_a_thirtieth_day_off_moves_the_signing_deadline_to_the_next_working_day(notice_on, last_day):
    assert deadlines.contract_sign_by(notice_on, NATIONAL) == last_day
    assert deadlines.contract_sign_by(notice_on) == notice_on + timedelta(days=30)  # no calendar: day 30
