"""The station check-in of the field-worker web app (docs/DOMAIN.md §6 "Stations and training"):
one mobile-first page at /field/stations/ for workers posted to a station. The server renders the
worker's postings (each station's code, name and address: a public office's) and what reached it
today; static/js/field-station.js keeps each check-in in the browser under a client id made once,
with its body frozen, until the server has answered (a resend after a lost connection never makes
a second one), sends exactly the body of POST /api/v1/station-checkins and shows the answer:
counted, or outside the geofence by so many metres.

The field app's home (/field/) links here when the worker is posted somewhere today:
``station_checkin_offered`` is given to every template for that (visits may not import stations)."""
from datetime import timedelta

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from portal.contractors.models import StaffMember
from portal.core.auth import capability_required
from portal.core.timeutil import local_today, to_local
from portal.extensions import db
from portal.stations.blueprint import field_bp
from portal.stations.models import COUNTED_STATUSES, StationCheckIn, StationPosting
from portal.stations.postings import posted_during
from portal.visits.field_views import position_messages

# postings shown: those running today and in the next days (a page kept offline overnight still
# offers tomorrow's), the script keeps those of the phone's own day
AHEAD_DAYS = 7


def worker_postings(user, first, last):
    """The postings of the worker signed in as ``user`` running on some day of ``first`` … ``last``."""
    return db.session.execute(
        select(StationPosting).join(StaffMember, StaffMember.id == StationPosting.staff_id)
        .where(StaffMember.user_id == user.id, posted_during(first, last))
        .order_by(StationPosting.from_on, StationPosting.id)).scalars().all()


def _postings(today):
    shown = []
    for posting in worker_postings(current_user, today, today + timedelta(days=AHEAD_DAYS)):
        station = posting.station
        if not station.active:
            continue
        shown.append({"station_id": station.id, "code": station.code, "name": station.name,
                      "township": station.township, "address": station.address,
                      "lat": station.lat, "lon": station.lon, "radius_m": station.radius_m,  # for the warning
                      "from_on": posting.from_on.isoformat(),
                      "until_on": posting.until_on.isoformat() if posting.until_on else None})
    return shown


def _today(today):
    """What reached the server today from this worker (any phone): one line per check-in."""
    rows = db.session.execute(select(StationCheckIn).where(
        StationCheckIn.worker_user_id == current_user.id, StationCheckIn.day == today)
        .order_by(StationCheckIn.checked_in_at)).scalars().all()
    return [{"client_id": c.client_id, "station_id": c.station_id, "at": to_local(c.checked_in_at).isoformat(),
             "status": c.status, "distance_m": c.distance_m, "counted": c.status in COUNTED_STATUSES} for c in rows]


def _messages(today):
    """The sentences field-station.js shows, translated here because the script is not extracted."""
    return {
        **position_messages(),
        "postings": _postings(today), "today": today.isoformat(), "sent_today": _today(today),
        "no_postings": _("You are not posted to a station today."),
        "check_in": _("Check in at this station"), "locating": _("Finding your position…"),
        "posted_until": _("Posted until %(day)s"), "posted_open": _("Posted until further notice"),
        "counted": _("Counted: within the station's geofence (%(metres)s m away)."),
        "flagged": _("Flagged: %(metres)s m from the station (outside the geofence, uploaded late, or a phone "
                     "another worker used today). Not counted unless a supervisor accepts it."),
        "accepted": _("Accepted by a supervisor: counted."),
        "rejected": _("Rejected by a supervisor: not counted."),
        "checked_in_at": _("Checked in %(time)s"),
        "storage_full": _("This phone's storage for the queue is full: send or discard queued check-ins first."),
        "queue": _("Waiting to send: %(count)s"), "online": _("Online"),
        "offline": _("Offline: check-ins are kept on this phone and sent when the network returns."),
        "sending": _("Sending…"), "queued": _("Saved on this phone, waiting to be sent"),
        "conflict": _("Conflict: the server already holds a different check-in with this id."),
        "error": _("Refused: %(reason)s"), "discard": _("Discard"),
        "discard_confirm": _("Discard this check-in from the phone? It has not reached the server."),
        "signed_out": _("Your session has ended. Sign in again; queued check-ins stay on this phone."),
        "sign_in": _("Sign in"),
        "second_today": _("You already checked in here today. Check in again?"),
        "station_far_warning": _("You are %(distance)s from the station, beyond its %(radius)s m range. The "
                                 "check-in will be flagged and not counted unless a supervisor accepts it."),
        "station_far_note": _("Checked in %(distance)s from the station (range %(radius)s m); reason: %(reason)s"),
        "other_queued": _("Check-ins of other days or stations"),
    }


@field_bp.get("/")
@capability_required("station.checkin")
def checkin_page():
    """The worker's postings today with the check-in button and the offline queue."""
    today = local_today()
    return render_template("stations/field.html", messages=_messages(today))


def posted_today(user, day):
    """Is the worker signed in as ``user`` posted to an active station on ``day``?"""
    return any(p.station.active for p in worker_postings(user, day, day))


@field_bp.app_context_processor
def _station_checkin_link():
    """``station_checkin_offered()`` for the field app's home: a worker posted to a station today."""
    def station_checkin_offered():
        return (current_user.is_authenticated and current_user.can("station.checkin")
                and posted_today(current_user, local_today()))
    return {"station_checkin_offered": station_checkin_offered}
