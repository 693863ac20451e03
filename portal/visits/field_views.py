"""The field-worker web app (docs/DOMAIN.md §6): one mobile-first page at /field/ for workers without
the native app. The server only renders the shell; static/js/field.js does the work through the
JSON API (GET /api/v1/assignments, the visits endpoints), keeping visits in the browser with their
client ids until the server has them, so a resend after a lost connection never duplicates one.

The page lives at /field/ rather than under /supervision/, so it has a blueprint of its own
(``field_bp`` in visits/blueprint.py)."""
from flask import current_app, render_template, send_from_directory
from flask_babel import gettext as _

from portal.core.auth import capability_required
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.services import settings_for
from portal.visits.blueprint import field_bp
from portal.visits.catalogue import CARE_SERVICE_LABELS, CARE_SERVICES


def position_messages():
    """What the field pages share (field-queue.js): what FieldQueue.locate says per geolocation
    error code, in the page's language (the browser's own message, "User denied Geolocation", is in
    the browser's), the words for the other browser errors, and the warning before a check-in
    beyond the bureau's geofence radius with the dialog asking why (FieldQueue.askReason)."""
    return {
        "no_geolocation": _("This browser cannot give your position; use the phone app or another browser."),
        "position_denied": _("Location access is blocked for this site. Allow it in the browser's site "
                             "settings, then try again."),
        "position_unavailable": _("The phone cannot find its position now. Turn on location (GPS), move near a "
                                  "window or outdoors, then try again."),
        "position_timeout": _("Finding your position took too long. Try again."),
        "position_failed": _("Your position could not be found. Allow location access and try again."),
        # the other browser errors (FieldQueue.errorText, readPhoto): never the browser's own words
        "unexpected": _("Something went wrong on this phone. Try again; what is saved on the phone is kept."),
        "photo_unreadable": _("The photo could not be read. Take it again, or choose a JPEG or PNG picture."),
        "storage_full": _("This phone's storage for the queue is full: send or discard queued visits first."),
        # distances and the dialog asking why the worker goes on against a rule (FieldQueue.askReason)
        "metres_text": _("about %(metres)s m"), "km_text": _("about %(km)s km"),
        "warning_title": _("Before you go on"),
        "reason_legend": _("Why go on? (the reason is sent with the record and shown to the supervisor)"),
        "reasons": [_("The person was not at home; served at another place"), _("The GPS position is inaccurate"),
                    _("The address on record is out of date"), _("The person asked to end the service early"),
                    _("Emergency: the person was taken to hospital")],
        "reason_other": _("Other reason or details"),
        "reason_needed": _("Choose or type a reason first."),
        "proceed": _("Go on anyway"), "cancel": _("Cancel"), "list_separator": _(", "),
        "cancelled": _("Cancelled: nothing was recorded."),
        # before a check-in far from the home (rule V02): the bureau's radius and what is said
        "geofence_radius_m": geofence_radius(),
        "far_warning": _("You are %(distance)s from the person's home, beyond the %(radius)s m range. The check-in "
                         "will be flagged (V02); give the reason for the supervisor."),
        "far_note": _("Checked in %(distance)s from the home (range %(radius)s m); reason: %(reason)s"),
        "proceed_check_in": _("Check in anyway"),
    }


def geofence_radius():
    """The bureau's geofence radius in metres (rule V02, docs/DOMAIN.md §6), which the field pages
    warn by before a check-in far from the home."""
    return int(settings_for(current_tenant_id())["geofence_radius_m"])


def _messages():
    """The sentences field.js shows, translated here because the script is not extracted."""
    return {
        "no_assignments": _("You have no assignments today."),
        "assignments_failed": _("The assignments could not be loaded: %(reason)s"),
        "assignments_cached": _("Offline: showing the assignments saved on this phone."),
        "check_in": _("Check in"), "check_out": _("Check out"),
        "take_photo": _("Take a photo"), "service_item": _("Service item"),
        "locating": _("Finding your position…"),
        **position_messages(),
        "accuracy": _("accuracy ±%(metres)s m"),
        "from_home": _("about %(metres)s m from the home"),
        "photos": _("Photos: %(count)s"), "photo_required": _("A photo is required for this item."),
        "queue": _("Waiting to send: %(count)s"),
        "online": _("Online"),
        "offline": _("Offline: visits are kept on this phone and sent when the network returns."),
        "sending": _("Sending…"), "queued": _("Saved on this phone, waiting to be sent"),
        "sent": _("Sent to the server"),
        "conflict": _("Conflict: the server already holds a different visit with this id."),
        "error": _("Refused: %(reason)s"), "discard": _("Discard"),
        "discard_confirm": _("Discard this visit from the phone? It has not reached the server."),
        "signed_out": _("Your session has ended. Sign in again; queued visits stay on this phone."),
        "sign_in": _("Sign in"),
        "status": {"pending": _("Being verified"), "verified": _("Verified"), "exception": _("Exception"),
                   "rejected": _("Rejected")},
        "visit_of": _("Visit %(time)s"),
        # the catalogue services a care visit may carry, ticked before the check-out
        "services": [[code, str(CARE_SERVICE_LABELS[code])] for code in CARE_SERVICES],
        "services_done": _("Services done (tick them before checking out)"),
        "services_of": _("Services: %(list)s"),
        # the warnings before a check-in far from the home (V02) and an early check-out (V03)
        "short_warning": _("The service has lasted %(minutes)s min; this item needs at least %(min)s min. The "
                           "check-out will be flagged (V03); give the reason for the supervisor."),
        "short_note": _("Checked out after %(minutes)s min (minimum %(min)s min); reason: %(reason)s"),
        "long_warning": _("The service has lasted %(minutes)s min; this item allows at most %(max)s min. The "
                          "check-out will be flagged (V03); give the reason for the supervisor."),
        "long_note": _("Checked out after %(minutes)s min (maximum %(max)s min); reason: %(reason)s"),
        "proceed_check_out": _("Check out anyway"),
        "timer": _("In service %(time)s"), "timer_minutes": _("In service for %(minutes)s min"),
        "done": _("Done today"), "done_times": _("Checked in %(start)s, checked out %(end)s"),
        "again": _("Record another visit today"),
        "again_confirm": _("This person's visit today is already done. Record another visit of them today? A "
                           "visit beyond the item's daily limit is flagged (V07)."),
    }


@field_bp.get("/")
@capability_required("visit.record")
def index():
    """Today's assignments with check-in, check-out, photos and the offline queue."""
    return render_template("visits/field/index.html", messages=_messages())


@field_bp.get("/sw.js")
def service_worker():
    """The service worker that keeps the page and its static files for offline use. Served from
    /field/ so that its default scope is the app; it holds nothing personal, so no sign-in."""
    response = send_from_directory(current_app.static_folder, "js/field-sw.js", mimetype="text/javascript",
                                   max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response

