"""Forms of the working-day calendar pages (the platform's schedules, a bureau's overrides)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

OVERRIDE_KINDS = {"off": _l("Day off"), "working": _l("Working day")}


class ScheduleForm(FlaskForm):
    """A year's holiday schedule, uploaded as a text file or pasted."""
    file = FileField(_l("Schedule file (UTF-8 text)"))
    text = TextAreaField(_l("Or paste the schedule"), validators=[Optional(), Length(max=20000)])


class WeekdaysOnlyForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=1950, max=2199)])
    understood = BooleanField(_l("I understand: every Monday to Friday of this year will count as a working "
                                 "day and no public holiday will be skipped, until a schedule is imported."),
                              validators=[DataRequired()])


class OverrideForm(FlaskForm):
    day = DateField(_l("Day"), validators=[InputRequired()])
    kind = SelectField(_l("The day becomes"), choices=[SelectChoice(k, v) for k, v in OVERRIDE_KINDS.items()])
    note = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


class RemoveOverrideForm(FlaskForm):
    reason = StringField(_l("Reason for removing"), validators=[DataRequired(), Length(max=200)])
