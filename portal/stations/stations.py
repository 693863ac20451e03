"""The stations of a bureau (docs/DOMAIN.md §2.4, §6): who sees which, setting one up or changing
it, and the staffing contracts a station may name.

Who sees a station: the bureau's readers (``station.read``) every one; a contractor's manager the
stations whose staffing contract is its organisation's; a field worker the stations they are, were
or will be posted to. Anything else does not exist for the reader (NotFound, never 403)."""
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import false, func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.permissions import reach
from portal.contractors.models import StaffMember
from portal.contracts.models import Contract, ServiceItem
from portal.core import query
from portal.core.errors import DomainError
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.core.months import month_text, months_between
from portal.stations.models import (COUNTED_STATUSES, STATION_KINDS, STATION_MONTH_UNIT, Station, StationCheckIn,
                                    StationPosting, StationRequirement)
from portal.stations.postings import posted_during
from portal.stations.signals import months_committed, months_settled

MAX_REQUIRED_STAFF = 20
RADIUS_RANGE = (10, 10_000)  # metres: a station's own geofence, when it has one
FIELDS = ("code", "name", "kind", "township", "address", "lat", "lon", "radius_m", "required_staff", "contract_id",
          "active", "opened_on")
EARLIEST_OPENING = date(2000, 1, 1)  # a station's opening day: from this day to a year ahead


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


# --- who sees which station ---------------------------------------------------------------------

def own_contracts(contractor_id):
    """The select of the ids of the contracts of one contractor (none for no contractor)."""
    if not contractor_id:
        return select(Contract.id).where(false())
    return select(Contract.id).where(Contract.contractor_id == contractor_id)


def stations_visible_to(user):
    """The select of the stations ``user`` may read in the current bureau (see the module's doc)."""
    stmt = select(Station)
    limit = reach(user)
    if limit.kind == "own":
        posted = (select(StationPosting.station_id).join(StaffMember, StaffMember.id == StationPosting.staff_id)
                  .where(StaffMember.user_id == limit.user_id))
        return stmt.where(Station.id.in_(posted))
    if limit.kind == "organisation":
        return stmt.where(Station.contract_id.in_(own_contracts(limit.contractor_id)))
    return stmt if user.can("station.read") else stmt.where(false())


def visible_station(station_id, user):
    """The station if ``user`` may read it, else NotFound."""
    return query.one_visible(stations_visible_to(user), Station.id, station_id, _("No such station."))


def manages_staffing(user, station):
    """May ``user`` post workers to ``station`` (station.post): an officer any station of the
    bureau, a manager only a station staffed by a contract of its own organisation."""
    if not user.can("station.post"):
        return False
    limit = reach(user)
    if limit.kind == "bureau":
        return True
    return (limit.kind == "organisation" and station.contract is not None and limit.contractor_id is not None
            and station.contract.contractor_id == limit.contractor_id)


# --- staffing contracts -------------------------------------------------------------------------

def staffing_contracts():
    """The bureau's contracts in delivery with a service item of unit "station_month" (the
    station-month a staffing contract is paid by), by number."""
    paid_by_station = select(ServiceItem.contract_id).where(ServiceItem.unit == STATION_MONTH_UNIT)
    return db.session.execute(select(Contract).where(Contract.in_delivery, Contract.id.in_(paid_by_station))
                              .order_by(Contract.number)).scalars().all()


# --- setting a station up -----------------------------------------------------------------------

def _checked(data, station):
    """The values of ``data`` (the form's, already typed) checked against the rules."""
    values = {key: data.get(key) for key in FIELDS}
    values["code"] = (values["code"] or "").strip()
    values["name"] = (values["name"] or "").strip()
    values["township"] = (values["township"] or "").strip()
    values["address"] = (values["address"] or "").strip()
    if not values["code"]:
        _refuse("code", _("Give the station a code."))
    if not values["name"]:
        _refuse("name", _("Give the station a name."))
    if values["kind"] not in STATION_KINDS:
        _refuse("kind", _("Choose the hub or a township station."))
    staff = values["required_staff"]
    if not isinstance(staff, int) or not 1 <= staff <= MAX_REQUIRED_STAFF:
        _refuse("required_staff", _("Give the staff required: from 1 to %(n)s.", n=MAX_REQUIRED_STAFF))
    for key, limit in (("lat", 90), ("lon", 180)):
        value = values[key]
        if value is None or not -limit <= value <= limit:
            _refuse(key, _("Give decimal degrees between -%(limit)s and %(limit)s.", limit=limit))
    radius = values["radius_m"]
    if radius is not None and not RADIUS_RANGE[0] <= radius <= RADIUS_RANGE[1]:
        _refuse("radius_m", _("Give a radius from %(low)s to %(high)s metres, or leave it empty for the bureau's "
                              "geofence.", low=RADIUS_RANGE[0], high=RADIUS_RANGE[1]))
    opened, latest = values["opened_on"], local_today() + timedelta(days=366)
    if not isinstance(opened, date) or not EARLIEST_OPENING <= opened <= latest:
        _refuse("opened_on", _("Give the day the station opened: from %(first)s to %(last)s.",
                               first=EARLIEST_OPENING.isoformat(), last=latest.isoformat()))
    others = select(Station.id, Station.code)
    if station is not None and station.id is not None:
        others = others.where(Station.id != station.id)
    # codes are told apart without regard to case: gx-sw01 beside GX-SW01 is the same code
    taken = db.session.execute(others.where(func.lower(Station.code) == values["code"].lower())).first()
    if taken is not None:
        _refuse("code", _("Another station of the bureau has the code %(code)s.", code=taken.code))
    if values["kind"] == "hub" and values["active"]:
        hub = db.session.execute(others.where(Station.kind == "hub", Station.active.is_(True))).first()
        if hub is not None:
            _refuse("kind", _("The bureau already has an active district hub (%(code)s): a bureau has one.",
                              code=hub.code))
    values["active"] = bool(values["active"])
    return values


def committed_months(station, months):
    """The months ("YYYY-MM") of ``months`` for which the station's staffing contract has a
    statement sent or later (billing answers ``months_committed``): their staffing deduction is
    fixed, so nothing may change what they count. None for a station without a contract."""
    contract = station.contract
    if contract is None or not months:
        return set()
    fixed = set()
    for _receiver, answer in months_committed.send(contract, months=sorted(set(months))):
        fixed |= set(answer)
    return fixed


def unsettled_months(station):
    """The months ("YYYY-MM", in order) with presence at ``station`` that counts for its present
    staffing contract (counted check-ins of the contractor's roster members within the contract's
    dates) and that no approved statement of the contract settled yet (billing answers
    ``months_settled``)."""
    contract = station.contract
    if contract is None or station.id is None:
        return []
    days = db.session.scalars(select(StationCheckIn.day).distinct()
                              .join(StaffMember, StaffMember.id == StationCheckIn.staff_id)
                              .where(StationCheckIn.station_id == station.id,
                                     StationCheckIn.status.in_(COUNTED_STATUSES),
                                     StaffMember.contractor_id == contract.contractor_id,
                                     StationCheckIn.day >= contract.starts_on, StationCheckIn.day <= contract.ends_on))
    months = sorted({day.strftime("%Y-%m") for day in days})
    if not months:
        return []
    settled = set()
    for _receiver, answer in months_settled.send(contract, months=months):
        settled |= set(answer)
    return [month for month in months if month not in settled]


def _checked_contract(contract_id, station):
    """The staffing contract chosen (None for none): one of ``staffing_contracts()``. A station
    keeps its contract while a month of counted presence under it is not settled by an approved
    statement (``unsettled_months``: the month is paid and deducted by that contract, once). A
    station whose workers are posted on or after today keeps a contract of the same contractor:
    the postings are the contractor's roster members."""
    if contract_id is None:
        contract = None
    else:
        contract = next((c for c in staffing_contracts() if c.id == contract_id), None)
        if contract is None:
            _refuse("contract_id", _("Choose a contract in delivery with a station-month service item."))
    if station is None or station.id is None or station.contract is None:
        return contract
    if (contract.id if contract else None) != station.contract_id:
        waiting = unsettled_months(station)
        if waiting:
            _refuse("contract_id", _("Presence at this station in %(months)s counts for contract %(number)s and is not "
                                     "on an approved statement yet: change the contract once those months are "
                                     "approved.", months="、".join(waiting), number=station.contract.number))
    if contract is not None and contract.contractor_id == station.contract.contractor_id:
        return contract
    running = db.session.execute(select(StationPosting.id).where(
        StationPosting.station_id == station.id, posted_during(local_today(), None)).limit(1)).first()
    if running is not None:
        _refuse("contract_id", _("Workers of the present contractor are posted here today or later: end their "
                                 "postings before the station changes to another contractor."))
    return contract


def _end_postings(station, today):
    """A station closed today: its postings running after today end today, those not begun yet
    go (nobody served under them). Its later months then have no days (compliance.py)."""
    for posting in db.session.scalars(select(StationPosting).where(
            StationPosting.station_id == station.id, posted_during(today + timedelta(days=1), None))).all():
        if posting.from_on > today:
            db.session.delete(posting)
        else:
            posting.until_on = today


def _months_from(day, today):
    """The months ("YYYY-MM") from ``day``'s to the later of ``day``'s and ``today``'s."""
    return [month_text(month) for month in months_between(day, max(day, today))]


def _checked_requirement_day(station, required, day, today):
    """The day a change of required staff takes effect (``day``, default today), checked: not
    before the station opened, not in a month the station's contract has a statement sent or
    later for (that month's deduction is fixed); None when the required staff does not change."""
    if station is None or station.id is None or required == station.required_staff:
        return None
    day = day or today
    if day < station.opened_on:
        _refuse("required_from", _("Choose a day from the station's opening day (%(day)s) on.",
                                   day=station.opened_on.isoformat()))
    fixed = sorted(committed_months(station, _months_from(day, today)))
    if fixed:
        _refuse("required_from", _("The statement of %(months)s for this station's contract is already sent: the "
                                   "change of required staff can take effect only after those months.",
                                   months="、".join(fixed)))
    return day


def _dated_requirement(station, old_required, required, day, today):
    """Record that ``station`` requires ``required`` staff from ``day`` on (the rows after it go):
    the days before keep what they required. A station without rows first gets one for its old
    value from its opening day. ``Station.required_staff`` becomes the value in force today."""
    rows = db.session.scalars(select(StationRequirement).where(StationRequirement.station_id == station.id)
                              .order_by(StationRequirement.from_on)).all()
    if not rows:
        first = StationRequirement(station_id=station.id, from_on=station.opened_on, required_staff=old_required)
        db.session.add(first)
        rows = [first]
    for row in rows:
        if row.from_on > day:
            db.session.delete(row)
    same = next((row for row in rows if row.from_on == day), None)
    if same is not None:
        same.required_staff = required
    else:
        db.session.add(StationRequirement(station_id=station.id, from_on=day, required_staff=required))
    in_force = [(row.from_on, row.required_staff) for row in rows if row.from_on < day] + [(day, required)]
    today_value = next((n for from_on, n in reversed(in_force) if from_on <= today), in_force[0][1])
    return today_value


def save_station(station, data):
    """Create (``station`` None) or change a station from ``data`` ({field: typed value}, see
    FIELDS, and ``required_from``: the day a change of required staff takes effect, default
    today); returns the station. Refusals are DomainErrors naming the field. Closing a station
    (active → not) ends its postings today, so the months it was staffed stay as they were. A
    change of required staff is dated (StationRequirement): the days before it keep theirs."""
    today = local_today()
    values = _checked(data, station)
    required_from = _checked_requirement_day(station, values["required_staff"], data.get("required_from"), today)
    old_required = station.required_staff if station is not None else None
    contract = _checked_contract(values.pop("contract_id"), station)
    if station is not None and station.id is not None and station.active and not values["active"]:
        _end_postings(station, local_today())
    if station is None:
        station = Station()
    for key, value in values.items():
        setattr(station, key, value)
    station.contract_id, station.contract = (contract.id if contract else None), contract
    try:
        with db.session.begin_nested():
            db.session.add(station)
            db.session.flush()
    except IntegrityError:  # another officer took the code at the same moment
        _refuse("code", _("Another station of the bureau has the code %(code)s.", code=values["code"]))
    if old_required is None:
        db.session.add(StationRequirement(station_id=station.id, from_on=station.opened_on,
                                          required_staff=station.required_staff))
    elif required_from is not None:
        station.required_staff = _dated_requirement(station, old_required, values["required_staff"], required_from,
                                                    today)
    db.session.flush()
    return station
