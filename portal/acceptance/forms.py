"""Forms of the acceptance pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, FieldList, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.acceptance.decisions import CONCLUSION_LIMIT, NAME_LIMIT
from portal.acceptance.services import COMMENT_LIMIT

RESPONDENT_LABELS = {"self": _l("The person served"), "guardian": _l("A guardian")}
METHOD_LABELS = {"phone": _l("By phone"), "home_visit": _l("At a home visit")}
OPINION_LABELS = {"satisfied": _l("Satisfied"), "basic": _l("Basically satisfied"),
                  "not_satisfied": _l("Not satisfied"), "unreachable": _l("Unreachable"), None: _l("Not asked yet")}
STATUS_LABELS = {"open": _l("Gathering opinions"), "passed": _l("Passed"), "failed": _l("Not passed")}
COMMITTEE_ROWS = 7


def _choices(labels):
    return [SelectChoice(key, label) for key, label in labels.items() if key is not None]


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Contract number"), validators=[Optional(), Length(max=64)])
    status = SelectField(_l("State"), validate_choice=False)


class NewForm(FlaskForm):
    contract = SelectField(_l("Contract"), coerce=int, validate_choice=False,
                           validators=[DataRequired(_l("Choose a contract of this bureau."))])
    period_start = DateField(_l("Acceptance period from"), validators=[DataRequired(_l("Give the period's first day."))])
    period_end = DateField(_l("Period to"), validators=[DataRequired(_l("Give the period's last day."))])


class OpinionForm(FlaskForm):
    respondent = RadioField(_l("Who answered"), choices=_choices(RESPONDENT_LABELS),
                            validators=[DataRequired(_l("Choose the person or a guardian."))])
    method = RadioField(_l("How"), choices=_choices(METHOD_LABELS),
                        validators=[DataRequired(_l("Choose a phone call or a home visit."))])
    opinion = RadioField(_l("Opinion"), choices=_choices(OPINION_LABELS), validators=[DataRequired(
        _l("Choose satisfied, basically satisfied, not satisfied or unreachable."))])
    comment = TextAreaField(_l("Comment (private, never published)"),
                            validators=[Optional(), Length(max=COMMENT_LIMIT)])
    asked_on = DateField(_l("Day asked"), validators=[DataRequired(_l("Give the day the person was asked."))])


class MemberForm(FlaskForm):
    class Meta:
        csrf = False

    name = StringField(_l("Member's name"), validators=[Optional(), Length(max=NAME_LIMIT)])
    affiliation = StringField(_l("Affiliation"), validators=[Optional(), Length(max=NAME_LIMIT)])
    signed = BooleanField(_l("Signed (by hand)"))


class CommitteeForm(FlaskForm):
    members = FieldList(FormField(MemberForm), min_entries=COMMITTEE_ROWS, max_entries=COMMITTEE_ROWS)
    conclusion = TextAreaField(_l("The committee's conclusion"), validators=[Optional(), Length(max=CONCLUSION_LIMIT)])


class SignedRecordForm(FlaskForm):
    signed_record = FileField(_l("The signed record (PDF, JPEG or PNG)"))


class DecideForm(FlaskForm):
    result = RadioField(_l("The committee's result"),
                        choices=[SelectChoice(key, STATUS_LABELS[key]) for key in ("passed", "failed")],
                        validators=[DataRequired(_l("Choose passed or failed."))])
    confirm = BooleanField(_l("I understand the result is final; a failed acceptance blocks the final payment"),
                           validators=[DataRequired(_l("Confirm before deciding."))])


class RerunForm(FlaskForm):
    confirm = BooleanField(_l("Run this acceptance again for the same period: a new sample is drawn and this failed "
                              "result stays on record"),
                           validators=[DataRequired(_l("Confirm before running the acceptance again."))])


class PublishForm(FlaskForm):
    confirm = BooleanField(_l("Publish the counts and the result (no names, no comments)"),
                           validators=[DataRequired(_l("Confirm before publishing."))])
