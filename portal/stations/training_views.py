"""Training pages (docs/DOMAIN.md §6 "Stations and training"; rules in stations/training.py): the
sessions (paged, filtered by mode, contractor and year), a new session, one session with its
attendees, who may be added from the rosters and the attendance to mark; attendance rates per
contractor and per station for a year or a month (page and Excel); a worker's training record.

Bureau readers read everything; a contractor's manager its own staff's; officers, supervisors and
managers (training.manage) write. Staff are named, never with an ID number or phone."""
import io
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from openpyxl import Workbook
from sqlalchemy import func, or_, select
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.contractors.models import Contractor
from portal.contracts.models import Contract
from portal.core import months
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import ConfirmForm, show_refusal
from portal.core.pagination import paginate
from portal.core.query import filter_id_arg
from portal.core.timeutil import local_today
from portal.core.xlsx import append_row, xlsx_download
from portal.extensions import db
from portal.stations import training
from portal.stations.blueprint import training_bp as bp
from portal.stations.models import TRAINING_MODES, Station, TrainingAttendee, TrainingSession

MODE_LABELS = {"online": _l("Online"), "offline": _l("Offline (in a room)")}
PER_PAGE = 25


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    mode = SelectField(_l("Mode"), validate_choice=False)
    contractor = SelectField(_l("Contractor"), validate_choice=False)
    year = StringField(_l("Year"), render_kw={"inputmode": "numeric", "size": 6})


class SessionForm(FlaskForm):
    topic = StringField(_l("Topic"), validators=[DataRequired(_l("Give the topic.")), Length(max=200)])
    mode = SelectField(_l("Mode"), choices=[SelectChoice(m, MODE_LABELS[m]) for m in TRAINING_MODES])
    held_on = DateField(_l("Day"), validators=[DataRequired(_l("Give the day as YYYY-MM-DD."))])
    trainer = StringField(_l("Trainer"), validators=[DataRequired(_l("Give the trainer.")), Length(max=100)])
    hours = IntegerField(_l("Hours"), default=2, validators=[
        InputRequired(_l("Give the hours as a whole number from 1 to %(n)s.", n=training.MAX_HOURS)),
        NumberRange(1, training.MAX_HOURS, _l("Give the hours as a whole number from 1 to %(n)s.", n=training.MAX_HOURS))])
    contract_id = SelectField(_l("For the staff of one contract (optional)"), validate_choice=False)
    station_id = SelectField(_l("For the staff of one station (optional)"), validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class AttendeesForm(FlaskForm):
    staff = SelectMultipleField(_l("Roster members"), validate_choice=False)


class AttendanceForm(FlaskForm):
    attended = SelectMultipleField(_l("Attended"), validate_choice=False)


# --- the list ----------------------------------------------------------------------------------------

YEAR_RANGE = (2000, 2099)


def _year(raw):
    raw = (raw or "").strip()
    return int(raw) if len(raw) == 4 and raw.isascii() and raw.isdigit() and \
        YEAR_RANGE[0] <= int(raw) <= YEAR_RANGE[1] else None


def _year_message(raw):
    """What a year the list does not take says: its format, or the range of years."""
    raw = (raw or "").strip()
    if len(raw) == 4 and raw.isascii() and raw.isdigit():
        return _("Give a year from %(first)s to %(last)s.", first=YEAR_RANGE[0], last=YEAR_RANGE[1])
    return _("Give the year as YYYY.")


def _filtered(form, stmt):
    mode = request.args.get("mode", "")
    if mode in TRAINING_MODES:
        stmt = stmt.where(TrainingSession.mode == mode)
    contractor_id = filter_id_arg("contractor")
    if contractor_id and not training.own_contractor(current_user):
        stmt = stmt.where(or_(
            TrainingSession.id.in_(select(TrainingAttendee.session_id).where(TrainingAttendee.contractor_id == contractor_id)),
            TrainingSession.contract_id.in_(select(Contract.id).where(Contract.contractor_id == contractor_id))))
    raw = request.args.get("year", "").strip()
    if raw:
        year = _year(raw)
        if year is None:
            form.year.errors = [_year_message(raw)]
        else:
            stmt = stmt.where(TrainingSession.held_on >= date(year, 1, 1), TrainingSession.held_on <= date(year, 12, 31))
    return stmt


def _counts(sessions):
    """{session id: (expected, attended)} of the attendees the reader may see."""
    ids = [s.id for s in sessions]
    if not ids:
        return {}
    stmt = (select(TrainingAttendee.session_id, func.count(), func.count().filter(TrainingAttendee.attended.is_(True)))
            .where(TrainingAttendee.session_id.in_(ids)).group_by(TrainingAttendee.session_id))
    organisation = training.own_contractor(current_user)
    if organisation:
        stmt = stmt.where(TrainingAttendee.contractor_id == organisation)
    return {sid: (int(expected), int(came)) for sid, expected, came in db.session.execute(stmt)}


def _rate_text(expected, attended):
    return training.Rate(None, "", expected, attended).rate_text


@bp.route("/")
@capability_required("training.read")
def index():
    """The sessions the reader may see, newest first, with their attendance."""
    form = FilterForm(request.args)
    everything = SelectChoice("", _("All"))
    form.mode.choices = [everything] + [SelectChoice(m, MODE_LABELS[m]) for m in TRAINING_MODES]
    bureau = not training.own_contractor(current_user)
    if bureau:
        form.contractor.choices = [everything] + [SelectChoice(str(cid), name) for cid, name in db.session.execute(
            select(Contractor.id, Contractor.name).where(Contractor.id.in_(training.bureau_contractor_ids()))
            .order_by(Contractor.name))]
    stmt = _filtered(form, training.sessions_visible_to(current_user))
    page = paginate(stmt.order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc()), per_page=PER_PAGE)
    return render_template("training/index.html", page=page, form=form, bureau=bureau, counts=_counts(page.items),
                           rate_text=_rate_text, modes=MODE_LABELS, can_manage=training.may_manage(current_user))


@bp.route("/new", methods=["GET", "POST"])
@capability_required("training.manage")
def new_session():
    """A new session: topic, mode, day, trainer, hours, optionally one contract's or station's."""
    form = SessionForm()
    contracts, stations = training.contract_choices(current_user), training.station_choices(current_user)
    form.contract_id.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(str(c.id), f"{c.number} {c.title}") for c in contracts]
    form.station_id.choices = [SelectChoice("", _("None"))] + [SelectChoice(str(s.id), f"{s.code} {s.name}")
                                                                for s in stations]
    status = 200
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                session = training.create_session({field: form[field].data for field in (
                    "topic", "mode", "held_on", "trainer", "hours", "contract_id", "station_id", "notes")}, current_user)
        except DomainError as exc:
            show_refusal(form, exc, default_field="topic")
            status = 422
        else:
            flash(_("The training session is recorded; now choose who is expected at it."), "success")
            return redirect(url_for("training.detail", session_id=session.id))
    elif request.method == "POST":
        status = 422
    return render_template("training/new.html", form=form), status


# --- one session -------------------------------------------------------------------------------------

def _detail(session, attendees_form=None, attendance_form=None, status=200):
    shown = training.attendees_shown(current_user, session)
    manage = training.may_manage(current_user, session)
    choices = training.roster_choices(current_user, session) if manage else []
    came = sum(1 for row in shown if row.attended)
    return render_template(
        "training/detail.html", session=session, attendees=shown, choices=choices, manage=manage,
        rate_text=_rate_text(len(shown), came), attended_count=came, modes=MODE_LABELS,
        contract=db.session.get(Contract, session.contract_id) if session.contract_id else None,
        station=db.session.get(Station, session.station_id) if session.station_id else None,
        contractors=dict(db.session.execute(select(Contractor.id, Contractor.name).where(
            Contractor.id.in_(sorted({row.contractor_id for row in shown})))).all()),
        attendees_form=attendees_form or AttendeesForm(), attendance_form=attendance_form or AttendanceForm(),
        can_mark=training.may_mark_attendance(current_user, session) and session.held_on <= local_today(),
        bureau_marks=manage and not training.may_mark_attendance(current_user, session), today=local_today()), status


@bp.route("/<int:session_id>")
@capability_required("training.read")
def detail(session_id):
    """One session: its figures, the attendees the reader may see and their attendance."""
    return _detail(training.session_for(current_user, session_id))


@bp.route("/<int:session_id>/attendees", methods=["POST"])
@capability_required("training.manage")
def add_attendees(session_id):
    session = training.session_for(current_user, session_id)
    form = AttendeesForm()
    if not form.validate_on_submit():
        return _detail(session, attendees_form=form, status=422)
    try:
        with db.session.begin_nested():
            added = training.add_attendees(session, form.staff.data, current_user)
    except DomainError as exc:
        show_refusal(form, exc, default_field="staff")
        return _detail(session, attendees_form=form, status=422)
    flash(ngettext("%(num)s roster member is now expected at the session.", "%(num)s roster members are now expected at the session.", len(added)), "success")
    return redirect(url_for("training.detail", session_id=session.id))


@bp.route("/<int:session_id>/attendance", methods=["POST"])
@capability_required("training.manage")
def mark_attendance(session_id):
    session = training.session_for(current_user, session_id)
    form = AttendanceForm()
    if not form.validate_on_submit():
        return _detail(session, attendance_form=form, status=422)
    try:
        with db.session.begin_nested():
            changed = training.mark_attendance(session, form.attended.data, current_user)
    except DomainError as exc:
        show_refusal(form, exc, default_field="attended")
        return _detail(session, attendance_form=form, status=422)
    flash(_("Attendance is recorded (%(n)s changed).", n=changed), "success")
    return redirect(url_for("training.detail", session_id=session.id))


@bp.route("/<int:session_id>/attendees/<int:attendee_id>/remove", methods=["POST"])
@capability_required("training.manage")
def remove_attendee(session_id, attendee_id):
    session = training.session_for(current_user, session_id)
    if not ConfirmForm().validate_on_submit():
        return _detail(session, status=422)
    try:
        with db.session.begin_nested():
            training.remove_attendee(session, attendee_id, current_user)
    except DomainError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        return redirect(url_for("training.detail", session_id=session.id))
    flash(_("The attendee is no longer expected at the session."), "success")
    return redirect(url_for("training.detail", session_id=session.id))


# --- rates and records ---------------------------------------------------------------------------------

def _period():
    """(first day, last day, label, the query's month text, year, message or None): ``month``
    (YYYY-MM) when given, else ``year`` (YYYY), else this year; a malformed value shows this year
    with a message (never an error page)."""
    today = local_today()
    raw_month, raw_year = request.args.get("month", "").strip(), request.args.get("year", "").strip()
    if raw_month:
        month = months.month_or_none(raw_month)
        if month is not None:
            text = months.month_text(month)
            return month, months.last_day(month), text, text, month.year, None
    year = _year(raw_year) if raw_year else today.year
    message = _("Give the month as YYYY-MM or the year as YYYY; this year is shown.") \
        if (raw_month or (raw_year and year is None)) else None
    year = year or today.year
    return date(year, 1, 1), date(year, 12, 31), str(year), "", year, message


@bp.route("/rates")
@capability_required("training.read")
def rates_page():
    """Attendance rates per contractor and per station (attendees posted there on the session's
    day) for a year or a month; nothing expected shows —, not 0 %."""
    first, last, label, month, year, message = _period()
    by_contractor, by_station, total = training.rates(first, last, current_user)
    return render_template("training/rates.html", by_contractor=by_contractor, by_station=by_station, total=total,
                           label=label, month=month, year=year, message=message)


@bp.route("/rates.xlsx")
@capability_required("training.read")
def rates_export():
    """The same rates as an Excel workbook: per contractor, then per station."""
    first, last, label, _month, _year_, _message = _period()
    by_contractor, by_station, total = training.rates(first, last, current_user)
    book = Workbook()
    for index, (title, heading, rows) in enumerate(((_("By contractor"), _("Contractor"), by_contractor + [total]),
                                                    (_("By station"), _("Station"), by_station))):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = title[:31]
        append_row(sheet, [_("Training attendance"), label])
        append_row(sheet, [heading, _("Expected"), _("Attended"), _("Attendance rate (%)"), _("Hours attended")])
        for row in rows:
            append_row(sheet, [row.label, row.expected, row.attended, row.rate or "—", row.hours])
    out = io.BytesIO()
    book.save(out)
    return xlsx_download(out.getvalue(), f"training-{label}.xlsx", "training.xlsx")


@bp.route("/workers/<int:staff_id>")
@capability_required("training.read")
def worker_record(staff_id):
    """A roster member's sessions in this bureau, attended or not, and the hours attended."""
    staff = training.staff_visible_to(current_user, staff_id)
    sessions, summary = training.worker_record(staff)
    return render_template("training/worker.html", staff=staff, sessions=sessions, summary=summary, modes=MODE_LABELS,
                           contractor=db.session.get(Contractor, staff.contractor_id))
