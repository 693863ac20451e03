"""Training of front-line staff (docs/DOMAIN.md §2.4, §6 "Stations and training"): sessions with
their topic, mode (online, offline), day, trainer and hours, optionally for one contract's or one
station's staff; the roster members expected at each (attendees) and whether they came.

Who does what:

- bureau readers (training.read) see every session of the bureau and every attendee; a contractor's
  manager sees the sessions its people made, those of its own contracts and those its staff are
  expected at — and of their attendees only its own staff;
- officers and supervisors (training.manage) add sessions and attendees from the rosters of the
  contractors with contracts in the bureau, and mark anyone's attendance; a manager adds sessions
  (for its own contracts and its own stations only) and attendees from its own roster only, and
  marks its own staff's attendance at the sessions its own people made — at a session the
  bureau's staff made, attendance is the bureau's to mark;
- attendees are roster members on the session's day; attendance is marked from that day on.

Rates (``rates``): per contractor, the attendees expected at the period's sessions and how many
attended; per station, the same for the attendees posted at the station on the session's day
(a StationPosting covering it). Nothing expected gives no rate at all (None, shown as —), never 0 %.
A worker's record (``worker_record``) lists every session they were expected at, attended or not,
and the hours of those attended."""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, exists, false, or_, select

from portal.accounts.models import User
from portal.accounts.permissions import reach
from portal.contractors.models import Contractor, StaffMember
from portal.contracts.models import Contract
from portal.core.errors import DomainError, NotFound
from portal.core.numbers import percent_text
from portal.core.query import chosen_id, one_visible
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.stations.models import TRAINING_MODES, Station, StationPosting, TrainingAttendee, TrainingSession
from portal.stations.postings import covers, posted_during

MAX_HOURS = 24


# --- who sees and manages what -------------------------------------------------------------------

def bureau_contractor_ids():
    """Ids of the contractors with a contract in the current bureau (their rosters train here)."""
    return select(Contract.contractor_id).distinct()


def own_contractor(user):
    """The organisation a manager is limited to, or None for the bureau's people."""
    return reach(user).organisation_id


def sessions_visible_to(user):
    """A select of the sessions ``user`` may read (see the module docstring)."""
    stmt = select(TrainingSession)
    if not user.can("training.read"):
        return stmt.where(false())
    if reach(user).kind == "bureau":
        return stmt
    organisation = own_contractor(user)
    if not organisation:
        return stmt.where(false())
    return stmt.where(or_(
        TrainingSession.created_by_id.in_(select(User.id).where(User.contractor_id == organisation)),
        TrainingSession.contract_id.in_(select(Contract.id).where(Contract.contractor_id == organisation)),
        exists().where(TrainingAttendee.session_id == TrainingSession.id,
                       TrainingAttendee.contractor_id == organisation)))


def session_for(user, session_id):
    """The session if ``user`` may read it, else NotFound (never 403)."""
    return one_visible(sessions_visible_to(user), TrainingSession.id, session_id, _("No such training session."))


def attendees_shown(user, session):
    """The session's attendees ``user`` may see: all for the bureau, a manager's own staff."""
    organisation = own_contractor(user)
    rows = session.attendees
    return [row for row in rows if row.contractor_id == organisation] if organisation else list(rows)


def may_manage(user, session=None):
    """Whether ``user`` may add sessions (``session`` None) or attendees and attendance to one."""
    if not user.can("training.manage"):
        return False
    return reach(user).kind == "bureau" or bool(own_contractor(user))


def made_by_bureau(session):
    """Was ``session`` made by the bureau's staff (its maker belongs to no contractor)?"""
    maker = db.session.get(User, session.created_by_id) if session.created_by_id else None
    return maker is None or maker.contractor_id is None


def may_mark_attendance(user, session):
    """May ``user`` mark attendance at ``session``: one who manages training, and — for a
    manager — only at a session its own people made, never at one of the bureau's."""
    return may_manage(user, session) and not (own_contractor(user) and made_by_bureau(session))


def _may_mark(user, attendee):
    organisation = own_contractor(user)
    return may_manage(user) and (not organisation or attendee.contractor_id == organisation)


# --- rosters ---------------------------------------------------------------------------------------

def roster_choices(user, session):
    """The roster members ``user`` may add to ``session``: on the roster on the session's day, of a
    contractor with a contract in the bureau (a manager: its own), not expected already; in
    contractor then name order, as (staff, contractor name)."""
    stmt = (select(StaffMember, Contractor.name).join(Contractor, Contractor.id == StaffMember.contractor_id)
            .where(StaffMember.contractor_id.in_(bureau_contractor_ids()), StaffMember.joined_on <= session.held_on,
                   or_(StaffMember.left_on.is_(None), StaffMember.left_on >= session.held_on),
                   StaffMember.id.not_in(select(TrainingAttendee.staff_id)
                                         .where(TrainingAttendee.session_id == session.id))))
    organisation = own_contractor(user)
    if organisation:
        stmt = stmt.where(StaffMember.contractor_id == organisation)
    return db.session.execute(stmt.order_by(Contractor.name, StaffMember.name, StaffMember.id)).all()


def staff_visible_to(user, staff_id):
    """The roster member whose training record ``user`` may read: the bureau any member of a
    contractor with a contract in the bureau (or expected at one of its sessions), a manager only
    its own; else NotFound."""
    organisation = own_contractor(user)
    stmt = select(StaffMember)
    if organisation:
        stmt = stmt.where(StaffMember.contractor_id == organisation)
    elif reach(user).kind == "bureau" and user.can("training.read"):
        stmt = stmt.where(or_(StaffMember.contractor_id.in_(bureau_contractor_ids()),
                              StaffMember.id.in_(select(TrainingAttendee.staff_id))))
    else:
        stmt = stmt.where(false())
    return one_visible(stmt, StaffMember.id, staff_id, _("No such roster member."))


# --- writing -----------------------------------------------------------------------------------------

def _stripped(value):
    return value.strip() if isinstance(value, str) else ""


def _text(data, key, limit, message, errors):
    value = _stripped(data.get(key))
    if not value:
        errors[key] = [message]
    elif len(value) > limit:
        errors[key] = [_("At most %(n)s characters.", n=limit)]
    return value


def contract_choices(user):
    """The contracts a session may be for: the bureau's (a manager: its own), newest first."""
    stmt = select(Contract).order_by(Contract.starts_on.desc(), Contract.id.desc())
    organisation = own_contractor(user)
    if organisation:
        stmt = stmt.where(Contract.contractor_id == organisation)
    return db.session.scalars(stmt).all()


def station_choices(user):
    """The active stations a session may be for: the bureau's (a manager: those staffed by its own
    contracts), by code."""
    stmt = select(Station).where(Station.active.is_(True))
    organisation = own_contractor(user)
    if organisation:
        stmt = stmt.where(Station.contract_id.in_(select(Contract.id).where(Contract.contractor_id == organisation)))
    return db.session.scalars(stmt.order_by(Station.code)).all()


EARLIEST_TRAINING = date(2000, 1, 1)


def held_on_range(today=None):
    """The days a session may be held on: from 2000-01-01 to a year after today."""
    return EARLIEST_TRAINING, (today or local_today()) + timedelta(days=366)


def create_session(data, by):
    """A new session from ``data`` (topic, mode, held_on, trainer, hours, contract_id?, station_id?,
    notes), by someone who may manage training. DomainError naming the fields otherwise."""
    if not may_manage(by):
        raise NotFound(_("No such training session."))
    errors = {}
    topic = _text(data, "topic", 200, _("Give the topic."), errors)
    trainer = _text(data, "trainer", 100, _("Give the trainer."), errors)
    mode = data.get("mode")
    if mode not in TRAINING_MODES:
        errors["mode"] = [_("Choose online or offline.")]
    held_on = data.get("held_on")
    first, last = held_on_range()
    if not isinstance(held_on, date):
        errors["held_on"] = [_("Give the day as YYYY-MM-DD.")]
    elif not first <= held_on <= last:
        errors["held_on"] = [_("Give a day from %(first)s to %(last)s.", first=first.isoformat(), last=last.isoformat())]
    hours = data.get("hours")
    if not isinstance(hours, int) or isinstance(hours, bool) or not 1 <= hours <= MAX_HOURS:
        errors["hours"] = [_("Give the hours as a whole number from 1 to %(n)s.", n=MAX_HOURS)]
    contract_id = chosen_id(str(data.get("contract_id") or ""))
    if data.get("contract_id") and contract_id not in {c.id for c in contract_choices(by)}:
        errors["contract_id"] = [_("Choose one of the contracts listed.")]
    station_id = chosen_id(str(data.get("station_id") or ""))
    if data.get("station_id") and station_id not in {s.id for s in station_choices(by)}:
        errors["station_id"] = [_("Choose one of the stations listed.")]
    notes = _stripped(data.get("notes"))
    if len(notes) > 2000:
        errors["notes"] = [_("At most %(n)s characters.", n=2000)]
    if errors:
        raise DomainError(_("The training session cannot be recorded."), errors)
    session = TrainingSession(topic=topic, mode=mode, held_on=held_on, trainer=trainer, hours=hours,
                              contract_id=contract_id, station_id=station_id, notes=notes, created_by_id=by.id)
    db.session.add(session)
    db.session.flush()
    return session


def add_attendees(session, staff_ids, by):
    """Expect the roster members ``staff_ids`` at ``session``: each must be one ``by`` may add
    (roster_choices). Returns the attendees added; DomainError (field ``staff``) otherwise."""
    if not may_manage(by, session):
        raise NotFound(_("No such training session."))
    wanted = {chosen_id(str(value)) for value in staff_ids or ()}
    allowed = {staff.id: staff for staff, _name in roster_choices(by, session)}
    if not wanted:
        message = _("Choose at least one roster member.")
        raise DomainError(message, {"staff": [message]})
    if None in wanted or not wanted <= set(allowed):
        message = _("Choose roster members listed here: on a roster of a contractor working for the bureau "
                    "on the session's day, and not expected already.")
        raise DomainError(message, {"staff": [message]})
    added = [TrainingAttendee(session_id=session.id, staff_id=staff_id, contractor_id=allowed[staff_id].contractor_id)
             for staff_id in sorted(wanted)]
    db.session.add_all(added)
    db.session.flush()
    db.session.expire(session, ["attendees"])
    return added


def mark_attendance(session, attended_ids, by, today=None):
    """Record who of the attendees ``by`` may mark attended (the ids in ``attended_ids``) and who did
    not (the others). Refused before the session's day. Returns how many changed."""
    if not may_manage(by, session):
        raise NotFound(_("No such training session."))
    if not may_mark_attendance(by, session):
        message = _("Attendance at a session the bureau organised is marked by the bureau's staff.")
        raise DomainError(message, {"attended": [message]})
    if session.held_on > (today or local_today()):
        message = _("Attendance can be marked from the session's day (%(day)s) on.", day=session.held_on.isoformat())
        raise DomainError(message, {"attended": [message]})
    chosen = {chosen_id(str(value)) for value in attended_ids or ()}
    mine = [row for row in session.attendees if _may_mark(by, row)]
    if not chosen <= {row.id for row in mine}:
        message = _("Choose attendees listed here.")
        raise DomainError(message, {"attended": [message]})
    changed = 0
    for row in mine:
        if row.attended != (row.id in chosen):
            row.attended, changed = row.id in chosen, changed + 1
    db.session.flush()
    return changed


def remove_attendee(session, attendee_id, by):
    """Take an attendee ``by`` may mark off the session, unless marked attended (NotFound for one
    that is not theirs)."""
    found = [row for row in session.attendees if row.id == attendee_id and _may_mark(by, row)]
    if not found or not may_manage(by, session):
        raise NotFound(_("No such attendee."))
    if found[0].attended:
        raise DomainError(_("An attendee marked as attended stays on the session; mark them absent first."))
    db.session.delete(found[0])
    db.session.flush()
    db.session.expire(session, ["attendees"])


# --- rates and records ---------------------------------------------------------------------------------

@dataclass
class Rate:
    """Attendees expected and those who attended, with the rate as text ("—" when none expected)."""
    key: object
    label: str
    expected: int = 0
    attended: int = 0
    hours: int = 0  # hours of the sessions attended

    @property
    def rate(self):
        return percent_text(self.attended, self.expected) or None

    @property
    def rate_text(self):
        return f"{self.rate}%" if self.rate else "—"


def rates(first, last, user):
    """(per contractor, per station, total) Rate rows over the sessions held from ``first`` to
    ``last`` (dates, inclusive), as ``user`` may see them (a manager: its own staff and the stations
    of its contracts). Every contractor with a contract in the bureau and every active station is
    listed, expected or not."""
    organisation = own_contractor(user)
    rows = db.session.execute(
        select(TrainingAttendee.staff_id, TrainingAttendee.contractor_id, TrainingAttendee.attended,
               TrainingSession.held_on, TrainingSession.hours)
        .join(TrainingSession, TrainingSession.id == TrainingAttendee.session_id)
        .where(TrainingSession.held_on >= first, TrainingSession.held_on <= last,
               *([TrainingAttendee.contractor_id == organisation] if organisation else []))).all()
    contractors = select(Contractor.id, Contractor.name).where(or_(
        Contractor.id.in_(bureau_contractor_ids()), Contractor.id.in_(sorted({row.contractor_id for row in rows}))))
    if organisation:
        contractors = contractors.where(Contractor.id == organisation)
    by_contractor = {cid: Rate(cid, name) for cid, name in db.session.execute(contractors.order_by(Contractor.name))}
    stations = select(Station).where(Station.active.is_(True))
    if organisation:
        stations = stations.where(Station.contract_id.in_(select(Contract.id).where(Contract.contractor_id == organisation)))
    by_station = {s.id: Rate(s.id, f"{s.code} {s.name}") for s in db.session.scalars(stations.order_by(Station.code))}
    postings = defaultdict(list)
    staff_ids = {row.staff_id for row in rows}
    if staff_ids:
        for station_id, staff_id, from_on, until_on, code, name in db.session.execute(
                select(StationPosting.station_id, StationPosting.staff_id, StationPosting.from_on,
                       StationPosting.until_on, Station.code, Station.name)
                .join(Station, Station.id == StationPosting.station_id)
                .where(StationPosting.staff_id.in_(staff_ids), posted_during(first, last))):
            postings[staff_id].append((station_id, from_on, until_on, f"{code} {name}"))
    total = Rate(None, _("Total"))
    for row in rows:
        targets = [by_contractor.setdefault(row.contractor_id, Rate(row.contractor_id, str(row.contractor_id))), total]
        for station_id, from_on, until_on, label in postings.get(row.staff_id, ()):
            if covers(from_on, until_on, row.held_on):
                targets.append(by_station.setdefault(station_id, Rate(station_id, label)))
        for target in {id(target): target for target in targets}.values():  # a station counted once
            target.expected += 1
            if row.attended:
                target.attended += 1
                target.hours += row.hours
    return list(by_contractor.values()), list(by_station.values()), total


def worker_record(staff):
    """([(session, attended)] newest first, Rate of the whole record) of a roster member in the
    current bureau."""
    found = db.session.execute(
        select(TrainingSession, TrainingAttendee.attended)
        .join(TrainingAttendee, and_(TrainingAttendee.session_id == TrainingSession.id,
                                     TrainingAttendee.staff_id == staff.id))
        .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())).all()
    summary = Rate(staff.id, staff.name, expected=len(found), attended=sum(1 for _s, came in found if came),
                   hours=sum(session.hours for session, came in found if came))
    return [(session, attended) for session, attended in found], summary
