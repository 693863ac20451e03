"""Forms of the annual evaluation pages: a new evaluation (contract and year), the indicators'
scores with the conclusion, and returning with a note."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.evaluations.services import CONCLUSION_LIMIT, INDICATORS, NOTE_LIMIT, PART_LABELS


class NewEvaluationForm(FlaskForm):
    contract = SelectField(_l("Contract"), coerce=int, validate_choice=False,
                           validators=[DataRequired(_l("Choose a contract."))])
    year = SelectField(_l("Year"), coerce=int, validate_choice=False, validators=[DataRequired(_l("Choose a year."))])


class IndicatorsForm(FlaskForm):
    """One field per indicator of EVALUATION_PARTS (points 0–100) and the written conclusion."""
    conclusion = TextAreaField(_l("Conclusion"), validators=[Optional(), Length(max=CONCLUSION_LIMIT)])


for _code in INDICATORS:
    setattr(IndicatorsForm, _code, StringField(PART_LABELS[_code], validators=[Optional(), Length(max=6)]))


class ReturnForm(FlaskForm):
    note = TextAreaField(_l("What should be changed"),
                         validators=[DataRequired(_l("Say what should be changed.")), Length(max=NOTE_LIMIT)])
