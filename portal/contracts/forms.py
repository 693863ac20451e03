"""Forms of the contract pages. Money is typed in yuan and held in fen; the subcontracting ban
is not a field: it is shown, never edited."""
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, Form, FormField, IntegerField, SelectField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.list import FieldList
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.contracts.lifecycle import PAYMENT_TERMS, RATIONALE_LABELS
from portal.contracts.models import AMENDMENT_RATIONALES
from portal.tenders.forms import YuanField
from portal.tenders.lifecycle import UNIT_LABELS
from portal.tenders.models import SERVICE_UNITS


class ServiceItemForm(Form):
    """One row of the service item table (a subform: the outer form carries the CSRF token)."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Service item"), validators=[DataRequired(), Length(max=200)])
    unit = SelectField(_l("Unit"), choices=[SelectChoice(u, UNIT_LABELS[u]) for u in SERVICE_UNITS])
    unit_price = YuanField(_l("Unit price (yuan)"), validators=[InputRequired()])
    quota = IntegerField(_l("Quota"), validators=[InputRequired(), NumberRange(min=1)])
    monthly_cap = IntegerField(_l("Monthly cap"), validators=[Optional(), NumberRange(min=1)])
    min_minutes = IntegerField(_l("Minimum minutes"), validators=[Optional(), NumberRange(min=0)])
    max_minutes = IntegerField(_l("Maximum minutes"), validators=[Optional(), NumberRange(min=1)])
    daily_limit = IntegerField(_l("Daily limit per beneficiary"), validators=[Optional(), NumberRange(min=1)])
    photo_required = BooleanField(_l("Photo required"))

    def fill(self, values):
        self.code.data, self.name.data, self.unit.data = values["code"], values["name"], values["unit"]
        self.unit_price.data, self.quota.data = values.get("unit_price_fen"), values.get("quota")
        self.monthly_cap.data, self.min_minutes.data = values.get("monthly_cap"), values.get("min_minutes")
        self.max_minutes.data = values.get("max_minutes")
        self.daily_limit.data = values.get("daily_limit_per_beneficiary")
        self.photo_required.data = bool(values.get("photo_required"))

    def values(self):
        return {"code": (self.code.data or "").strip(), "name": (self.name.data or "").strip(), "unit": self.unit.data,
                "unit_price_fen": self.unit_price.data, "quota": self.quota.data,
                "monthly_cap": self.monthly_cap.data, "min_minutes": self.min_minutes.data,
                "max_minutes": self.max_minutes.data, "daily_limit_per_beneficiary": self.daily_limit.data,
                "photo_required": bool(self.photo_required.data)}


class ContractForm(FlaskForm):
    number = StringField(_l("Contract number (empty: assigned)"), validators=[Optional(), Length(max=64)])
    title = StringField(_l("Contract title"), validators=[DataRequired(), Length(max=300)])
    budget_line_id = SelectField(_l("Budget line"), coerce=int)
    starts_on = DateField(_l("Period from"), validators=[InputRequired()])
    ends_on = DateField(_l("Period until"), validators=[InputRequired()])
    performance_bond = YuanField(_l("Performance bond (yuan, at most 10 per cent of the amount)"),
                                 validators=[Optional()])
    payment_terms = SelectField(_l("Payment"), choices=[SelectChoice(k, v) for k, v in PAYMENT_TERMS.items()])
    spot_check_penalty_multiplier = IntegerField(_l("Spot-check penalty multiplier"), default=2,
                                                 validators=[InputRequired(), NumberRange(min=1, max=10)])
    violation_penalty = YuanField(_l("Penalty per subcontracting violation (yuan)"), validators=[Optional()])
    items = FieldList(FormField(ServiceItemForm), min_entries=0)

    def fill(self, terms, items):
        self.title.data, self.budget_line_id.data = terms["title"], terms["budget_line_id"]
        self.starts_on.data, self.ends_on.data = terms["starts_on"], terms["ends_on"]
        self.performance_bond.data, self.payment_terms.data = terms["performance_bond_fen"], terms["payment_terms"]
        self.spot_check_penalty_multiplier.data = terms["spot_check_penalty_multiplier"]
        self.violation_penalty.data = terms["violation_penalty_fen"]
        if "number" in terms:
            self.number.data = terms["number"]
        while len(self.items.entries):
            self.items.pop_entry()
        for values in items:
            self.items.append_entry()
            self.items.entries[-1].form.fill(values)

    def values(self):
        return {"number": self.number.data, "title": self.title.data.strip(),
                "budget_line_id": self.budget_line_id.data, "starts_on": self.starts_on.data,
                "ends_on": self.ends_on.data, "performance_bond_fen": self.performance_bond.data or 0,
                "payment_terms": self.payment_terms.data,
                "spot_check_penalty_multiplier": self.spot_check_penalty_multiplier.data,
                "violation_penalty_fen": self.violation_penalty.data or 0}

    def item_values(self):
        return [entry.form.values() for entry in self.items.entries]


class MoveForm(FlaskForm):
    """Confirmation of a move of the state machine, with the date it takes effect."""

    on = DateField(_l("Date"), validators=[InputRequired()])


class SignForm(MoveForm):
    late_reason = TextAreaField(_l("Reason for signing late (only after day 30 of the award notice)"),
                                validators=[Optional(), Length(max=2000)])


class ReasonMoveForm(MoveForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired()])


class TerminationForm(ReasonMoveForm):
    amount_paid = YuanField(_l("Amount paid to the supplier (yuan)"), validators=[InputRequired()])


class AmendmentForm(FlaskForm):
    rationale = SelectField(_l("Rationale"), choices=[SelectChoice(k, RATIONALE_LABELS[k]) for k in AMENDMENT_RATIONALES])
    description = TextAreaField(_l("What changes"), validators=[DataRequired()])
    added = YuanField(_l("Amount added (yuan)"), validators=[Optional()])
    new_ends_on = DateField(_l("New end of the period (optional)"), validators=[Optional()])
    signed_on = DateField(_l("Signed on"), validators=[InputRequired()])


def added_quotas_from(formdata, contract):
    """The amendment form's "more of the same services" inputs (``added_quota-<item id>``, one per
    service item, empty for none): ({item code: units}, {field name: [message]})."""
    values, errors = {}, {}
    for item in contract.items:
        name = f"added_quota-{item.id}"
        text = (formdata.get(name) or "").strip()
        if not text:
            continue
        if not (text.isascii() and text.isdigit()) or len(text) > 9:
            errors[name] = [_("Enter a whole number of units.")]
            continue
        values[item.code] = int(text)
    return values, errors
