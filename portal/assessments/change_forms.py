"""Forms of the change reports and of the re-assessment due list."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.assessments.labels import CHANGE_KIND_LABELS

STATE_LABELS = {"open": _l("Due (open)"), "overdue": _l("Overdue"), "closed": _l("Answered"), "all": _l("All")}


class ChangeReportForm(FlaskForm):
    kind = SelectField(_l("What changed"), choices=[SelectChoice(k, v) for k, v in CHANGE_KIND_LABELS.items()])
    reported_on = DateField(_l("Day of the change"), validators=[DataRequired(_l("Give a date (YYYY-MM-DD)."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])


class DueFilterForm(FlaskForm):
    """The due list's filters, read from the query string."""

    class Meta:
        csrf = False

    township = SelectField(_l("Township (street)"), validate_choice=False)
    state = SelectField(_l("Show"), choices=[SelectChoice(k, v) for k, v in STATE_LABELS.items()],
                        validate_choice=False)
