"""The working-day calendar pages: the platform administrator keeps the yearly State Council
schedules (import a file or pasted text, confirm a year as weekdays only); a bureau
administrator keeps the bureau's own overrides; officers and auditors read them."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select

from portal.core.auth import capability_required, deny
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.timeutil import local_today
from portal.core.workdays import library_knows
from portal.extensions import db
from portal.tenancy import calendar_store
from portal.tenancy.blueprint import bp
from portal.tenancy.calendar_file import ScheduleFileError, parse_schedule
from portal.tenancy.calendar_forms import OVERRIDE_KINDS, OverrideForm, RemoveOverrideForm, ScheduleForm, WeekdaysOnlyForm
from portal.tenancy.models import CalendarOverride, CalendarYear

MAX_FILE_BYTES = 100_000


def _library_years():
    years = [y for y in range(2000, local_today().year + 3) if library_knows(y)]
    return (years[0], years[-1]) if years else None


def _years_ahead_unknown(stored):
    """This year and the next two without any calendar: deadlines there will be refused."""
    this_year = local_today().year
    return [y for y in range(this_year, this_year + 3) if y not in stored and not library_knows(y)]


def _schedule_text(form):
    upload = form.file.data
    if upload is not None and getattr(upload, "filename", ""):
        raw = upload.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise DomainError(_("The file is too large for a holiday schedule."), {"file": _("Too large.")})
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError(_("The file is not UTF-8 text."), {"file": _("Not UTF-8 text.")}) from None
    if (form.text.data or "").strip():
        return form.text.data
    raise DomainError(_("Choose a file or paste the schedule."), {"text": _("Required.")})


@bp.route("/platform/calendar", methods=["GET", "POST"])
@capability_required("calendar.manage")
def platform_calendar():
    """The stored yearly schedules; a new one imported from a file or pasted text (errors named by
    line, nothing kept on error)."""
    form, weekdays = ScheduleForm(), WeekdaysOnlyForm(prefix="weekdays")
    line_errors, status = {}, 200
    if form.validate_on_submit():
        try:
            schedule = parse_schedule(_schedule_text(form))
            with db.session.begin_nested():
                row, replaced = calendar_store.import_schedule(schedule, current_user.username)
        except ScheduleFileError as exc:
            line_errors, status = exc.errors, 422
            flash(exc.message, "error")
        except DomainError as exc:
            show_refusal(form, exc, default_field="text")
            flash(exc.message, "error")
            status = 422
        else:
            flash(ngettext("The %(year)s schedule is kept (%(num)s day, source: %(source)s).",
                          "The %(year)s schedule is kept (%(num)s days, source: %(source)s).",
                          len(schedule.days), year=row.year, source=row.source)
                  + (" " + _("It replaces the earlier one.") if replaced else ""), "success")
            return redirect(url_for("tenancy.platform_calendar"))
    elif request.method == "POST":
        status = 422
    years = db.session.execute(select(CalendarYear).order_by(CalendarYear.year)).scalars().all()
    stored = {y.year for y in years}
    return render_template("tenancy/platform_calendar.html", form=form, weekdays=weekdays, years=years,
                           line_errors=line_errors, library_years=_library_years(),
                           unknown=_years_ahead_unknown(stored)), status


@bp.route("/platform/calendar/weekdays-only", methods=["POST"])
@capability_required("calendar.manage")
def confirm_weekdays_only():
    """Confirm a year without a known schedule as Monday to Friday only (the form says what it means)."""
    weekdays = WeekdaysOnlyForm(prefix="weekdays")
    if weekdays.validate_on_submit():
        try:
            with db.session.begin_nested():
                calendar_store.confirm_weekdays_only(weekdays.year.data, current_user.username)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("%(year)s counts Monday to Friday only, with no public holiday, until a schedule is imported.",
                    year=weekdays.year.data), "success")
            return redirect(url_for("tenancy.platform_calendar"))
    else:
        for messages in weekdays.errors.values():
            flash(" ".join(str(m) for m in messages), "error")
    years = db.session.execute(select(CalendarYear).order_by(CalendarYear.year)).scalars().all()
    return render_template("tenancy/platform_calendar.html", form=ScheduleForm(), weekdays=weekdays, years=years,
                           line_errors={}, library_years=_library_years(),
                           unknown=_years_ahead_unknown({y.year for y in years})), 422


@bp.route("/calendar/", methods=["GET", "POST"])
@capability_required("calendar.read")
def bureau_calendar():
    """The bureau's corrections to the national calendar; the administrator adds them, with a reason."""
    form = OverrideForm()
    status = 200
    if request.method == "POST":
        if not current_user.can("calendar.override"):
            deny()
        if form.validate_on_submit():
            try:
                with db.session.begin_nested():
                    row = calendar_store.add_override(form.day.data, form.kind.data == "working", form.note.data)
            except DomainError as exc:
                show_refusal(form, exc, default_field="day")
                flash(exc.message, "error")
                status = 422
            else:
                flash(_("%(day)s is now a %(kind)s for this bureau.", day=row.day.isoformat(),
                        kind=OVERRIDE_KINDS["working" if row.is_working else "off"]), "success")
                return redirect(url_for("tenancy.bureau_calendar"))
        else:
            status = 422
    overrides = db.session.execute(select(CalendarOverride).order_by(CalendarOverride.day.desc())).scalars().all()
    return render_template("tenancy/bureau_calendar.html", form=form, overrides=overrides, kinds=OVERRIDE_KINDS,
                           remove_form=RemoveOverrideForm(), can_edit=current_user.can("calendar.override"),
                           today=local_today()), status


@bp.route("/calendar/<int:override_id>/remove", methods=["POST"])
@capability_required("calendar.override")
def remove_override(override_id):
    """Remove one of the bureau's changes, with the reason (kept in the audit trail)."""
    row = db.session.execute(select(CalendarOverride).where(CalendarOverride.id == override_id)).scalar_one_or_none()
    if row is None:
        abort(404)  # another bureau's change, or none: not found
    form = RemoveOverrideForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for removing the change of %(day)s.", day=row.day.isoformat()), "error")
        return redirect(url_for("tenancy.bureau_calendar"))
    day = row.day
    calendar_store.remove_override(override_id, form.reason.data)
    flash(_("The change of %(day)s is removed; the national calendar applies to it again.",
            day=day.isoformat()), "success")
    return redirect(url_for("tenancy.bureau_calendar"))
