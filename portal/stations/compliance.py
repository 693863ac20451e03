"""Monthly staffing compliance of stations (docs/DOMAIN.md §6 "Stations and training", §8), computed
— never stored — from the postings, the counted check-ins and the bureau's working days, for the
pages, the API and settlement alike.

For one station and month:

- the days counted are the month's working days on the bureau's calendar (weekends, public holidays
  and the bureau's own non-working days excluded; 调休 working days included), within the staffing
  contract's dates when the station has one, and up to ``through`` (by default today: the current
  month so far);
- staff-days required = the station's ``required_staff`` × those days;
- a worker is present on a day with a counted check-in at the station that day (status "counted"
  or "accepted") while posted there; when the station has a staffing contract, only the postings
  of that contract's contractor's roster members count (a station given to another contract never
  credits one contractor with the other's presence); per day at most ``required_staff`` count, so
  extra staff one day never make up for a short day;
- staff-days missing = required − present; ``short_days`` lists each day below the requirement
  with its figures: the days behind the deduction;
- compliance = present / required (None when nothing is required, e.g. a month of holidays).

A year the calendar does not know raises the calendar's own DomainError."""
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import select

from portal.contractors.models import StaffMember
from portal.core.errors import DomainError
from portal.core.months import first_day, last_day
from portal.core.timeutil import local_today
from portal.core.workdays import UnknownCalendarYear
from portal.extensions import db
from portal.stations.models import COUNTED_STATUSES, Station, StationCheckIn, StationPosting
from portal.tenancy.workdays import tenant_calendar


@dataclass
class StationMonth:
    """One station's staffing in one month (see the module docstring)."""
    station: Station
    month: date                                        # the month's first day
    days: list = field(default_factory=list)           # the working days counted
    present_by_day: dict = field(default_factory=dict)  # {day: staff present, capped at the requirement}

    @property
    def required_staff(self):
        return self.station.required_staff

    @property
    def staff_days_required(self):
        return self.required_staff * len(self.days)

    @property
    def staff_days_present(self):
        return sum(self.present_by_day.get(day, 0) for day in self.days)

    @property
    def staff_days_missing(self):
        return self.staff_days_required - self.staff_days_present

    @property
    def short_days(self):
        """[{"day": "YYYY-MM-DD", "present": n, "required": r}] of the days below the requirement."""
        return [{"day": day.isoformat(), "present": self.present_by_day.get(day, 0), "required": self.required_staff}
                for day in self.days if self.present_by_day.get(day, 0) < self.required_staff]

    @property
    def compliance(self):
        """present / required as a Fraction, None when nothing was required."""
        if not self.staff_days_required:
            return None
        return Fraction(self.staff_days_present, self.staff_days_required)


def _days(station, month, calendar, through):
    start, end = first_day(month), last_day(month)
    if station.contract is not None:
        start, end = max(start, station.contract.starts_on), min(end, station.contract.ends_on)
    end = min(end, through)
    days, day = [], start
    try:
        while day <= end:
            if calendar.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
    except UnknownCalendarYear as exc:
        raise DomainError(exc.message, {"month": [exc.message]}) from None
    return days


def stations_month(month, *, contract_id=None, station_ids=None, through=None, calendar=None):
    """A StationMonth per active station of the bureau (narrowed to a staffing contract or some
    stations), in code order. Three queries whatever the number of stations."""
    query = select(Station)
    if station_ids is None:
        query = query.where(Station.active.is_(True))  # a station asked for by id is shown even if closed
    if contract_id is not None:
        query = query.where(Station.contract_id == contract_id)
    if station_ids is not None:
        query = query.where(Station.id.in_(list(station_ids)))
    stations = db.session.scalars(query.order_by(Station.code)).all()
    if not stations:
        return []
    calendar = calendar or tenant_calendar()
    through = through or local_today()
    start, end = first_day(month), last_day(month)
    ids = [station.id for station in stations]
    # only the staffing contractor's own roster members count at a station with a contract
    contractor_of = {station.id: station.contract.contractor_id for station in stations if station.contract is not None}
    postings = defaultdict(list)
    for station_id, staff_id, from_on, until_on, contractor_id in db.session.execute(
            select(StationPosting.station_id, StationPosting.staff_id, StationPosting.from_on, StationPosting.until_on,
                   StaffMember.contractor_id)
            .join(StaffMember, StaffMember.id == StationPosting.staff_id)
            .where(StationPosting.station_id.in_(ids), StationPosting.from_on <= end)):
        if contractor_of.get(station_id, contractor_id) == contractor_id:
            postings[(station_id, staff_id)].append((from_on, until_on))
    present = defaultdict(set)
    for station_id, staff_id, day in db.session.execute(
            select(StationCheckIn.station_id, StationCheckIn.staff_id, StationCheckIn.day)
            .where(StationCheckIn.station_id.in_(ids), StationCheckIn.status.in_(COUNTED_STATUSES),
                   StationCheckIn.day >= start, StationCheckIn.day <= end)):
        if any(from_on <= day and (until_on is None or day <= until_on)
               for from_on, until_on in postings.get((station_id, staff_id), ())):
            present[(station_id, day)].add(staff_id)
    result = []
    for station in stations:
        days = _days(station, month, calendar, through)
        counts = {day: min(len(present[(station.id, day)]), station.required_staff) for day in days}
        result.append(StationMonth(station, start, days, counts))
    return result


def station_month(station, month, *, through=None, calendar=None):
    """The StationMonth of one station."""
    return stations_month(month, station_ids=[station.id], through=through, calendar=calendar)[0]
