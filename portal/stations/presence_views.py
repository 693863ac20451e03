"""Presence at the stations (docs/DOMAIN.md §6, §8): the supervisor's queue of flagged check-ins
(outside the station's geofence) with the decision on each — accepted, the staff-day counts;
rejected, it does not — and the month's staffing compliance per station, as a page with a bar
chart and as Excel.

The compliance page is for the bureau's readers and a staffing contractor's manager (its own
stations only); a year the working-day calendar does not know is said on the page, never a 500."""
import io

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy.orm import selectinload

from portal.accounts.permissions import reach
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.months import month_text
from portal.core.numbers import percent_text
from portal.core.pagination import paginate
from portal.core.timeutil import utcnow
from portal.core.xlsx import append_row, xlsx_download
from portal.stations import checkins
from portal.stations.blueprint import bp
from portal.stations.compliance import stations_month
from portal.stations.models import Station, StationCheckIn
from portal.stations.station_forms import DecisionForm
from portal.stations.station_labels import KIND_LABELS, label
from portal.stations.stations import stations_visible_to
from portal.stations.views import PAGE_WORDS, requested_month

PER_PAGE = 25
FILTER_LABELS = {"flagged": _l("Waiting for a decision"), "accepted": _l("Accepted by a supervisor (counted)"),
                 "rejected": _l("Rejected by a supervisor (not counted)"), "all": _l("All")}
CHART_WIDTH, LABEL_WIDTH, BAR_HEIGHT, GAP = 360, 160, 22, 8


# --- flagged check-ins --------------------------------------------------------------------------

@bp.route("/check-ins/flagged")
@capability_required("station.read")
def flagged_checkins():
    """The bureau's flagged check-ins, each with why it was flagged (outside the geofence, uploaded
    late, a device another worker used that day): by default those waiting for a decision, oldest
    first; ``?status=accepted|rejected|all`` the decided ones too, with the decision. The bureau's
    readers (the auditor read-only, without the decision buttons); not a contractor's people."""
    if reach(current_user).kind != "bureau":
        abort(403)
    status = request.args.get("status", "flagged")
    if status not in checkins.QUEUE_FILTERS:
        status = "flagged"
    page = paginate(checkins.flagged_query(status).options(selectinload(StationCheckIn.station),
                                                           selectinload(StationCheckIn.staff)), per_page=PER_PAGE)
    reasons = {checkin.id: checkins.flag_reasons(checkin) for checkin in page.items}
    filters = [(key, FILTER_LABELS[key]) for key in checkins.QUEUE_FILTERS]
    return render_template("stations/flagged.html", page=page, reasons=reasons, status=status, filters=filters,
                           **PAGE_WORDS)


def _decision_page(checkin, form, confirmation=None, status=200):
    return render_template("stations/decide.html", checkin=checkin, form=form, confirmation=confirmation,
                           radius=checkins.radius_of(checkin.station), reasons=checkins.flag_reasons(checkin),
                           **PAGE_WORDS), status


def _confirmation(checkin, decision):
    """What the decision will do, in words."""
    words = {"name": checkin.staff.name, "station": checkin.station.name, "day": checkin.day.isoformat()}
    if decision == "accept" and checkins.already_present(checkin):
        return _("Accepting changes nothing: %(name)s already has a counted check-in at %(station)s on %(day)s and "
                 "is present that day.", **words)
    if decision == "accept":
        return _("Accepting counts %(name)s as present at %(station)s on %(day)s: the staff-day counts.", **words)
    return _("Rejecting leaves %(name)s absent at %(station)s on %(day)s (unless another check-in counts): "
             "the staff-day does not count.", **words)


@bp.route("/check-ins/<int:checkin_id>/decision", methods=["GET", "POST"])
@capability_required("station.decide")
def decide_checkin(checkin_id):
    """Accept or reject a flagged check-in with a reason: first what it will do is shown, then
    confirming records it. A decision sent for a check-in already decided is a 409, said on the page."""
    checkin = checkins.checkin_of_bureau(checkin_id)
    form = DecisionForm()
    if request.method == "GET":
        return _decision_page(checkin, form)
    if checkin.status != "flagged":
        flash(_("This check-in was already decided."), "error")
        return _decision_page(checkin, form, status=409)
    if not form.validate_on_submit():
        return _decision_page(checkin, form, status=422)
    if form.confirmed.data != "yes":
        if form.decision.data == "accept":
            try:
                checkins.refuse_settled_day(checkin.station, checkin.day, "decision")
            except DomainError as exc:
                show_refusal(form, exc, default_field="decision")
                return _decision_page(checkin, form, status=exc.status)
        form.confirmed.data = "yes"
        return _decision_page(checkin, form, confirmation=_confirmation(checkin, form.decision.data))
    try:
        checkins.decide(checkin, form.decision.data, form.reason.data, current_user, utcnow())
    except DomainError as exc:
        form.confirmed.data = ""
        show_refusal(form, exc, default_field="reason")
        return _decision_page(checkin, form, status=exc.status)
    flash(_("The check-in of %(name)s on %(day)s is %(status)s.", name=checkin.staff.name, day=checkin.day.isoformat(),
            status=label(PAGE_WORDS["statuses"], checkin.status)), "success")
    return redirect(url_for("stations.flagged_checkins"))


# --- staffing compliance ------------------------------------------------------------------------

def compliance_rows(month):
    """(the StationMonths of the stations the reader may see — compliance.stations_month's: the
    active ones and those closed after being staffed in the month —, message or None): none,
    with the calendar's message, for a year it does not know."""
    try:
        return stations_month(month, station_ids=stations_visible_to(current_user).with_only_columns(Station.id)), None
    except DomainError as exc:
        return [], exc.message


def chart(rows):
    """The bars of the compliance chart: per station the share of staff-days present."""
    bars = []
    for index, row in enumerate(rows):
        whole = row.staff_days_required
        bars.append({"label": row.station.name, "y": index * (BAR_HEIGHT + GAP), "track": CHART_WIDTH,
                     "fill": CHART_WIDTH * row.staff_days_present // whole if whole else 0,
                     "text": (_("No staffing contract") if row.station.contract is None
                              else f"{percent_text(row.staff_days_present, whole)} %" if whole else "—")})
    return {"rows": bars, "height": max(1, len(bars)) * (BAR_HEIGHT + GAP), "label_width": LABEL_WIDTH,
            "bar_width": CHART_WIDTH, "bar_height": BAR_HEIGHT, "width": LABEL_WIDTH + CHART_WIDTH + 100}


def _totals(rows):
    required = sum(r.staff_days_required for r in rows)
    present = sum(r.staff_days_present for r in rows)
    return {"required": required, "present": present, "missing": required - present,
            "percent": percent_text(present, required)}


@bp.route("/compliance")
@capability_required("station.read")
def compliance_page():
    """The month's staffing compliance per station (``?month=YYYY-MM``, this month through yesterday)."""
    month, message = requested_month()
    rows, calendar_message = compliance_rows(month)
    return render_template("stations/compliance.html", month=month_text(month), rows=rows,
                           message=message or calendar_message, chart=chart(rows), totals=_totals(rows),
                           **PAGE_WORDS)


@bp.route("/compliance.xlsx")
@capability_required("station.read")
def compliance_export():
    """The same figures as an Excel workbook: per station, then each short day."""
    month, _message = requested_month()
    rows, calendar_message = compliance_rows(month)
    book = Workbook()
    sheet = book.active
    sheet.title = _("Compliance")[:31]
    append_row(sheet, [_("Staffing compliance of the stations"), month_text(month)])
    if calendar_message:
        append_row(sheet, [calendar_message])
    append_row(sheet, [_("Code"), _("Station"), _("Kind"), _("Township (street)"), _("Staff required"),
                       _("Working days counted"), _("Staff-days required"), _("Staff-days present"),
                       _("Staff-days missing"), _("Compliance (%)")])
    for row in rows:
        append_row(sheet, [row.station.code, row.station.name, str(label(KIND_LABELS, row.station.kind)),
                           row.station.township, row.required_staff, len(row.days), row.staff_days_required,
                           row.staff_days_present, row.staff_days_missing,
                           _("No staffing contract") if row.station.contract is None
                           else percent_text(row.staff_days_present, row.staff_days_required)])
    totals = _totals(rows)
    append_row(sheet, [_("Total"), "", "", "", "", "", totals["required"], totals["present"], totals["missing"],
                       totals["percent"]])
    short = book.create_sheet(_("Short days")[:31])
    append_row(short, [_("Code"), _("Station"), _("Day"), _("Staff present"), _("Staff required")])
    for row in rows:
        for day in row.short_days:
            append_row(short, [row.station.code, row.station.name, day["day"], day["present"], day["required"]])
    out = io.BytesIO()
    book.save(out)
    return xlsx_download(out.getvalue(), f"station-compliance-{month_text(month)}.xlsx", "stations.xlsx")
