"""The assessment form of the field-worker web app (docs/DOMAIN.md §6): one mobile-first page at
/field/assessments/ for assessors without the native app. The server renders the shell only;
static/js/field-assessment.js lists the worker's people on contracts with an assessment item
(GET /api/v1/assignments), records the six indicators with the phone's position, keeps each
assessment in the browser under its client id until the server has it (so a resend after a lost
connection never makes a second one) and shows the class the server gives."""
from flask import render_template
from flask_babel import gettext as _

from portal.assessments.blueprint import field_bp
from portal.assessments.labels import CLASS_LABELS, INDICATOR_LABELS, STATUS_LABELS
from portal.assessments.models import INDICATORS
from portal.core.auth import capability_required


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
        "no_geolocation": _("This browser cannot give your position; use the phone app or another browser."),
        "position_failed": _("Your position could not be found: %(reason)s. Allow location access and try again."),
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
