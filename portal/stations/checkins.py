"""Daily presence by check-in at the station (docs/DOMAIN.md §6 "Stations and training",
docs/API.md ``POST /api/v1/station-checkins``), and the supervisor's decision on a flagged one.

A field worker checks in from the phone at a station they are posted to that Beijing day. The
phone's client id makes uploads idempotent (visits.recording.replay and add_once): the same id and
body again is the stored check-in, another body or worker a Conflict. The distance from the
station (great circle, core.geo.haversine_m) decides its status: within the station's radius (its
own, else the bureau's ``geofence_radius_m``) it is "counted". It is "flagged" instead, and counts
for nothing until a supervisor accepts it (a rejected one never counts), when it is outside that
radius, when it reached the server more than the bureau's ``late_upload_hours`` after its time,
or when its device was used by another worker for a check-in that day (at any station). The
reasons (``flag_reasons``) are read from the stored check-in and shown on the supervisor's queue
and decision page. A check-in on a day of a month for which the station's staffing contract
already has a statement sent or later (billing answers ``months_committed``) is refused, and a
flagged one of such a day is not accepted: that month's staffing deduction is fixed (a
correction is an adjustment line on the statement). The coordinates are the
worker's own: pages show the distance, never the position, and the audit trail redacts them."""
import uuid
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from portal.contractors.models import StaffMember
from portal.core import query
from portal.core.errors import Conflict, DomainError
from portal.core.geo import haversine_m
from portal.core.timeutil import to_local
from portal.extensions import db
from portal.stations.models import COUNTED_STATUSES, Station, StationCheckIn, StationPosting
from portal.stations.postings import posted_during
from portal.stations.stations import committed_months
from portal.tenancy.scope import TenancyError, current_tenant_id
from portal.tenancy.services import settings_for
from portal.visits import recording as visits
from portal.visits.rules import CLOCK_SKEW

DECISIONS = ("accept", "reject")
REASON_LIMIT = 1000
NOTE_LIMIT = 500
CHECKIN_SCHEMA = {
    "type": "object",
    "required": ["client_id", "station_id", "device_id", "at", "lat", "lon"],
    "properties": {
        "client_id": {"type": "string", "minLength": 32, "maxLength": 36,
                      "description": "A UUID made by the phone; the same id is never stored twice"},
        "station_id": query.ID_SCHEMA,
        "device_id": {"type": "string", "minLength": 1, "maxLength": 100},
        "at": {"type": "string", "minLength": 1, "maxLength": 64,
               "description": "ISO 8601 with an offset, e.g. 2026-11-29T08:45:00+08:00"},
        "lat": {"type": "number"}, "lon": {"type": "number"},
        "accuracy_m": {"type": ["number", "null"], "minimum": 0},
        "note": {"type": ["string", "null"], "maxLength": NOTE_LIMIT,
                 "description": "The worker's reason for checking in beyond the geofence, as the phone asked"},
    },
}


def _refuse(field, message):
    raise DomainError(message, {field: [message]})


def checkin_json(checkin):
    """A check-in as docs/API.md fixes it: never the coordinates sent back."""
    return {"id": checkin.id, "client_id": checkin.client_id, "station_id": checkin.station_id,
            "day": checkin.day.isoformat(), "distance_m": checkin.distance_m, "status": checkin.status,
            "counted": checkin.status in COUNTED_STATUSES}


def radius_of(station):
    """The station's geofence in metres: its own radius, else the bureau's ``geofence_radius_m``."""
    if station.radius_m:
        return station.radius_m
    return settings_for(current_tenant_id())["geofence_radius_m"]


def posting_that_day(station_id, user, day):
    """The posting of the worker signed in as ``user`` (their roster entry's ``user_id``) at the
    station on ``day``, if any."""
    return db.session.execute(
        select(StationPosting).join(StaffMember, StaffMember.id == StationPosting.staff_id)
        .where(StationPosting.station_id == station_id, StaffMember.user_id == user.id, posted_during(day, day))
        .order_by(StationPosting.from_on.desc()).limit(1)).scalar_one_or_none()


def _late(at, received, settings):
    return received - at > timedelta(hours=settings["late_upload_hours"])


def _device_shared(device_id, day, worker_user_id, leave_out=None):
    """Did another worker check in with ``device_id`` on ``day`` (any station)?"""
    stmt = select(StationCheckIn.id).where(StationCheckIn.device_id == device_id, StationCheckIn.day == day,
                                           StationCheckIn.worker_user_id != worker_user_id)
    if leave_out is not None:
        stmt = stmt.where(StationCheckIn.id != leave_out)
    return db.session.execute(stmt.limit(1)).first() is not None


def flag_reasons(checkin):
    """Why a check-in is (or was) flagged, in words: outside the geofence, uploaded late, a device
    another worker used that day; [] for none."""
    settings = settings_for(current_tenant_id())
    reasons = []
    radius = radius_of(checkin.station)
    if checkin.distance_m > radius:
        reasons.append(_("Outside the geofence: %(metres)s m from the station (the geofence is %(radius)s m).",
                         metres=checkin.distance_m, radius=radius))
    if checkin.received_at is not None and _late(checkin.checked_in_at, checkin.received_at, settings):
        hours = round((checkin.received_at - checkin.checked_in_at).total_seconds() / 3600, 1)
        reasons.append(_("Uploaded %(hours)s h after the check-in; the limit is %(limit)s h.",
                         hours=hours, limit=settings["late_upload_hours"]))
    if _device_shared(checkin.device_id, checkin.day, checkin.worker_user_id, leave_out=checkin.id):
        reasons.append(_("The device was used by another worker for a check-in on %(day)s.",
                         day=checkin.day.isoformat()))
    return reasons


def refuse_settled_day(station, day, field):
    """A DomainError on ``field`` when ``day`` falls in a month the station's staffing contract
    already has a statement for that is sent or later: that month's staffing deduction is fixed,
    a check-in may no longer count into it."""
    month = day.strftime("%Y-%m")
    if month in committed_months(station, [month]):
        _refuse(field, _("The statement of %(month)s for this station's contract is already sent: a check-in on "
                         "%(day)s can no longer count.", month=month, day=day.isoformat()))


def _by_client_id(client_id):
    return db.session.execute(select(StationCheckIn).where(StationCheckIn.client_id == client_id)).scalar_one_or_none()


def _replay(existing, user, digest):
    return visits.replay(existing, "worker_user_id", user, digest,
                         _("This client_id was already used for a different check-in."))


def record_checkin(payload, user, now):
    """Store one check-in as the phone sent it; returns ``(checkin, created)``. A station of
    another bureau, or none, is a NotFound; a station where the worker is not posted that day, a
    closed station, a time in the future, or a day of a month whose statement is sent a 422."""
    if not isinstance(payload, dict):
        _refuse("body", _("The check-in must be a JSON object."))
    visits.validate_schema(payload, CHECKIN_SCHEMA)
    try:
        client_id = str(uuid.UUID(payload["client_id"]))
    except ValueError:
        _refuse("client_id", _("Give the client id as a UUID."))
    at, lat, lon, accuracy = visits.checked_point(payload, "", accuracy=True)
    if at > now + CLOCK_SKEW:
        _refuse("at", _("The check-in time is in the future; check the phone's clock."))
    digest = visits.body_hash(payload)
    if current_tenant_id() is None:
        raise TenancyError("Station check-in created outside a tenant scope")
    existing = _by_client_id(client_id)
    if existing is not None:
        return _replay(existing, user, digest)
    station = query.one_visible(select(Station), Station.id, payload["station_id"], _("No such station."))
    day = to_local(at).date()
    if not station.active:
        _refuse("station_id", _("This station is closed."))
    posting = posting_that_day(station.id, user, day)
    if posting is None:
        _refuse("station_id", _("You are not posted to this station on %(day)s.", day=day.isoformat()))
    if not posting.staff.on_roster(day):
        _refuse("station_id", _("You are not on your contractor's roster on %(day)s.", day=day.isoformat()))
    refuse_settled_day(station, day, "at")
    distance = round(haversine_m(station.lat, station.lon, lat, lon))
    flagged = (distance > radius_of(station) or _late(at, now, settings_for(current_tenant_id()))
               or _device_shared(payload["device_id"], day, user.id))
    checkin = StationCheckIn(
        client_id=client_id, body_hash=digest, station_id=station.id, staff_id=posting.staff_id,
        worker_user_id=user.id, device_id=payload["device_id"], checked_in_at=at, day=day, lat=lat, lon=lon,
        accuracy_m=accuracy, distance_m=distance, note=(payload.get("note") or "").strip(),
        status="flagged" if flagged else "counted", received_at=now)
    return visits.add_once(checkin, lambda: _replay(_by_client_id(client_id), user, digest))


# --- the supervisor's decision on a flagged check-in --------------------------------------------

QUEUE_FILTERS = ("flagged", "accepted", "rejected", "all")  # the queue's status filter: flagged by default


def flagged_query(status="flagged"):
    """The select of the bureau's check-ins that were flagged: waiting for a decision ("flagged",
    oldest first), accepted, rejected, or all of them (the decided ones latest first)."""
    wanted = ("flagged", "accepted", "rejected") if status == "all" else (status,)
    stmt = select(StationCheckIn).where(StationCheckIn.status.in_(wanted))
    if status == "flagged":
        return stmt.order_by(StationCheckIn.day, StationCheckIn.checked_in_at, StationCheckIn.id)
    return stmt.order_by(StationCheckIn.day.desc(), StationCheckIn.checked_in_at.desc(), StationCheckIn.id.desc())


def already_present(checkin):
    """Does the worker already have another counted check-in at the station that day (accepting
    this one then changes nothing)?"""
    return db.session.execute(select(StationCheckIn.id).where(
        StationCheckIn.station_id == checkin.station_id, StationCheckIn.staff_id == checkin.staff_id,
        StationCheckIn.day == checkin.day, StationCheckIn.status.in_(COUNTED_STATUSES),
        StationCheckIn.id != checkin.id).limit(1)).first() is not None


def checkin_of_bureau(checkin_id):
    """A check-in of the current bureau, else NotFound."""
    return query.one_visible(select(StationCheckIn), StationCheckIn.id, checkin_id, _("No such check-in."))


def decide(checkin, decision, reason, user, now):
    """Accept (the staff-day counts) or reject (it does not) a flagged check-in, with a reason;
    one of a day whose month's statement is sent or later is not accepted (refuse_settled_day).
    The row is read afresh and locked, so two supervisors deciding at once never both succeed."""
    reason = (reason or "").strip()
    if decision not in DECISIONS:
        _refuse("decision", _("Choose accept or reject."))
    if not reason:
        _refuse("reason", _("Say why."))
    if len(reason) > REASON_LIMIT:
        _refuse("reason", _("At most %(n)s characters.", n=REASON_LIMIT))
    db.session.refresh(checkin, with_for_update=True)
    if checkin.status != "flagged":
        raise Conflict(_("This check-in was already decided."), {"decision": [_("This check-in was already decided.")]})
    if decision == "accept":
        refuse_settled_day(checkin.station, checkin.day, "decision")
    checkin.status = "accepted" if decision == "accept" else "rejected"
    checkin.decision_reason, checkin.decided_by_id, checkin.decided_at = reason, user.id, now
    db.session.flush()
    return checkin
