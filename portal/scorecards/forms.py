"""Forms of the scorecard pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired, Regexp

QUARTER_RULE = Regexp(r"^\d{4}-Q[1-4]$", message=_l("Give the quarter as YYYY-Qn, for example 2026-Q3."))


class QuarterForm(FlaskForm):
    quarter = SelectField(_l("Quarter"), validators=[DataRequired(), QUARTER_RULE], validate_choice=False)
