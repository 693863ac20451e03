"""The legal timetable of a procurement (docs/DOMAIN.md §3) as pure date rules.

Every function takes dates and a ``Calendar`` (portal.core.workdays), never the database, so the
rules are unit-testable. "N days" are calendar days; "N working days" skip weekends and public
holidays and count make-up working days (调休). A period that would end on a day off ends on the
next working day instead (民法典 §203), because nobody can open bids or publish on a day off.
"""
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from flask_babel import gettext as _

from portal.core.errors import DomainError
from portal.core.workdays import UnknownCalendarYear
from portal.core.timeutil import LOCAL_TZ, to_local

INTENTION_LEAD_DAYS = 30          # 采购意向 at least 30 days before the tender notice
DOCUMENTS_AVAILABLE_WORKING_DAYS = 5
# The lead a clarification that changes the documents needs before the bid deadline, per method:
# 15 days for open and invited tender (87号令 §27), 5 days for competitive consultation
# (财库〔2014〕214号 §10), 3 working days for negotiation and request for quotation (74号令 §10).
CLARIFICATION_LEADS = {
    "open_tender": (15, "days"),
    "invited_tender": (15, "days"),
    "competitive_consultation": (5, "days"),
    "competitive_negotiation": (3, "working_days"),
    "request_for_quotation": (3, "working_days"),
    "single_source": (0, "days"),
}
RESULT_PUBLISH_WORKING_DAYS = 2   # award result within 2 working days of confirmation
RESULT_STAYS_UP_WORKING_DAYS = 1
CHALLENGE_WORKING_DAYS = 7        # 质疑 accepted for 7 working days after the publicity period
CHALLENGE_ANSWER_WORKING_DAYS = 7  # the bureau answers a challenge within 7 working days (政府采购法 §53)
SINGLE_SOURCE_PUBLICITY_WORKING_DAYS = 5  # 单一来源 reasons publicised first (实施条例 §38)
CONTRACT_SIGN_DAYS = 30           # contract signed within 30 days of the award notice
CONTRACT_PUBLISH_WORKING_DAYS = 2

# Shortest bid window per method, from the day the documents are first issued to the deadline:
# (amount, "days" or "working_days"). Tenders (open and invited) 20 days, competitive
# consultation 10 days; negotiation and quotation 3 working days; single source has no window.
BID_WINDOWS = {
    "open_tender": (20, "days"),
    "invited_tender": (20, "days"),
    "competitive_consultation": (10, "days"),
    "competitive_negotiation": (3, "working_days"),
    "request_for_quotation": (3, "working_days"),
    "single_source": (0, "days"),
}
# Methods whose documents are sold or issued for a period of at least 5 working days.
DOCUMENT_PERIOD_METHODS = ("open_tender", "invited_tender", "competitive_consultation")


def local_date(moment: datetime) -> date:
    """The Beijing calendar day of an aware instant."""
    return to_local(moment).date()


def at_local(day: date, clock: time) -> datetime:
    """An aware instant: ``day`` at ``clock`` Beijing time."""
    return datetime.combine(day, clock, tzinfo=LOCAL_TZ)


def on_or_after_working_day(day: date, calendar) -> date:
    """``day`` if it is a working day, else the next working day."""
    return calendar.add_working_days(day, 0)


def earliest_notice_date(intention_published_on: date) -> date:
    """The first day the tender notice may be published after the purchase intention."""
    return intention_published_on + timedelta(days=INTENTION_LEAD_DAYS)


def period_end(start: date, amount: int, unit: str, calendar) -> date:
    """The first working day a period of ``amount`` days or working days (``unit``) after
    ``start`` allows: N working days counted after ``start``, or N days moved off a day off."""
    if unit == "working_days":
        return calendar.add_working_days(start, amount)
    return on_or_after_working_day(start + timedelta(days=amount), calendar)


def earliest_bid_deadline(documents_from: date, method: str, calendar) -> date:
    """The first day the bid deadline may fall on for ``method`` (a working day)."""
    return period_end(documents_from, *BID_WINDOWS[method], calendar)


def documents_available_until(documents_from: date, calendar) -> date:
    """The last day of the shortest lawful document period: 5 working days counting the first."""
    first = on_or_after_working_day(documents_from, calendar)
    return calendar.add_working_days(first, DOCUMENTS_AVAILABLE_WORKING_DAYS - 1)


def check_timetable(method, notice_on, documents_from, documents_until, bid_deadline, calendar,
                    intention_published_on=None):
    """Refuse a tender timetable that breaks a rule of §3; returns None when it is lawful.

    ``notice_on`` is the day the notice goes out; ``bid_deadline`` an aware datetime."""
    errors = {}
    if intention_published_on is None:
        errors["intention"] = _("The purchase intention must be published before the tender notice.")
    elif notice_on < earliest_notice_date(intention_published_on):
        errors["intention"] = _(
            "The purchase intention was published on %(published)s; the tender notice may follow "
            "30 days later, on %(earliest)s at the earliest.",
            published=intention_published_on.isoformat(),
            earliest=earliest_notice_date(intention_published_on).isoformat())
    if documents_from is None or bid_deadline is None:
        errors["dates"] = _("Set the day the documents are first issued and the bid deadline.")
        raise DomainError(_("The tender timetable is incomplete."), errors)
    if documents_from < notice_on:
        errors["documents_from"] = _("The documents cannot be issued before the tender notice.")
    if method in DOCUMENT_PERIOD_METHODS:
        shortest = documents_available_until(documents_from, calendar)
        if documents_until is None or documents_until < shortest:
            errors["documents_until"] = _(
                "The documents must be available for at least 5 working days: until %(day)s at the earliest.",
                day=shortest.isoformat())
    deadline_day = local_date(bid_deadline)
    earliest = earliest_bid_deadline(documents_from, method, calendar)
    if deadline_day < earliest:
        amount, unit = BID_WINDOWS[method]
        errors["bid_deadline"] = _(
            "The bid deadline must be at least %(amount)s %(unit)s after the documents are first "
            "issued (%(issued)s): %(earliest)s at the earliest.",
            amount=amount, unit=_("working days") if unit == "working_days" else _("days"),
            issued=documents_from.isoformat(), earliest=earliest.isoformat())
    elif not calendar.is_working_day(deadline_day):
        errors["bid_deadline"] = _("The bid deadline falls on a day off (%(day)s); choose a working day.",
                                   day=deadline_day.isoformat())
    if documents_until is not None and documents_until < documents_from:
        errors["documents_until"] = _("The document period ends before it begins.")
    if errors:
        raise DomainError(" ".join(str(message) for message in errors.values()), errors)


def _clarification_lead(method):
    return CLARIFICATION_LEADS.get(method or "open_tender", CLARIFICATION_LEADS["open_tender"])


def clarification_due_on(bid_deadline: datetime, calendar, method: str = "open_tender") -> date:
    """The last day a clarification that changes the documents may come without moving the
    deadline: 15 or 5 days before it, or 3 working days before it, depending on the method."""
    amount, unit = _clarification_lead(method)
    deadline_day = local_date(bid_deadline)
    if unit == "working_days":
        return calendar.add_working_days(deadline_day, -amount)
    return deadline_day - timedelta(days=amount)


def clarified_deadline(issued_at: datetime, bid_deadline: datetime, calendar,
                       method: str = "open_tender") -> datetime:
    """The bid deadline after a clarification that changes the documents: unchanged when the
    clarification comes early enough for the method (``clarification_due_on``), else moved to the
    first lawful day after it (on a working day), at the same clock time."""
    issued_on = local_date(issued_at)
    if issued_on <= clarification_due_on(bid_deadline, calendar, method):
        return bid_deadline
    new_day = period_end(issued_on, *_clarification_lead(method), calendar)
    return at_local(new_day, to_local(bid_deadline).timetz().replace(tzinfo=None))


class AwardDeadlines(NamedTuple):
    publish_by: date        # the award result is published by this day
    challenge_until: date   # challenges are accepted up to and including this day


def publicity_ends_on(published_on: date, calendar) -> date:
    """The last day of the result's 1-working-day publicity period (公示期) that starts the day
    after publication."""
    return calendar.add_working_days(published_on, RESULT_STAYS_UP_WORKING_DAYS)


def challenge_until(published_on: date, calendar) -> date:
    """The last day a challenge is accepted: 7 working days counted from the end of the
    publicity period (实施条例 §53(3), 87号令 §69)."""
    return calendar.add_working_days(publicity_ends_on(published_on, calendar), CHALLENGE_WORKING_DAYS)


def award_deadlines(confirmed_on: date, calendar, published_on: date | None = None) -> AwardDeadlines:
    """From the day an award is confirmed: the result is published within 2 working days, and
    challenges are accepted for 7 working days after its publicity period (counted from
    ``published_on`` when known, else from the last lawful publication day)."""
    publish_by = calendar.add_working_days(confirmed_on, RESULT_PUBLISH_WORKING_DAYS)
    return AwardDeadlines(publish_by, challenge_until(published_on or publish_by, calendar))


def result_stays_up_until(published_on: date, calendar) -> date:
    """The award result may be taken down no earlier than the end of this day."""
    return publicity_ends_on(published_on, calendar)


def challenge_answer_due(received_on: date, calendar) -> date:
    """The bureau answers a challenge within 7 working days of receiving it (政府采购法 §53)."""
    return calendar.add_working_days(received_on, CHALLENGE_ANSWER_WORKING_DAYS)


def single_source_decision_from(publicity_starts_on: date, calendar) -> date:
    """The first day a single-source purchase may be decided: the working day after its reasons
    have been publicised for 5 working days (实施条例 §38), counted from the day after
    publication (民法典 §201), as the award result's publicity is."""
    return calendar.add_working_days(publicity_starts_on, SINGLE_SOURCE_PUBLICITY_WORKING_DAYS + 1)


def contract_sign_by(award_notice_on: date, calendar=None) -> date:
    """The contract is signed within 30 days of the award notice (87号令 §71); on a calendar, a
    30th day off moves the last day to the next working day (民法典 §203). A year the calendar
    cannot count leaves the 30th day itself, never later."""
    last_day = award_notice_on + timedelta(days=CONTRACT_SIGN_DAYS)
    if calendar is None:
        return last_day
    try:
        return on_or_after_working_day(last_day, calendar)
    except UnknownCalendarYear:
        return last_day


def contract_publish_by(signed_on: date, calendar) -> date:
    """The contract notice is published within 2 working days of signing."""
    return calendar.add_working_days(signed_on, CONTRACT_PUBLISH_WORKING_DAYS)
