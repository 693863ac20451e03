"""Forms of the officer's procurement pages. Money is typed in yuan and held in fen."""
from datetime import datetime, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField, TimeField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.money import format_fen, parse_yuan
from portal.core.timeutil import LOCAL_TZ, to_local
from portal.tenders.lifecycle import METHOD_LABELS
from portal.tenders.lifecycle import UNIT_LABELS  # noqa: F401  (the views import it from here)
from portal.tenders.models import PLAN_PHASES, SERVICE_UNITS

PHASE_LABELS = {"preparation": _l("Preparation"), "pilot": _l("Pilot"), "evaluation": _l("Evaluation"),
                "consolidation": _l("Consolidation")}
CRITERION_KINDS = {"technical": _l("Technical"), "business": _l("Business")}


class YuanField(StringField):
    """An amount typed in yuan ('1,234.50'); ``data`` is integer fen."""

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_fen(self.data) if isinstance(self.data, int) else ""

    def process_formdata(self, valuelist):
        self.data = None
        if valuelist and valuelist[0].strip():
            try:
                self.data = parse_yuan(valuelist[0])
            except ValueError:
                raise ValueError(_l("Enter an amount in yuan, e.g. 1200.50."))


class TenderForm(FlaskForm):
    number = StringField(_l("Project number (empty: assigned)"), validators=[Optional(), Length(max=64)])
    title = StringField(_l("Project name"), validators=[DataRequired(), Length(max=300)])
    method = SelectField(_l("Procurement method"),
                         choices=[SelectChoice(m, label) for m, label in METHOD_LABELS.items()])
    budget_line_id = SelectField(_l("Budget line"), coerce=int)
    intention_id = SelectField(_l("Purchase intention (empty: published with the tender)"), coerce=int)
    budget = YuanField(_l("Budget amount (yuan)"), validators=[InputRequired()])
    bid_bond = YuanField(_l("Bid bond (yuan, at most 2 per cent of the budget)"), validators=[Optional()])
    price_weight_percent = IntegerField(_l("Price weight (%, 10–30 for services)"), default=10,
                                        validators=[InputRequired()])
    buyer_contact = StringField(_l("Buyer contact (office and phone)"), validators=[Length(max=200)])
    description = TextAreaField(_l("Service requirements"))
    documents_from = DateField(_l("Documents first issued on"), validators=[Optional()])
    documents_until = DateField(_l("Documents available until"), validators=[Optional()])
    deadline_day = DateField(_l("Bid deadline (day)"), validators=[Optional()])
    deadline_time = TimeField(_l("Bid deadline (time, Beijing)"), default=time(9, 30), validators=[Optional()])
    invited = SelectMultipleField(_l("Invited contractors (invited tender)"), coerce=int, choices=[])

    def fill(self, tender):
        """Show a saved tender (GET of the edit page)."""
        self.number.data, self.title.data, self.method.data = tender.number, tender.title, tender.method
        self.budget_line_id.data, self.budget.data = tender.budget_line_id, tender.budget_fen
        self.intention_id.data = tender.intention_id or 0
        self.bid_bond.data, self.price_weight_percent.data = tender.bid_bond_fen, tender.price_weight_percent
        self.buyer_contact.data, self.description.data = tender.buyer_contact, tender.description
        self.documents_from.data, self.documents_until.data = tender.documents_from, tender.documents_until
        if tender.bid_deadline is not None:
            local = to_local(tender.bid_deadline)
            self.deadline_day.data, self.deadline_time.data = local.date(), local.time().replace(tzinfo=None)
        self.invited.data = list(tender.invited_contractor_ids or [])

    def values(self):
        """The service's view of the form: fen, an aware deadline."""
        deadline = None
        if self.deadline_day.data:
            deadline = datetime.combine(self.deadline_day.data, self.deadline_time.data or time(9, 30), tzinfo=LOCAL_TZ)
        return {"number": self.number.data, "title": self.title.data.strip(), "method": self.method.data,
                "budget_line_id": self.budget_line_id.data, "intention_id": self.intention_id.data or None,
                "budget_fen": self.budget.data,
                "bid_bond_fen": self.bid_bond.data or 0, "price_weight_percent": self.price_weight_percent.data,
                "buyer_contact": self.buyer_contact.data or "", "description": self.description.data or "",
                "documents_from": self.documents_from.data, "documents_until": self.documents_until.data,
                "bid_deadline": deadline, "invited_contractor_ids": list(self.invited.data or [])}


class LotForm(FlaskForm):
    title = StringField(_l("Lot title"), validators=[DataRequired(), Length(max=300)])
    budget = YuanField(_l("Budget amount (yuan)"), validators=[InputRequired()])
    max_price = YuanField(_l("Maximum price (yuan)"), validators=[InputRequired()])


class ItemForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Service item"), validators=[DataRequired(), Length(max=200)])
    unit = SelectField(_l("Unit"), choices=[SelectChoice(u, UNIT_LABELS[u]) for u in SERVICE_UNITS])
    quantity = IntegerField(_l("Quantity"), validators=[InputRequired(), NumberRange(min=1)])
    max_unit_price = YuanField(_l("Maximum unit price (yuan)"), validators=[InputRequired()])
    requirements = TextAreaField(_l("Service requirements"))


class CriterionForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, label) for k, label in CRITERION_KINDS.items()])
    name = StringField(_l("Criterion"), validators=[DataRequired(), Length(max=200)])
    max_points = IntegerField(_l("Points"), validators=[InputRequired(), NumberRange(min=1, max=90)])


class ClarificationForm(FlaskForm):
    body = TextAreaField(_l("Clarification"), validators=[DataRequired()])
    changes_documents = BooleanField(_l("It changes the tender documents"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired()])


class BudgetLineForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    fund_source = StringField(_l("Fund source"), validators=[DataRequired(), Length(max=200)])
    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired()])


class PlanForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    preparation_from = DateField(_l("Preparation from"), validators=[InputRequired()])
    preparation_to = DateField(_l("Preparation to"), validators=[InputRequired()])
    pilot_from = DateField(_l("Pilot from"), validators=[InputRequired()])
    pilot_to = DateField(_l("Pilot to"), validators=[InputRequired()])
    evaluation_from = DateField(_l("Evaluation from"), validators=[InputRequired()])
    evaluation_to = DateField(_l("Evaluation to"), validators=[InputRequired()])
    consolidation_from = DateField(_l("Consolidation from"), validators=[InputRequired()])
    consolidation_to = DateField(_l("Consolidation to"), validators=[InputRequired()])

    def phase_dates(self):
        return {kind: (getattr(self, f"{kind}_from").data, getattr(self, f"{kind}_to").data) for kind in PLAN_PHASES}


class MilestoneForm(FlaskForm):
    phase_id = SelectField(_l("Phase"), coerce=int)
    title = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=200)])
    due_on = DateField(_l("Due on"), validators=[InputRequired()])


class IntentionForm(FlaskForm):
    budget_line_id = SelectField(_l("Budget line"), coerce=int)
    title = StringField(_l("Project name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Requirements"))
    budget = YuanField(_l("Budget amount (yuan)"), validators=[InputRequired()])
    expected_month = DateField(_l("Expected purchase month"), format="%Y-%m", validators=[InputRequired()],
                               render_kw={"type": "month"})
