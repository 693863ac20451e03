"""Forms of the station pages: a station, a posting and its end, the decision on a flagged
check-in, a service log, and the filters of the lists. The services check the rules; the forms
check presence, ranges and types, each with its own message."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from portal.beneficiaries.forms import COORDINATE_RULE
from portal.beneficiaries.models import CATEGORIES
from portal.stations.checkins import REASON_LIMIT
from portal.stations.logs import MAX_COUNT, SERVICE_LIMIT
from portal.stations.models import STATION_KINDS
from portal.stations.station_labels import GROUP_LABELS, KIND_LABELS
from portal.stations.stations import MAX_REQUIRED_STAFF, RADIUS_RANGE


class StationForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Give the station a code.")), Length(max=32),
                                               Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Letters, digits, - or _ only."))])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the station a name.")), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k, KIND_LABELS[k]) for k in STATION_KINDS],
                       validators=[DataRequired(_l("Choose the hub or a township station."))])
    township = StringField(_l("Township (street)"), validators=[Optional(), Length(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=300)])
    lat = StringField(_l("Latitude"), validators=[DataRequired(_l("Give the station's latitude.")), COORDINATE_RULE])
    lon = StringField(_l("Longitude"), validators=[DataRequired(_l("Give the station's longitude.")), COORDINATE_RULE])
    radius_m = IntegerField(_l("Geofence radius in metres (empty: the bureau's setting)"), validators=[
        Optional(), NumberRange(*RADIUS_RANGE, message=_l("From %(min)s to %(max)s metres."))])
    required_staff = IntegerField(_l("Staff required each working day"), validators=[
        InputRequired(_l("Give the staff required.")),
        NumberRange(1, MAX_REQUIRED_STAFF, message=_l("From %(min)s to %(max)s."))])
    required_from = DateField(_l("A change of required staff takes effect from (empty: today)"),
                              validators=[Optional()])
    contract_id = SelectField(_l("Staffing contract"), validate_choice=False)
    opened_on = DateField(_l("Opened on (no day before it is required of the station)"),
                          validators=[DataRequired(_l("Give the day the station opened (YYYY-MM-DD)."))])
    active = BooleanField(_l("Active"), default=True)


class PostingForm(FlaskForm):
    staff = SelectField(_l("Roster member"), validate_choice=False,
                        validators=[DataRequired(_l("Choose a member of the staffing contractor's roster."))])
    from_on = DateField(_l("First day"), validators=[DataRequired(_l("Give the first day (YYYY-MM-DD)."))])
    until_on = DateField(_l("Last day (empty: until further notice)"), validators=[Optional()])


class EndPostingForm(FlaskForm):
    posting = HiddenField(validators=[DataRequired()])
    last_day = DateField(_l("Last day posted"), validators=[DataRequired(_l("Give the last day (YYYY-MM-DD)."))])


class DecisionForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[SelectChoice("accept", _l("Accept: the staff-day counts")),
                                                   SelectChoice("reject", _l("Reject: the staff-day does not count"))],
                          validators=[DataRequired(_l("Choose accept or reject."))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(_l("Say why.")), Length(max=REASON_LIMIT)])
    confirmed = HiddenField()


class LogForm(FlaskForm):
    station = SelectField(_l("Station"), validate_choice=False, validators=[DataRequired(_l("Choose the station."))])
    day = DateField(_l("Day"), validators=[DataRequired(_l("Give the day (YYYY-MM-DD)."))])
    target_group = SelectField(_l("Target group"), choices=[SelectChoice(k, GROUP_LABELS[k]) for k in CATEGORIES],
                               validators=[DataRequired(_l("Choose one of the eight target groups."))])
    service = StringField(_l("Service given"), validators=[DataRequired(_l("Say what service was given.")),
                                                          Length(max=SERVICE_LIMIT)])
    people = IntegerField(_l("People served"), validators=[
        InputRequired(_l("Give how many people were served.")),
        NumberRange(1, MAX_COUNT, message=_l("From %(min)s to %(max)s."))])
    volunteers = IntegerField(_l("Volunteers"), default=0, validators=[
        InputRequired(_l("Give how many volunteers helped (0 for none).")),
        NumberRange(0, MAX_COUNT, message=_l("From %(min)s to %(max)s."))])


class StationFilterForm(FlaskForm):
    """The station list's filters, read from the query string."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind"), validate_choice=False)
    q = StringField(_l("Township or name"), validators=[Optional(), Length(max=100)])
