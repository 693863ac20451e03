"""Forms of contractor onboarding and the staff roster. Identifiers are checked by the services
(portal.core.identity), whose messages name the wrong part; forms check presence and length."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields import MonthField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

KIND_LABELS = {"social_work_agency": _l("Social-work agency"), "company": _l("Company"), "other": _l("Other")}
STATUS_LABELS = {"pending": _l("Pending"), "approved": _l("Approved"), "rejected": _l("Rejected"),
                 "suspended": _l("Suspended")}
DOCUMENT_LABELS = {"licence": _l("Business licence"), "qualification": _l("Qualification"), "other": _l("Other")}
# What the bureau can do to a registration: button, confirmation question, whether a reason is needed.
REGISTRATION_ACTIONS = {
    "approve": {"label": _l("Approve"),
                "confirm": _l("Approve the registration of %(name)s? It may then bid and serve in this bureau."),
                "reason": False,
                "done": _l("The registration has been approved.")},
    "reject": {"label": _l("Reject"), "confirm": _l("Reject the registration of %(name)s?"), "reason": True,
               "done": _l("The registration has been rejected.")},
    "suspend": {"label": _l("Suspend"),
                "confirm": _l("Suspend the registration of %(name)s? It cannot bid in this bureau while suspended."),
                "reason": True,
                "done": _l("The registration has been suspended.")},
    "reinstate": {"label": _l("Reinstate"), "confirm": _l("Reinstate the registration of %(name)s?"),
                  "reason": False, "done": _l("The registration has been reinstated.")},
}
PHONE_RULE = Regexp(r"^[0-9+\- ]{0,32}$", message=_l("Digits, spaces, + or - only."))


class ContractorForm(FlaskForm):
    name = StringField(_l("Organisation name"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"), validators=[DataRequired(), Length(max=40)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, v) for k, v in KIND_LABELS.items()])
    legal_representative = StringField(_l("Legal representative"), validators=[DataRequired(), Length(max=64)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), PHONE_RULE])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])


class ContractorEditForm(ContractorForm):
    credit_code = None  # the code identifies the organisation and never changes


class DocumentForm(FlaskForm):
    kind = SelectField(_l("Kind of document"), choices=[SelectChoice(k, v) for k, v in DOCUMENT_LABELS.items()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    file = FileField(_l("File (PDF, JPEG or PNG, at most 20 MB)"))


class DecisionForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])


class BlacklistForm(FlaskForm):
    contractor = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    starts_on = DateField(_l("From"), validators=[DataRequired(_l("Give a date (YYYY-MM-DD)."))])
    ends_on = DateField(_l("Until"), validators=[DataRequired(_l("Give a date (YYYY-MM-DD)."))])


class StaffForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=64)])
    id_number = StringField(_l("Resident ID number"), validators=[DataRequired(), Length(max=40)])
    phone = StringField(_l("Phone"), validators=[Optional(), PHONE_RULE])
    qualification = StringField(_l("Qualification"), validators=[Optional(), Length(max=120)])
    joined_on = DateField(_l("Joined on"), validators=[DataRequired(_l("Give a date (YYYY-MM-DD)."))])


class LeaveForm(FlaskForm):
    left_on = DateField(_l("Left on"), validators=[DataRequired(_l("Give a date (YYYY-MM-DD)."))])


class ImportForm(FlaskForm):
    file = FileField(_l("Roster file (.xlsx)"))


class ConfirmImportForm(FlaskForm):
    preview = HiddenField()


class EmploymentForm(FlaskForm):
    month = MonthField(_l("Month"), validators=[DataRequired(_l("Give a month (YYYY-MM)."))])
    labour_contract = BooleanField(_l("Labour contract in force"))
    insured_by_credit_code = StringField(_l("Social insurance paid by (credit code)"),
                                         validators=[Optional(), Length(max=40)])
    evidence = FileField(_l("Evidence (PDF, JPEG or PNG, optional)"))
