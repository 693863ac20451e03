"""Forms of the publicity, objection and re-check pages (bureau side and public side)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal.assessments.models import INDICATORS
from portal.assessments.objections import ANSWER_LIMIT, CONTACT_LIMIT, DECISION_LABELS, TEXT_LIMIT
from portal.assessments.rechecks import NOTES_LIMIT
from portal.core.query import chosen_id

INDICATOR_LABELS = {"eating": _l("Eating (自主吃饭)"), "dressing": _l("Dressing (自主穿衣)"),
                    "bed_transfer": _l("Getting in and out of bed (自主上下床)"),
                    "toileting": _l("Toileting (自主如厕)"), "indoor_walking": _l("Indoor walking (室内行走)"),
                    "bathing": _l("Bathing (自主洗澡)")}
MET_CHOICES = [SelectChoice("yes", _l("Can do it")), SelectChoice("no", _l("Cannot do it"))]


class OpenRoundForm(FlaskForm):
    """Confirms the round of one contract's submitted assessments."""
    contract = HiddenField(validators=[DataRequired()])


class ObjectionForm(FlaskForm):
    """An objection: from the public site, or taken down by bureau staff from a phone call."""
    assessment = SelectField(_l("Which person of the list (optional)"), validate_choice=False, validators=[Optional()])
    text = TextAreaField(_l("Your objection"), validators=[DataRequired(_l("Write what you object to.")),
                                                           Length(max=TEXT_LIMIT)])
    contact = StringField(_l("How to reach you (optional; never published)"),
                          validators=[Optional(), Length(max=CONTACT_LIMIT)])

    def validate_assessment(self, field):
        """A row that is named must be one of the list: a value that is no row id is refused, never
        taken for "none in particular" (the objection would lose whom it is about)."""
        if not (field.data or "").strip():
            return
        listed = {chosen_id(choice.value) for choice in field.choices or []} - {None}
        if chosen_id(field.data) not in listed:
            raise ValidationError(_l("Choose a person of this list, or none."))


class TrackingForm(FlaskForm):
    """The public lookup by tracking number (a GET form)."""

    class Meta:
        csrf = False

    number = StringField(_l("Tracking number"), validators=[Optional(), Length(max=32)])


class AnswerForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice(k, v) for k, v in DECISION_LABELS.items()],
                          validators=[DataRequired(_l("Choose upheld or rejected."))])
    answer = TextAreaField(_l("Answer (the objector reads it)"),
                           validators=[DataRequired(_l("Write the answer the objector will read.")),
                                       Length(max=ANSWER_LIMIT)])


class RecheckForm(FlaskForm):
    assessor = SelectField(_l("Re-checked by"), validate_choice=False,
                           validators=[DataRequired(_l("Choose who re-checked."))])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=NOTES_LIMIT)])


for _name in INDICATORS:  # one yes/no question per indicator, in the order of docs/API.md
    setattr(RecheckForm, _name, RadioField(INDICATOR_LABELS[_name], choices=MET_CHOICES,
                                           validators=[DataRequired(_l("Answer each of the six indicators."))]))


def indicator_values(form):
    """{indicator: bool} from a RecheckForm (true = can do it)."""
    return {name: getattr(form, name).data == "yes" for name in INDICATORS}
