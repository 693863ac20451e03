"""The forms of care plans: the needs assessment (a score and a note per dimension), the plan
(times a month per catalogue service, visits in person, the first month, the reason), the
bureau's decisions. Numbers and months are read as text and checked by the services (needs.py,
plans.py), which word every refusal; the fields only bound the length."""
import re
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.careplans.labels import CARE_SERVICE_LABELS, DIMENSION_LABELS, NEEDS_FIELD_LABELS, SCORE_LABELS
from portal.careplans.models import DIMENSIONS
from portal.careplans.needs import NOTE_LIMIT
from portal.careplans.plans import REASON_LIMIT
from portal.core.query import chosen_id
from portal.visits.catalogue import CARE_SERVICES

NUMBER = {"inputmode": "numeric", "size": 4}


class NeedsForm(FlaskForm):
    contract = SelectField(NEEDS_FIELD_LABELS["contract"], validate_choice=False)
    assessed_on = DateField(NEEDS_FIELD_LABELS["assessed_on"], validators=[DataRequired(_l("Give a date (YYYY-MM-DD)."))])


for _dimension in DIMENSIONS:
    setattr(NeedsForm, f"score_{_dimension}", SelectField(
        DIMENSION_LABELS[_dimension], validate_choice=False,
        choices=[SelectChoice("", _l("Choose a score"))] + [SelectChoice(str(s), SCORE_LABELS[s]) for s in SCORE_LABELS]))
    setattr(NeedsForm, f"note_{_dimension}", TextAreaField(_l("What the score rests on"),
                                                           validators=[Optional(), Length(max=NOTE_LIMIT)]))


def needs_values(form):
    """(contract id or None, {dimension: score or the text sent}, {dimension: note}) of a NeedsForm."""
    scores, notes = {}, {}
    for dimension in DIMENSIONS:
        raw = form[f"score_{dimension}"].data or ""
        scores[dimension] = int(raw) if raw in {"1", "2", "3", "4", "5"} else raw
        notes[dimension] = form[f"note_{dimension}"].data or ""
    return chosen_id(form.contract.data), scores, notes


class PlanForm(FlaskForm):
    in_person_per_month = StringField(_l("Visits in person a month (探视巡访, at least one)"), render_kw=NUMBER)
    effective_from = StringField(_l("In force from (month)"), render_kw={"type": "month", "placeholder": "YYYY-MM"})
    reason = TextAreaField(_l("Why the plan changes (required for every version after the first)"),
                           validators=[Optional(), Length(max=REASON_LIMIT)])


for _code in CARE_SERVICES:
    setattr(PlanForm, f"service_{_code}", StringField(CARE_SERVICE_LABELS[_code], render_kw=NUMBER))


def whole_or_text(text, empty):
    """A whole number typed in ASCII digits as an int; ``empty`` for nothing; the text otherwise
    (the service refuses it in words)."""
    text = (text or "").strip()
    if not text:
        return empty
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text


# a month typed as YYYY-MM, whatever its year: a year far off is a month out of range (plans.py
# words it with the months allowed), not a malformed one
TYPED_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")


def typed_month(text):
    """The first day of the month ``text`` names (YYYY-MM, years 1–9999), else None."""
    match = TYPED_MONTH.match((text or "").strip())
    if not match or int(match.group(1)) < 1:
        return None
    return date(int(match.group(1)), int(match.group(2)), 1)


def plan_values(form):
    """(services {code: times or the text sent}, in person, the first month or None) of a PlanForm."""
    services = {code: whole_or_text(form[f"service_{code}"].data, 0) for code in CARE_SERVICES}
    return services, whole_or_text(form.in_person_per_month.data, None), typed_month(form.effective_from.data)


class ApproveForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=REASON_LIMIT)])


class ReturnForm(FlaskForm):
    reason = TextAreaField(_l("Why it is returned (the contractor reads it)"), validators=[
        DataRequired(_l("Say why the plan is returned.")), Length(max=REASON_LIMIT)])


class SubmitForm(FlaskForm):
    """The manager's confirmation (the CSRF token only)."""
