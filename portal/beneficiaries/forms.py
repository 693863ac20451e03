"""Forms of the beneficiary registry. The services check the rules (ID number, categories,
coordinates); forms check presence and length."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp

# The eight target groups of docs/DOMAIN.md §2, in the bureau's words.
CATEGORY_LABELS = {
    "dibao": _l("Minimum living allowance recipient"), "tekun": _l("Person in extreme poverty"),
    "dibao_marginal": _l("Near-minimum-allowance household"), "expense_poverty": _l("Expense-type poor household"),
    "orphan": _l("Orphan"), "de_facto_orphan": _l("De facto unsupported child"), "disabled": _l("Person with disabilities"),
    "homeless": _l("Homeless person or beggar"),
}
STATUS_LABELS = {"active": _l("Active (served)"), "hospitalised": _l("In hospital"), "moved": _l("Moved away"),
                 "deceased": _l("Deceased")}
PHONE_RULE = Regexp(r"^[0-9+\- ]{0,32}$", message=_l("Digits, spaces, + or - only."))
COORDINATE_RULE = Regexp(r"^-?[0-9]{1,3}(\.[0-9]{1,8})?$", message=_l("Decimal degrees, e.g. 25.86."))


class BeneficiaryForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=64)])
    id_number = StringField(_l("Resident ID number"), validators=[DataRequired(), Length(max=40)])
    category = SelectField(_l("Category"), choices=[SelectChoice(k, v) for k, v in CATEGORY_LABELS.items()])
    township = StringField(_l("Township (street)"), validators=[DataRequired(), Length(max=64)])
    village = StringField(_l("Village (community)"), validators=[DataRequired(), Length(max=64)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    lat = StringField(_l("Latitude"), validators=[Optional(), COORDINATE_RULE])
    lon = StringField(_l("Longitude"), validators=[Optional(), COORDINATE_RULE])
    phone = StringField(_l("Phone"), validators=[Optional(), PHONE_RULE])
    active_since = DateField(_l("Served since"), validators=[Optional()])


class BeneficiaryEditForm(BeneficiaryForm):
    id_number = None  # the ID number identifies the person and never changes
    active_since = None


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=[SelectChoice(k, v) for k, v in STATUS_LABELS.items()])
    effective_on = DateField(_l("From"), validators=[DataRequired(_l("Give a date (YYYY-MM-DD)."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class SearchForm(FlaskForm):
    text = StringField(_l("Name, masked name (张*丰) or ID number"), validators=[Optional(), Length(max=64)])


class ImportForm(FlaskForm):
    file = FileField(_l("Registry file (.xlsx)"))
    active_since = DateField(_l("Served since"), validators=[Optional()])


class ConfirmImportForm(FlaskForm):
    preview = HiddenField()
    active_since = HiddenField()
