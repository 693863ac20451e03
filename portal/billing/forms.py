"""Forms of the settlement pages. Every workflow step is a POST with its CSRF token, asked for
on a confirmation page first; money is typed in yuan and held in fen."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.months import MONTH_RE
from portal.tenders.forms import YuanField


class MonthField(StringField):
    """A calendar month typed as YYYY-MM (the browser's month picker sends that form)."""

    def __init__(self, label=None, validators=None, **kwargs):
        validators = list(validators or []) + [Regexp(MONTH_RE, message=_l("Enter a month as YYYY-MM, e.g. 2026-10."))]
        kwargs.setdefault("render_kw", {"type": "month", "placeholder": "YYYY-MM"})
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        self.data = (self.data or "").strip()


class PrepareForm(FlaskForm):
    """Prepare (or recompute) the draft statements of one month, for every contract or one."""

    month = MonthField(_l("Month"), validators=[InputRequired()])
    contract_id = SelectField(_l("Contract"), coerce=int, default=0)


class ActionForm(FlaskForm):
    """A confirmation without fields: send, confirm, rework, approve."""


class DisputeForm(FlaskForm):
    reason = TextAreaField(_l("Why the statement is disputed"), validators=[DataRequired(), Length(max=2000)])
    line_ids = SelectMultipleField(_l("Disputed lines"), coerce=int, option_widget=CheckboxInput(),
                                   widget=ListWidget(prefix_label=False))

    def validate_line_ids(self, field):
        if not field.data:
            raise ValidationError(_l("Tick at least one disputed line."))


class PaymentForm(FlaskForm):
    paid_on = DateField(_l("Paid on"), validators=[InputRequired()])
    reference = StringField(_l("Payment reference"), validators=[DataRequired(), Length(max=100)])


class AdjustmentForm(FlaskForm):
    """A correction of an earlier approved month, added to a draft as a signed amount."""

    amount = YuanField(_l("Amount (yuan; negative to deduct)"), validators=[InputRequired()])
    reason = TextAreaField(_l("What the adjustment corrects"), validators=[DataRequired(), Length(max=2000)])

    def validate_amount(self, field):
        if field.data == 0:
            raise ValidationError(_l("An adjustment of zero changes nothing."))

