"""Forms of public feedback: the public form (with its honeypot) and the bureau's assign, answer
and publish forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from flask_babel import lazy_gettext as _l

from portal.feedback.services import ANSWER_LIMIT, CONTACT_LIMIT, FINDING_LABELS, TEXT_LIMIT, TOPIC_LABELS


class FeedbackForm(FlaskForm):
    """The public form. ``website`` is the honeypot: hidden from people, left empty by them."""
    topic = SelectField(_l("What is it about"), choices=[SelectChoice(code, label) for code, label in TOPIC_LABELS.items()],
                        validators=[DataRequired(_l("Choose what the feedback is about."))])
    contractor = SelectField(_l("Which contractor (optional)"), validate_choice=False, validators=[Optional()])
    text = TextAreaField(_l("Your feedback"), validators=[DataRequired(_l("Write your feedback.")),
                                                         Length(max=TEXT_LIMIT)])
    contact = StringField(_l("How to reach you (optional; never published)"),
                          validators=[Optional(), Length(max=CONTACT_LIMIT)])
    consent = BooleanField(_l("The answer may be published without my details"))
    website = StringField(_l("Leave this field empty"))


class AssignForm(FlaskForm):
    user = SelectField(_l("Assign to"), coerce=int, validate_choice=False,
                       validators=[DataRequired(_l("Choose a member of the bureau's staff."))])


class AnswerForm(FlaskForm):
    """``finding`` is asked (and required by services.answer) only for an item about a contractor."""
    answer = TextAreaField(_l("Answer"), validators=[DataRequired(_l("Write the answer the sender will read.")),
                                                     Length(max=ANSWER_LIMIT)])
    finding = SelectField(_l("Finding on the complaint about the contractor"), validate_choice=False,
                          choices=[SelectChoice("", _l("Choose…"))] + [SelectChoice(code, label)
                                                                        for code, label in FINDING_LABELS.items()])


class PublishForm(FlaskForm):
    confirm = BooleanField(_l("I have read the answer: it names no person served and no worker"),
                           validators=[DataRequired(_l("Confirm before publishing."))])
