"""The words of assessments on pages, in one place for every page of the package (and the public
list): the six indicators, the classes, the statuses and kinds, the objections' statuses and the
kinds of change report (docs/DOMAIN.md §6). Lazy, so each
is translated in the language of the page that shows it."""
from flask_babel import lazy_gettext as _l

# The indicators as the national form names them (自主吃饭 …), in the order of models.INDICATORS.
INDICATOR_LABELS = {
    "eating": _l("Eating unaided"),
    "dressing": _l("Dressing unaided"),
    "bed_transfer": _l("Getting in and out of bed unaided"),
    "toileting": _l("Using the toilet unaided"),
    "indoor_walking": _l("Walking indoors"),
    "bathing": _l("Bathing unaided"),
}
CLASS_LABELS = {
    "self_care": _l("Able to care for oneself"),
    "partial": _l("Partly unable to care for oneself"),
    "complete": _l("Fully unable to care for oneself"),
}
STATUS_LABELS = {
    "recorded": _l("Recorded"),
    "submitted": _l("Submitted to the bureau"),
    "publicity": _l("In publicity"),
    "rechecking": _l("Being re-checked"),
    "final": _l("Final"),
    "withdrawn": _l("Withdrawn"),
}
KIND_LABELS = {"initial": _l("First assessment"), "reassessment": _l("Re-assessment")}
MET_LABELS = {True: _l("Met"), False: _l("Not met")}


def class_label(code):
    """The words of a class code (the code itself when unknown, "—" for none)."""
    return CLASS_LABELS.get(code, code) if code else "—"


def status_label(code):
    return STATUS_LABELS.get(code, code)


OBJECTION_STATUS_LABELS = {"open": _l("Awaiting an answer"), "upheld": _l("Objection upheld"),
                           "rejected": _l("Objection rejected")}
CHANGE_KIND_LABELS = {"hospitalised": _l("Hospitalised"), "moved": _l("Moved"),
                      "condition_changed": _l("Condition changed")}
