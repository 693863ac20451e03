"""Forms and labels of the violation pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

KIND_LABELS = {
    "unlisted_worker": _l("Delivered by someone not on the roster (V01)"),
    "two_rosters": _l("Same person on two rosters"),
    "insured_elsewhere": _l("Social insurance paid by another employer"),
    "not_on_roster": _l("Not on the active roster"),
    "shared_device": _l("Shared device"),
}
STATUS_LABELS = {"open": _l("Open"), "confirmed": _l("Confirmed"), "dismissed": _l("Dismissed as unfounded")}
# Labels of the facts detectors write into a violation's evidence (unknown keys show as they are).
EVIDENCE_LABELS = {
    "person": _l("Person"), "id_number": _l("ID number"), "contractor": _l("Contractor"),
    "roster": _l("On the contractor's roster"), "other_roster": _l("Also on the roster of"),
    "overlap": _l("Overlap"), "work_list": _l("On the contract's work list"), "month": _l("Month"),
    "insured_by_credit_code": _l("Social insurance paid by (credit code)"),
    "insured_by_name": _l("Social insurance paid by"),
    "contractor_credit_code": _l("Contractor's credit code"),
    "roster_contractor": _l("Roster entry of"), "first_day_off_roster": _l("First day not on the roster"),
    "reason": _l("Why"),
}
REASON_LABELS = {"never": _l("never on the contractor's roster"), "not_yet": _l("had not joined the roster yet"),
                 "left": _l("had left the roster")}
DECISIONS = {
    "confirm": {"label": _l("Confirm the violation"),
                "question": _l("Confirm this violation? The monthly settlement deducts the contract's penalty "
                               "for it."),
                "done": _l("The violation has been confirmed.")},
    "dismiss": {"label": _l("Dismiss the violation"),
                "question": _l("Dismiss this violation? It will no longer count towards the contract's "
                               "suspension review."),
                "done": _l("The violation has been dismissed.")},
}


class DecisionForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[DataRequired(_l("Write a note that explains the decision.")),
                                                 Length(max=2000)])


class FilterForm(FlaskForm):
    """The list's filters, read from the query string."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    contract = SelectField(_l("Contract"), validate_choice=False)
    worker = SelectField(_l("Worker"), validate_choice=False)
