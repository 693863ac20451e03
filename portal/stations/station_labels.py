"""The words of stations on pages, in one place for every page of the stations (not training):
kinds of station, statuses of check-ins, the eight target groups of the service logs (the
beneficiaries' own labels, docs/DOMAIN.md §2). Lazy, so each is translated in the language of the
page that shows it."""
from flask_babel import lazy_gettext as _l

from portal.beneficiaries.forms import CATEGORY_LABELS as GROUP_LABELS  # noqa: F401  the eight target groups
from portal.surveys.labels import label  # noqa: F401  the one way to word a code

KIND_LABELS = {"hub": _l("District hub (区总站)"), "township": _l("Township social-work station (社工站)")}
CHECKIN_STATUS_LABELS = {
    "counted": _l("Counted"),
    "flagged": _l("Flagged: waiting for a supervisor"),
    "accepted": _l("Accepted by a supervisor (counted)"),
    "rejected": _l("Rejected by a supervisor (not counted)"),
}

