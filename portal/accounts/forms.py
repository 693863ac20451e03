from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from portal.accounts.permissions import BUREAU_ROLES

ROLE_LABELS = {
    "admin": _l("Bureau administrator"), "officer": _l("Procurement officer"),
    "supervisor": _l("Supervisor"), "finance": _l("Finance reviewer"), "auditor": _l("Auditor"),
    "contractor_manager": _l("Contractor manager"), "field_worker": _l("Field worker"),
    "platform_admin": _l("Platform administrator"),
}


# NUL cannot be stored or even compared in PostgreSQL text, nor a lone surrogate encoded as UTF-8
# (as portal/api/body.py refuses them in JSON): a form error, never a 500.
STORABLE = Regexp(r"^[^\x00\ud800-\udfff]*$", message=_l("Holds a forbidden character."))


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username.")), Length(max=64),
                                                       STORABLE])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200),
                                                         STORABLE])


class ChooseTenantForm(FlaskForm):
    tenant = SelectField(_l("Bureau"), validators=[DataRequired()])


USERNAME_RULE = Regexp(r"^[a-z0-9][a-z0-9._-]{2,63}$",
                       message=_l("3–64 characters: lower-case letters, digits, dot, dash or underscore."))


class UserForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), USERNAME_RULE])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS[r]) for r in BUREAU_ROLES])
    password = PasswordField(_l("Initial password"),
                             validators=[DataRequired(), Length(min=10, max=200, message=_l("At least 10 characters."))])


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), STORABLE])
    new = PasswordField(_l("New password"),
                        validators=[DataRequired(), Length(min=10, max=200, message=_l("At least 10 characters.")),
                                    STORABLE])
    repeat = PasswordField(_l("New password again"),
                           validators=[DataRequired(), EqualTo("new", message=_l("The two entries differ."))])


class TenantForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Regexp(r"^[a-z][a-z0-9-]{1,31}$", message=_l("2–32 lower-case letters, digits or dashes."))])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    region = StringField(_l("Region"), validators=[Length(max=120)])
    admin_username = StringField(_l("First administrator's username"), validators=[DataRequired(), USERNAME_RULE])
    admin_name = StringField(_l("First administrator's name"), validators=[DataRequired(), Length(max=120)])
    admin_password = PasswordField(_l("First administrator's password"),
                                   validators=[DataRequired(), Length(min=10, max=200, message=_l("At least 10 characters."))])


class GrantForm(FlaskForm):
    tenants = SelectMultipleField(_l("Bureaus"), coerce=int)
