"""Forms and labels of the visit-exception and visit-report pages."""
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.visits.exceptions import RESPONSE_REASONS

CODE_LABELS = {
    "V01": _l("Worker not on the active roster"),
    "V02": _l("Check-in too far from home"),
    "V03": _l("Duration outside the item's limits"),
    "V04": _l("Overlapping visits"),
    "V05": _l("Impossible travel"),
    "V06": _l("Beneficiary not eligible that day"),
    "V07": _l("Beyond the daily limit"),
    "V08": _l("Missing or impossible times"),
    "V09": _l("Uploaded late"),  # a warning: the pages add "(warning)" to it
    "V10": _l("Device shared by several workers"),
    "V11": _l("Required photo missing"),
}
EXCEPTION_STATUS_LABELS = {"open": _l("Open"), "answered": _l("Answered"), "accepted": _l("Accepted"),
                           "rejected": _l("Rejected")}
VISIT_STATUS_LABELS = {"pending": _l("Pending"), "verified": _l("Verified"), "exception": _l("Exception"),
                       "rejected": _l("Rejected")}
CORRECTION_STATUS_LABELS = {"pending": _l("Waiting for the supervisor's decision"), "accepted": _l("Accepted"),
                            "rejected": _l("Rejected"), "superseded": _l("Superseded by a later correction")}
CORRECTION_REASON_LABELS = {"left_early": _l("Left early"), "forgot_check_out": _l("Forgot to check out"),
                            "checked_in_early": _l("Checked in too early"),
                            "device_clock": _l("Wrong clock on the device"),
                            "other": _l("Other reason")}
SOURCE_LABELS = {"app": _l("Phone app"), "web": _l("Field web page"), "manual": _l("Entered by hand")}
EXCEPTION_DECISIONS = {
    "accept": {"label": _l("Accept"),
               "question": _l("Accept these exceptions? A visit becomes verified once none of its exceptions "
                              "is left open."),
               "done": lambda n: ngettext("%(num)s exception accepted.", "%(num)s exceptions accepted.", n)},
    "reject": {"label": _l("Reject"),
               "question": _l("Reject these exceptions? Their visits are rejected and will not be paid."),
               "done": lambda n: ngettext("%(num)s exception rejected.", "%(num)s exceptions rejected.", n)},
}

# V01 is never accepted (subcontracting, docs/DOMAIN.md §7): rejecting it confirms the violation.
V01_DECISIONS = {
    "reject": {"label": _l("Confirm the violation"),
               "question": _l("Confirm the violation? The visit is rejected and never paid, and the subcontracting "
                              "violation recorded with it is confirmed."),
               "done": lambda n: ngettext("%(num)s violation confirmed.", "%(num)s violations confirmed.", n)},
}
NEXT_MOVES = {
    "open": _l("Next: the contractor's manager answers; the bureau's supervisor may also decide now."),
    "answered": _l("Next: the bureau's supervisor accepts or rejects the answer."),
    "v01": _l("Next: the bureau's supervisor confirms the violation, or re-checks the roster if it has been "
              "corrected with employment evidence. A V01 finding is never accepted: the visit is not paid."),
    "v01_open": _l("Next: the contractor's manager may answer; the bureau's supervisor confirms the violation, or "
                   "re-checks the roster if it has been corrected with employment evidence."),
    "decided": _l("Decided: nothing more to do."),
}


def decisions_for(exception):
    """The decisions a supervisor is offered on ``exception``: never an acceptance of V01."""
    return V01_DECISIONS if exception.code == "V01" else EXCEPTION_DECISIONS


def next_move(exception):
    """Whose move it is on ``exception``, as a sentence."""
    if exception.status not in ("open", "answered"):
        return NEXT_MOVES["decided"]
    if exception.code == "V01":
        return NEXT_MOVES["v01_open" if exception.status == "open" else "v01"]
    return NEXT_MOVES[exception.status]


class ExceptionFilterForm(FlaskForm):
    """The queue's filters, read from the query string."""

    class Meta:
        csrf = False

    code = SelectField(_l("Code"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    worker = SelectField(_l("Worker"), validate_choice=False)
    contract = SelectField(_l("Contract"), validate_choice=False)
    beneficiary = StringField(_l("Beneficiary (name or masked name)"), validators=[Optional(), Length(max=64)])
    date_from = StringField(_l("From"), render_kw={"type": "date"})
    date_to = StringField(_l("To"), render_kw={"type": "date"})


class AnswerForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=[SelectChoice("", "—")] + [SelectChoice(code, label) for code, label
                                                                          in RESPONSE_REASONS.items()],
                         validators=[DataRequired(_l("Choose a reason from the list."))])
    text = TextAreaField(_l("What happened"), validators=[DataRequired(_l("Explain what happened.")),
                                                          Length(max=4000)])
    evidence = FileField(_l("Evidence (PDF, JPEG or PNG, optional)"), render_kw={"accept": ".pdf,.jpg,.jpeg,.png"})


class ExceptionDecisionForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class BulkDecisionForm(FlaskForm):
    """The bulk step: ``ids`` are read with request.form.getlist; ``confirmed`` marks the second post."""

    action = HiddenField()
    confirmed = HiddenField()
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class ReportFilterForm(FlaskForm):
    class Meta:
        csrf = False

    day = StringField(_l("Day"), render_kw={"type": "date"})
    month = StringField(_l("Month"), render_kw={"type": "month"})
    date_from = StringField(_l("From"), render_kw={"type": "date"})
    date_to = StringField(_l("To"), render_kw={"type": "date"})
    contract = SelectField(_l("Contract"), validate_choice=False)
