"""Target-group service logs of the stations (docs/DOMAIN.md §2.4, §6): what a station did on a
day for one of the eight target groups (the beneficiaries' CATEGORIES), the service, how many
people were served and how many volunteers helped — counts only, never a person's name — and the
monthly counts per station and group.

Who records: the manager of the station's staffing contractor (any day), and its field workers
posted to the station on the log's day. Who reads: whoever may read the station."""
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.accounts.permissions import reach
from portal.beneficiaries.models import CATEGORIES
from portal.core.errors import DomainError
from portal.core.months import month_days
from portal.extensions import db
from portal.stations.checkins import posting_that_day
from portal.stations.models import Station, StationServiceLog
from portal.stations.stations import stations_visible_to

MAX_COUNT = 100_000
SERVICE_LIMIT = 200


def _refuse(field_name, message):
    raise DomainError(message, {field_name: [message]})


def may_log(user, station, day=None):
    """May ``user`` record a log of ``station`` (on ``day``, when given): the manager of its
    staffing contractor, or a field worker posted there that day."""
    if not user.can("station.log") or not station.active:
        return False
    limit = reach(user)
    if limit.kind == "organisation":
        return station.contract is not None and station.contract.contractor_id == limit.contractor_id
    if limit.kind == "own":
        return day is None or posting_that_day(station.id, user, day) is not None
    return False


def loggable_stations(user):
    """The active stations ``user`` may record logs of (a worker's: those they were ever posted
    to; the day is checked when the log is recorded), by code."""
    if not user.can("station.log"):
        return []
    stations = db.session.execute(stations_visible_to(user).where(Station.active.is_(True))
                                  .order_by(Station.code)).scalars().all()
    return [station for station in stations if may_log(user, station)]


def record_log(station, values, user, today):
    """Record one log of ``station`` from ``values`` (day, target_group, service, people,
    volunteers, typed); returns it. Refusals name the field."""
    day = values.get("day")
    if day is None:
        _refuse("day", _("Give the day."))
    if day > today:
        _refuse("day", _("The day is in the future."))
    if day < station.opened_on:
        _refuse("day", _("The station opened on %(day)s: give a day from then on.", day=station.opened_on.isoformat()))
    if not may_log(user, station, day):
        _refuse("day", _("You were not posted to this station on %(day)s.", day=day.isoformat()))
    if values.get("target_group") not in CATEGORIES:
        _refuse("target_group", _("Choose one of the eight target groups."))
    service = (values.get("service") or "").strip()
    if not service or len(service) > SERVICE_LIMIT:
        _refuse("service", _("Say what service was given (at most %(n)s characters).", n=SERVICE_LIMIT))
    people, volunteers = values.get("people"), values.get("volunteers")
    if not isinstance(people, int) or not 1 <= people <= MAX_COUNT:
        _refuse("people", _("Give how many people were served: from 1 to %(n)s.", n=MAX_COUNT))
    if not isinstance(volunteers, int) or not 0 <= volunteers <= MAX_COUNT:
        _refuse("volunteers", _("Give how many volunteers helped: from 0 to %(n)s.", n=MAX_COUNT))
    log = StationServiceLog(station_id=station.id, day=day, target_group=values["target_group"], service=service,
                            people=people, volunteers=volunteers, recorded_by_id=user.id)
    db.session.add(log)
    db.session.flush()
    return log


def logs_query(user, month):
    """The select of the logs of ``month`` of the stations ``user`` may read, newest first."""
    first, last = month_days(month)
    visible = stations_visible_to(user).with_only_columns(Station.id)
    return (select(StationServiceLog).where(StationServiceLog.station_id.in_(visible),
                                            StationServiceLog.day >= first, StationServiceLog.day <= last)
            .order_by(StationServiceLog.day.desc(), StationServiceLog.id.desc()))


@dataclass
class StationCounts:
    """One station's month: per target group the logs, people served and volunteers."""
    station: Station
    logs: dict = field(default_factory=dict)
    people: dict = field(default_factory=dict)
    volunteers: dict = field(default_factory=dict)

    @property
    def total_logs(self):
        return sum(self.logs.values())

    @property
    def total_people(self):
        return sum(self.people.values())

    @property
    def total_volunteers(self):
        return sum(self.volunteers.values())


def monthly_counts(user, month):
    """[StationCounts] of the stations ``user`` may read that logged something in ``month``, by
    code, and the bureau's (or the reader's) total as a StationCounts without a station."""
    first, last = month_days(month)
    visible = stations_visible_to(user).with_only_columns(Station.id)
    rows = db.session.execute(
        select(StationServiceLog.station_id, StationServiceLog.target_group, func.count(StationServiceLog.id),
               func.sum(StationServiceLog.people), func.sum(StationServiceLog.volunteers))
        .where(StationServiceLog.station_id.in_(visible), StationServiceLog.day >= first,
               StationServiceLog.day <= last)
        .group_by(StationServiceLog.station_id, StationServiceLog.target_group)).all()
    stations = {s.id: s for s in db.session.execute(select(Station).where(
        Station.id.in_({row[0] for row in rows}))).scalars()} if rows else {}
    by_station, total = {}, StationCounts(None)
    for station_id, group, logs, people, volunteers in rows:
        counts = by_station.setdefault(station_id, StationCounts(stations[station_id]))
        for target in (counts, total):
            target.logs[group] = target.logs.get(group, 0) + int(logs)
            target.people[group] = target.people.get(group, 0) + int(people or 0)
            target.volunteers[group] = target.volunteers.get(group, 0) + int(volunteers or 0)
    return sorted(by_station.values(), key=lambda c: c.station.code), total
