"""The field-worker web app (docs/DOMAIN.md §6): one mobile-first page at /field/ for workers without
the native app. The server only renders the shell; static/js/field.js does the work through the
JSON API (GET /api/v1/assignments, the visits endpoints), keeping visits in the browser with their
client ids until the server has them, so a resend after a lost connection never duplicates one.

The page lives at /field/ rather than under /supervision/, so it has a blueprint of its own
(``field_bp`` in visits/blueprint.py)."""
from flask import current_app, render_template, send_from_directory
from flask_babel import gettext as _

from portal.core.auth import capability_required
from portal.visits.blueprint import field_bp
from portal.visits.catalogue import CARE_SERVICE_LABELS, CARE_SERVICES


def position_messages():
    """What FieldQueue.locate (field-queue.js) says per geolocation error code, in the page's
    language: the browser's own message ("User denied Geolocation") is in the browser's."""
    return {
        "no_geolocation": _("This browser cannot give your position; use the phone app or another browser."),
        "position_denied": _("Location access is blocked for this site. Allow it in the browser's site "
                             "settings, then try again."),
        "position_unavailable": _("The phone cannot find its position now. Turn on location (GPS), move near a "
                                  "window or outdoors, then try again."),
        "position_timeout": _("Finding your position took too long. Try again."),
        "position_failed": _("Your position could not be found. Allow location access and try again."),
    }


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
        "photo_failed": _("The photo could not be read: %(reason)s"),
        "storage_full": _("This phone's storage for the queue is full: send or discard queued visits first."),
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
        "services_of": _("Services: %(list)s"), "list_separator": _(", "),
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

