"""Forms of the spot-check pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

from portal.core.months import MONTH_RE
from portal.spotchecks.services import METHOD_LABELS, OUTCOME_LABELS, TEXT_LIMIT

MONTH_RULE = Regexp(MONTH_RE, message=_l("Give the month as YYYY-MM."))
STATE_LABELS = {"open": _l("Not checked yet"), "decided": _l("Decided"), "confirmed": _l("Confirmed"),
                "not_confirmed": _l("Not confirmed"), "unreachable": _l("Unreachable")}


class SpotCheckFilterForm(FlaskForm):
    """The work list's filters, read from the query string."""

    class Meta:
        csrf = False

    month = SelectField(_l("Month"), validate_choice=False)
    contract = SelectField(_l("Contract"), validate_choice=False)
    state = SelectField(_l("State"), validate_choice=False)
    method = SelectField(_l("Check method"), validate_choice=False)


class DrawForm(FlaskForm):
    month = StringField(_l("Month to sample"), validators=[DataRequired(_l("Give the month as YYYY-MM.")), MONTH_RULE],
                        render_kw={"type": "month"})


class OutcomeForm(FlaskForm):
    method = RadioField(_l("How the person was asked"), choices=[SelectChoice(k, v) for k, v in METHOD_LABELS.items()],
                        validators=[DataRequired(_l("Choose a phone call-back or a home visit."))])
    outcome = RadioField(_l("Outcome of this try"),
                         choices=[SelectChoice(key, OUTCOME_LABELS[key])
                                  for key in ("confirmed", "not_confirmed", "unreachable")],
                         validators=[DataRequired(_l("Choose confirmed, not confirmed or unreachable."))])
    satisfaction = SelectField(_l("Satisfaction (1 = very unsatisfied, 5 = very satisfied)"),
                               choices=[SelectChoice("", "—")] + [SelectChoice(str(n), str(n)) for n in range(1, 6)],
                               validators=[Optional()])
    complaint = TextAreaField(_l("Complaint, if any"), validators=[Optional(), Length(max=TEXT_LIMIT)])
    reason = TextAreaField(_l("Why the visit is not confirmed (required for not confirmed)"),
                           validators=[Length(max=TEXT_LIMIT)])  # no Optional(): it would skip the check below

    def validate_reason(self, field):
        from wtforms.validators import ValidationError
        if self.outcome.data == "not_confirmed" and not (field.data or "").strip():
            raise ValidationError(_l("Write why the visit is not confirmed."))
