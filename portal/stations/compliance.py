"""Monthly staffing compliance of stations (docs/DOMAIN.md §6 "Stations and training", §8), computed
— never stored — from the postings, the counted check-ins and the bureau's working days, for the
pages, the API and settlement alike.

For one station and month:

- the stations: the active ones, and a closed one (``active`` False) that had a worker posted
  during the month (a posting from its first day to its last overlapping the month), so that
  closing a station never rewrites the months it was staffed;
- a station without a staffing contract requires no staff: it has no days (the pages say "no
  staffing contract" rather than 0 %);
- the days counted are the month's working days on the bureau's calendar (weekends, public holidays
  and the bureau's own non-working days excluded; 调休 working days included), from the day the
  station opened (``opened_on``), within the staffing contract's dates, up to ``through`` (by default yesterday: the current
  month so far, today not counted before it is over), and for a closed station up to the last day anyone was posted there;
- the staff required on a day is the requirement in force that day (StationRequirement: the
  latest row from that day or before; before the first row, the first row's; a station with no
  rows, its ``required_staff``): a change of required staff takes effect from its day and never
  rewrites the days before it; staff-days required = the sum over the days;
- a worker is present on a day with a counted check-in at the station that day (status "counted"
  or "accepted") while posted there; when the station has a staffing contract, only the postings
  of that contract's contractor's roster members count (a station given to another contract never
  credits one contractor with the other's presence); per day at most that day's requirement count, so
  extra staff one day never make up for a short day;
- staff-days missing = required − present; ``short_days`` lists each day below the requirement
  with its figures: the days behind the deduction;
- compliance = present / required (None when nothing is required, e.g. a month of holidays).

A year the calendar does not know raises the calendar's own DomainError."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import Select, select

from portal.contractors.models import StaffMember
from portal.core.errors import DomainError
from portal.core.months import first_day, last_day
from portal.core.timeutil import local_today
from portal.core.workdays import UnknownCalendarYear
from portal.extensions import db
from portal.stations.models import COUNTED_STATUSES, Station, StationCheckIn, StationPosting, StationRequirement
from portal.stations.postings import covers, posted_during
from portal.tenancy.workdays import tenant_calendar


@dataclass
class StationMonth:
    """One station's staffing in one month (see the module docstring)."""
    station: Station
    month: date                                        # the month's first day
    days: list = field(default_factory=list)           # the working days counted
    present_by_day: dict = field(default_factory=dict)  # {day: staff present, capped at the requirement}
    required_by_day: dict = field(default_factory=dict)  # {day: the staff required that day}

    @property
    def required_staff(self):
        """The staff required on the month's last counted day (the station's present value when
        no day is counted)."""
        return self.required_by_day.get(self.days[-1], self.station.required_staff) if self.days \
            else self.station.required_staff

    def required_on(self, day):
        return self.required_by_day.get(day, self.station.required_staff)

    @property
    def staff_days_required(self):
        return sum(self.required_on(day) for day in self.days)

    @property
    def staff_days_present(self):
        return sum(self.present_by_day.get(day, 0) for day in self.days)

    @property
    def staff_days_missing(self):
        return self.staff_days_required - self.staff_days_present

    @property
    def short_days(self):
        """[{"day": "YYYY-MM-DD", "present": n, "required": r}] of the days below the requirement."""
        return [{"day": day.isoformat(), "present": self.present_by_day.get(day, 0), "required": self.required_on(day)}
                for day in self.days if self.present_by_day.get(day, 0) < self.required_on(day)]

    @property
    def compliance(self):
        """present / required as a Fraction, None when nothing was required."""
        if not self.staff_days_required:
            return None
        return Fraction(self.staff_days_present, self.staff_days_required)


def _days(station, month, calendar, through, last_posted=None):
    """The working days counted for ``station`` in ``month`` (see the module docstring);
    ``last_posted``: the last day anyone is posted to a closed station (None: no end)."""
    if station.contract is None:
        return []  # no staffing contract: no staff required
    start = max(first_day(month), station.opened_on, station.contract.starts_on)
    end = min(last_day(month), station.contract.ends_on, through)
    if not station.active and last_posted is not None:
        end = min(end, last_posted)
    days, day = [], start
    while day <= end:
        if _working(calendar, day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _working(calendar, day):
    """Is ``day`` a working day? A year the calendar does not know: its DomainError (month)."""
    try:
        return calendar.is_working_day(day)
    except UnknownCalendarYear as exc:
        raise DomainError(exc.message, {"month": [exc.message]}) from None


def _last_posted(station_ids):
    """{closed station id: the last day anyone is posted there, None when a posting is open-ended}."""
    found = {}
    for station_id, until_on in db.session.execute(
            select(StationPosting.station_id, StationPosting.until_on)
            .where(StationPosting.station_id.in_(station_ids))):
        if station_id in found and found[station_id] is None:
            continue
        found[station_id] = None if until_on is None else max(until_on, found.get(station_id) or until_on)
    return found


def requirements(station_ids):
    """{station id: [(from_on, required staff)] in date order} of the stations' requirement rows."""
    found = defaultdict(list)
    for station_id, from_on, required in db.session.execute(
            select(StationRequirement.station_id, StationRequirement.from_on, StationRequirement.required_staff)
            .where(StationRequirement.station_id.in_(station_ids)).order_by(StationRequirement.from_on)):
        found[station_id].append((from_on, required))
    return found


def required_on(station, rows, day):
    """The staff ``station`` requires on ``day`` by its requirement ``rows`` (see the docstring)."""
    if not rows:
        return station.required_staff
    in_force = rows[0][1]
    for from_on, required in rows:
        if from_on > day:
            break
        in_force = required
    return in_force


def stations_month(month, *, contract_id=None, station_ids=None, through=None, calendar=None):
    """A StationMonth per station of the bureau in ``month`` — the active ones and the closed ones
    someone was posted to during the month — narrowed to a staffing contract or to some stations
    (ids, or a select of them), in code order. The pages, the API and settlement all ask this.
    At most four queries whatever the number of stations."""
    start, end = first_day(month), last_day(month)
    staffed = select(StationPosting.station_id).where(posted_during(start, end))
    query = select(Station).where(Station.active.is_(True) | Station.id.in_(staffed))
    if contract_id is not None:
        query = query.where(Station.contract_id == contract_id)
    if station_ids is not None:
        query = query.where(Station.id.in_(station_ids if isinstance(station_ids, Select) else list(station_ids)))
    stations = db.session.scalars(query.order_by(Station.code)).all()
    return _months(stations, month, through, calendar)


def _months(stations, month, through, calendar):
    if not stations:
        return []
    calendar = calendar or tenant_calendar()
    through = through or local_today() - timedelta(days=1)  # today is not over: not counted yet
    start, end = first_day(month), last_day(month)
    _working(calendar, start)  # a year the calendar does not know is said, whatever the stations' dates
    ids = [station.id for station in stations]
    # only the staffing contractor's own roster members count at a station with a contract
    contractor_of = {station.id: station.contract.contractor_id for station in stations if station.contract is not None}
    postings = defaultdict(list)
    for station_id, staff_id, from_on, until_on, contractor_id in db.session.execute(
            select(StationPosting.station_id, StationPosting.staff_id, StationPosting.from_on, StationPosting.until_on,
                   StaffMember.contractor_id)
            .join(StaffMember, StaffMember.id == StationPosting.staff_id)
            .where(StationPosting.station_id.in_(ids), posted_during(start, end))):
        if contractor_of.get(station_id, contractor_id) == contractor_id:
            postings[(station_id, staff_id)].append((from_on, until_on))
    present = defaultdict(set)
    for station_id, staff_id, day in db.session.execute(
            select(StationCheckIn.station_id, StationCheckIn.staff_id, StationCheckIn.day)
            .where(StationCheckIn.station_id.in_(ids), StationCheckIn.status.in_(COUNTED_STATUSES),
                   StationCheckIn.day >= start, StationCheckIn.day <= end)):
        if any(covers(from_on, until_on, day) for from_on, until_on in postings.get((station_id, staff_id), ())):
            present[(station_id, day)].add(staff_id)
    closed = [station.id for station in stations if not station.active]
    last_posted = _last_posted(closed) if closed else {}
    rows = requirements(ids)
    result = []
    for station in stations:
        days = _days(station, month, calendar, through, last_posted.get(station.id))
        required = {day: required_on(station, rows.get(station.id), day) for day in days}
        counts = {day: min(len(present[(station.id, day)]), required[day]) for day in days}
        result.append(StationMonth(station, start, days, counts, required))
    return result


def station_month(station, month, *, through=None, calendar=None):
    """The StationMonth of one station (its own page: shown even when closed, then with no days
    after the last day anyone was posted there)."""
    return _months([station], month, through, calendar)[0]
