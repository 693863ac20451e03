"""Postings of roster members to stations (docs/DOMAIN.md §6 "Stations and training"): the
staffing contract's manager (for its own stations) or an officer posts a member of the contract's
contractor, from a day until a day (inclusive; open-ended while no end is known), and ends a
posting.

The rules: the station has a staffing contract; the person is on that contractor's roster over
all the dates; the dates lie within the contract's period; nobody is posted twice on one day
(to two stations, or twice to one). A check-in counts only on a day its worker is posted there."""
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from portal.contractors.models import StaffMember
from portal.core import query
from portal.core.errors import DomainError, NotFound
from portal.extensions import db
from portal.stations.models import StationPosting


def posted_during(first, last):
    """The condition on StationPosting "posted on some day of ``first`` … ``last``" (inclusive;
    ``last`` None: on ``first`` or any day after). The one definition of being posted on a day:
    ``posted_during(day, day)``."""
    running = or_(StationPosting.until_on.is_(None), StationPosting.until_on >= first)
    return running if last is None else and_(StationPosting.from_on <= last, running)


def covers(from_on, until_on, day):
    """Does a posting from ``from_on`` until ``until_on`` (None: open-ended) cover ``day``? The
    same rule as ``posted_during``, on values already read."""
    return from_on <= day and (until_on is None or day <= until_on)


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


def postable_staff(station):
    """The roster members of the station's staffing contractor who are on its roster now or
    were on it during the contract, by name (the form's choices); none without a contract."""
    contract = station.contract
    if contract is None:
        return []
    return db.session.execute(select(StaffMember).where(
        StaffMember.contractor_id == contract.contractor_id, StaffMember.joined_on <= contract.ends_on,
        (StaffMember.left_on.is_(None)) | (StaffMember.left_on >= contract.starts_on))
        .order_by(StaffMember.name, StaffMember.id)).scalars().all()


def _overlapping(staff_id, from_on, until_on, leave_out=None):
    """The posting of ``staff_id`` (at any station of the bureau) that shares a day with
    ``from_on`` … ``until_on`` (None: open-ended), if any; ``leave_out`` is a posting id not to count."""
    stmt = select(StationPosting).where(StationPosting.staff_id == staff_id, posted_during(from_on, until_on))
    if leave_out is not None:
        stmt = stmt.where(StationPosting.id != leave_out)
    return db.session.execute(stmt.order_by(StationPosting.from_on).limit(1)).scalar_one_or_none()


def _check_dates(station, staff, from_on, until_on):
    contract = station.contract
    if until_on is not None and until_on < from_on:
        _refuse("until_on", _("The last day is before the first."))
    outside = ("from_on" if not contract.starts_on <= from_on <= contract.ends_on
               else "until_on" if until_on is not None and until_on > contract.ends_on else None)
    if outside:
        _refuse(outside, _("Post within the staffing contract's period, %(start)s to %(end)s.",
                           start=contract.starts_on.isoformat(), end=contract.ends_on.isoformat()))
    if staff.joined_on > from_on or (staff.left_on is not None and (until_on is None or staff.left_on < until_on)):
        _refuse("staff", _("%(name)s is not on the contractor's roster over all these days (joined %(joined)s%(left)s).",
                           name=staff.name, joined=staff.joined_on.isoformat(),
                           left=_(", left %(day)s", day=staff.left_on.isoformat()) if staff.left_on else ""))


def post(station, staff_id, from_on, until_on, user):
    """Post the roster member ``staff_id`` to ``station`` from ``from_on`` until ``until_on``
    (inclusive, None: open-ended); returns the posting. Refusals name the form's field."""
    if station.contract is None:
        _refuse("staff", _("The station has no staffing contract: name one on the station first."))
    if not isinstance(from_on, date):
        _refuse("from_on", _("Give the first day."))
    # the person's row locked: two postings of one person at the same moment are made one after the other
    staff = db.session.execute(select(StaffMember).where(StaffMember.id == staff_id)
                               .with_for_update()).scalar_one_or_none() if staff_id else None
    if staff is None or staff.contractor_id != station.contract.contractor_id:
        _refuse("staff", _("Choose a member of the staffing contractor's roster."))
    _check_dates(station, staff, from_on, until_on)
    clash = _overlapping(staff.id, from_on, until_on)
    if clash is not None:
        _refuse("from_on", _("%(name)s is already posted to %(station)s from %(start)s%(end)s: one person is posted "
                             "to one station on a day.", name=staff.name, station=clash.station.name,
                             start=clash.from_on.isoformat(),
                             end=_(" until %(day)s", day=clash.until_on.isoformat()) if clash.until_on else ""))
    posting = StationPosting(station_id=station.id, staff_id=staff.id, from_on=from_on, until_on=until_on,
                             created_by_id=user.id)
    db.session.add(posting)
    db.session.flush()
    return posting


def posting_of(station, posting_id):
    """A posting of ``station`` (whose reader was already checked), else NotFound."""
    posting = db.session.execute(select(StationPosting).where(
        StationPosting.id == posting_id, StationPosting.station_id == station.id)).scalar_one_or_none() \
        if query.is_id(posting_id) else None
    if posting is None:
        raise NotFound(_("No such posting."))
    return posting


def end_posting(posting, last_day):
    """End ``posting`` on ``last_day`` (its last day posted, inclusive): not before its first day,
    never later than an end it already has (a posting is lengthened by a new one)."""
    if not isinstance(last_day, date):
        _refuse("last_day", _("Give the last day."))
    if last_day < posting.from_on:
        _refuse("last_day", _("The last day is before the posting's first day, %(day)s.",
                              day=posting.from_on.isoformat()))
    if posting.until_on is not None and last_day > posting.until_on:
        _refuse("last_day", _("The posting already ends on %(day)s.", day=posting.until_on.isoformat()))
    posting.until_on = last_day
    db.session.flush()
    return posting


def postings_on(station_ids, day):
    """{station id: [postings running on ``day``]}."""
    found = {}
    for posting in db.session.execute(select(StationPosting).where(
            StationPosting.station_id.in_(list(station_ids)), posted_during(day, day))).scalars():
        found.setdefault(posting.station_id, []).append(posting)
    return found


def station_postings(station):
    """Every posting of ``station``, the latest first."""
    return db.session.execute(select(StationPosting).where(StationPosting.station_id == station.id)
                              .order_by(StationPosting.from_on.desc(), StationPosting.id.desc())).scalars().all()

