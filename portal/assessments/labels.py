"""What the assessment pages call things (docs/DOMAIN.md §6): the six indicators, the care classes
(the bureau settings page's own labels, one wording for both), the statuses of an assessment, of
an objection and of a change report's kinds."""
from flask_babel import lazy_gettext as _l

from portal.tenancy.settings_catalogue import CARE_CLASSES

INDICATOR_LABELS = {"eating": _l("Eating"), "dressing": _l("Dressing"), "bed_transfer": _l("Getting in and out of bed"),
                    "toileting": _l("Toileting"), "indoor_walking": _l("Walking indoors"), "bathing": _l("Bathing")}
CLASS_LABELS = dict(CARE_CLASSES)
ASSESSMENT_STATUS_LABELS = {"recorded": _l("Recorded"), "submitted": _l("Submitted"), "publicity": _l("In publicity"),
                            "rechecking": _l("Being re-checked"), "final": _l("Final"), "withdrawn": _l("Withdrawn")}
KIND_LABELS = {"initial": _l("Initial assessment"), "reassessment": _l("Re-assessment")}
OBJECTION_STATUS_LABELS = {"open": _l("Awaiting an answer"), "upheld": _l("Upheld"), "rejected": _l("Rejected")}
CHANGE_KIND_LABELS = {"hospitalised": _l("Hospitalised"), "moved": _l("Moved"),
                      "condition_changed": _l("Condition changed")}
