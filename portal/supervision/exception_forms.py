"""Forms and labels of the visit-exception and visit-report pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.supervision.exceptions import RESPONSE_REASONS

CODE_LABELS = {
    "V01": _l("Worker not on the active roster"),
    "V02": _l("Check-in too far from home"),
    "V03": _l("Duration outside the item's limits"),
    "V04": _l("Overlapping visits"),
    "V05": _l("Impossible travel"),
    "V06": _l("Beneficiary not eligible that day"),
    "V07": _l("Beyond the daily limit"),
    "V08": _l("Missing or impossible times"),
    "V09": _l("Uploaded late (warning)"),
    "V10": _l("Device shared by several workers"),
    "V11": _l("Required photo missing"),
}
EXCEPTION_STATUS_LABELS = {"open": _l("Open"), "answered": _l("Answered"), "accepted": _l("Accepted"),
                           "rejected": _l("Rejected")}
VISIT_STATUS_LABELS = {"pending": _l("Pending"), "verified": _l("Verified"), "exception": _l("Exception"),
                       "rejected": _l("Rejected")}
SOURCE_LABELS = {"app": _l("Phone app"), "web": _l("Field web page"), "manual": _l("Entered by hand")}
EXCEPTION_DECISIONS = {
    "accept": {"label": _l("Accept"),
               "question": _l("Accept these exceptions? A visit becomes verified once none of its exceptions "
                              "is left open."),
               "done": _l("%(n)s exception(s) accepted.")},
    "reject": {"label": _l("Reject"),
               "question": _l("Reject these exceptions? Their visits are rejected and will not be paid."),
               "done": _l("%(n)s exception(s) rejected.")},
}


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
