"""Forms of the annual evaluation pages: a new evaluation (contract and year), the indicators'
scores with the conclusion, and returning with a note."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.evaluations.services import CONCLUSION_LIMIT, INDICATORS, NOTE_LIMIT, PART_LABELS


class NewEvaluationForm(FlaskForm):
    """One choice among the contract/year pairs that may be evaluated ("<contract id>:<year>");
    ``contract`` and ``year`` (not shown) name them separately for a client posting them so."""
    candidate = SelectField(_l("Contract and year"), validate_choice=False)
    contract = StringField(validators=[Optional()])
    year = StringField(validators=[Optional()])

    def chosen(self):
        """(contract id or None, year or None) as posted."""
        raw = self.candidate.data or ""
        contract, _sep, year = raw.partition(":") if raw else (self.contract.data or "", "", self.year.data or "")
        contract, year = contract.strip(), year.strip()
        return (int(contract) if contract.isdigit() else None,
                int(year) if year.lstrip("-").isdigit() else None)


class IndicatorsForm(FlaskForm):
    """One field per indicator of EVALUATION_PARTS (points 0–100) and the written conclusion."""
    conclusion = TextAreaField(_l("Conclusion"), validators=[Optional(), Length(max=CONCLUSION_LIMIT)])


for _code in INDICATORS:
    setattr(IndicatorsForm, _code, StringField(PART_LABELS[_code], validators=[Optional(), Length(max=6)]))


class ReturnForm(FlaskForm):
    note = TextAreaField(_l("What should be changed"),
                         validators=[DataRequired(_l("Say what should be changed.")), Length(max=NOTE_LIMIT)])
