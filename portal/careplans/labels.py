"""The words of care plans on pages, in one place for every page of the package and the person's
file: the four needs dimensions, the scores, the plan statuses; the catalogue services and the
care classes are named where they are defined (visits.catalogue, assessments.labels). Lazy, so
each is translated in the language of the page that shows it."""
from flask_babel import lazy_gettext as _l

from portal.assessments.labels import CLASS_LABELS  # noqa: F401  (one set of words for the classes)
from portal.visits.catalogue import CARE_SERVICE_LABELS  # noqa: F401  (the catalogue's own words)

DIMENSION_LABELS = {
    "health": _l("Health maintenance (健康维护)"),
    "emotional": _l("Psychological and emotional support (心理情感支持)"),
    "home_safety": _l("Home safety (居家安全)"),
    "capability": _l("Capability building (能力提升)"),
}
SCORE_LABELS = {
    1: _l("1 — no need"),
    2: _l("2 — low need"),
    3: _l("3 — some need"),
    4: _l("4 — high need"),
    5: _l("5 — very high need"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Awaiting the bureau's approval"),
    "approved": _l("Approved"),
    "returned": _l("Returned to the contractor"),
    "superseded": _l("Superseded by a later version"),
}
NEEDS_FIELD_LABELS = {
    "contract": _l("Care contract"),
    "assessed_on": _l("Day of the assessment"),
}
