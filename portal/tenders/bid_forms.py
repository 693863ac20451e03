"""Forms of the bid, evaluation and award pages (bid_views.py)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

AMOUNT = Regexp(r"^\s*\d{1,13}(\.\d{1,2})?\s*$", message=_l("An amount in yuan with at most two decimals."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class BidForm(FlaskForm):
    price = StringField(_l("Price (yuan)"), validators=[DataRequired(), AMOUNT])
    staff = MultiCheckboxField(_l("Staffing plan (members of your active roster)"), coerce=int)
    proposal = FileField(_l("Technical proposal (PDF)"))


MEMBER_KIND_LABELS = {"expert": _l("Evaluation expert"), "buyer_representative": _l("Buyer representative")}


class ExpertForm(FlaskForm):
    """A member of the evaluation committee (87号令 §47)."""
    name = StringField(_l("Member's name"), validators=[DataRequired(), Length(max=64)])
    kind = RadioField(_l("Member"), choices=[SelectChoice(k, label) for k, label in MEMBER_KIND_LABELS.items()],
                      default="expert", validators=[DataRequired()])
    field = StringField(_l("Expert's field"), validators=[Optional(), Length(max=100)])
    organisation = StringField(_l("Organisation"), validators=[Optional(), Length(max=200)])


class RemedyForm(FlaskForm):
    """What follows an upheld challenge (tenders/remedies.py); the choices are set per challenge."""
    remedy = RadioField(_l("What follows"), validators=[DataRequired()])


class ValidityForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("valid", _l("Valid")), SelectChoice("invalid", _l("Invalid"))],
                          validators=[DataRequired()])
    reason = StringField(_l("Reason (when invalid)"), validators=[Optional(), Length(max=500)])


class ChallengeForm(FlaskForm):
    challenger = StringField(_l("Challenger"), validators=[DataRequired(), Length(max=200)])
    grounds = TextAreaField(_l("Grounds"), validators=[DataRequired(), Length(max=5000)])
    may_change_result = BooleanField(_l("May change the result"), default=True)


class BidderChallengeForm(FlaskForm):
    """A bidder's own challenge: the grounds, in writing."""
    grounds = TextAreaField(_l("Grounds"), validators=[DataRequired(), Length(max=5000)])


class AnswerForm(FlaskForm):
    outcome = RadioField(_l("Outcome"), choices=[SelectChoice("dismissed", _l("Dismissed")), SelectChoice("upheld", _l("Upheld"))],
                         validators=[DataRequired()])
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(), Length(max=5000)])


class DocumentsForm(FlaskForm):
    file = FileField(_l("Tender documents (PDF)"))
