"""The assessment form of the field-worker web app (docs/DOMAIN.md §6): one mobile-first page at
/field/assessments/ for assessors without the native app. The server renders the shell only;
static/js/field-assessment.js lists the worker's people on contracts with an assessment item
(GET /api/v1/assignments), records the six indicators with the phone's position, keeps each
assessment in the browser under its client id until the server has it (so a resend after a lost
connection never makes a second one) and shows the class the server gives. Optional photos wait
with the assessment and follow it once it is stored; each card says who was assessed today."""
from flask import render_template
from flask_babel import gettext as _

from portal.assessments.blueprint import field_bp
from portal.assessments.labels import CLASS_LABELS, INDICATOR_LABELS, STATUS_LABELS
from portal.assessments.models import INDICATORS
from portal.core.auth import capability_required
from portal.visits.field_views import position_messages


def _messages():
    """The sentences field-assessment.js shows, translated here because the script is not extracted."""
    return {
        "no_assignments": _("Nobody is assigned to you for an assessment."),
        "assignments_failed": _("The assignments could not be loaded: %(reason)s"),
        "assignments_cached": _("Offline: showing the assignments saved on this phone."),
        "indicators": [{"name": name, "label": str(INDICATOR_LABELS[name])} for name in INDICATORS],
        "can": _("Can"), "cannot": _("Cannot"),
        "notes": _("Notes"), "record": _("Record the assessment"),
        "answer_all": _("Answer all six indicators first."),
        "locating": _("Finding your position…"),
        **position_messages(),
        "take_photo": _("Take a photo"), "photos": _("Photos: %(count)s"),
        "remove_photos": _("Remove the photos"),
        "photos_waiting": _("%(count)s waiting to be sent"),
        "photo_problem": _("Photos refused: %(reason)s"),
        "photo_refused": _("One photo was not accepted and was dropped (the others are sent): %(reason)s"),
        "discard_photos": _("Discard the unsent photos"),
        "discard_photos_confirm": _("Discard the photos of this assessment that have not reached the server?"),
        "today_queued": _("Assessed today at %(time)s: %(class)s; saved on this phone, waiting to be sent."),
        "today_sent": _("Assessed today at %(time)s: %(class)s; sent to the server."),
        "assess_again": _("Record another assessment today"),
        "second_today": _("%(name)s was already assessed today. Record a second assessment of the same person?"),
        "storage_full": _("This phone's storage for the queue is full: send or discard queued assessments first."),
        "queue": _("Waiting to send: %(count)s"),
        "online": _("Online"),
        "offline": _("Offline: assessments are kept on this phone and sent when the network returns."),
        "sending": _("Sending…"), "queued": _("Saved on this phone, waiting to be sent"),
        "sent": _("Sent to the server"),
        "conflict": _("Conflict: the server already holds a different assessment with this id."),
        "error": _("Refused: %(reason)s"), "discard": _("Discard"),
        "discard_confirm": _("Discard this assessment from the phone? It has not reached the server."),
        "signed_out": _("Your session has ended. Sign in again; queued assessments stay on this phone."),
        "sign_in": _("Sign in"),
        "not_met": _("%(count)s of 6 not met"),
        "classes": {code: str(label) for code, label in CLASS_LABELS.items()},
        "statuses": {code: str(label) for code, label in STATUS_LABELS.items()},
        "assessment_of": _("Assessment %(time)s"),
        "open": _("Open the assessment"),
        "from_home": _("about %(metres)s m from the home"),
    }


@field_bp.get("/")
@capability_required("assessment.record")
def index():
    """The assessor's people with the assessment form and the offline queue."""
    return render_template("assessments/field.html", messages=_messages())
