"""Target-group service logs (docs/DOMAIN.md §2.4, §6): the month's counts per station and target
group (people served, volunteers, logs) with the month's logs, as a page and as Excel, and the form
that records a log (the station's contractor's manager; its field workers posted there that day).
Counts only: a log never names a person."""
import io

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from openpyxl import Workbook
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from portal.beneficiaries.models import CATEGORIES
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.months import month_text
from portal.core.pagination import paginate
from portal.core.query import chosen_id
from portal.core.timeutil import local_today
from portal.core.xlsx import append_row, xlsx_download
from portal.stations import logs
from portal.stations.blueprint import bp
from portal.stations.models import StationServiceLog
from portal.stations.station_forms import LogForm
from portal.stations.station_labels import GROUP_LABELS
from portal.stations.views import PAGE_WORDS, requested_month

PER_PAGE = 25


@bp.route("/logs")
@capability_required("station.read", "station.log")
def logs_page():
    """The month's counts per station and target group (``?month=YYYY-MM``, this month by
    default) and the month's logs, newest first."""
    month, message = requested_month()
    counts, total = logs.monthly_counts(current_user, month)
    page = paginate(logs.logs_query(current_user, month).options(selectinload(StationServiceLog.station)),
                    per_page=PER_PAGE)
    return render_template("stations/logs.html", month=month_text(month), message=message, counts=counts,
                           total=total, page=page, group_codes=CATEGORIES,
                           may_record=bool(logs.loggable_stations(current_user)), **PAGE_WORDS)


@bp.route("/logs.xlsx")
@capability_required("station.read", "station.log")
def logs_export():
    """The month's counts as an Excel workbook: people served per station and group, then one
    row per station and group with its logs, people and volunteers."""
    month, _message = requested_month()
    counts, total = logs.monthly_counts(current_user, month)
    book = Workbook()
    sheet = book.active
    sheet.title = _("People served")[:31]
    append_row(sheet, [_("Target-group service logs: people served"), month_text(month)])
    append_row(sheet, [_("Code"), _("Station")] + [str(GROUP_LABELS[g]) for g in CATEGORIES]
               + [_("People served"), _("Volunteers"), _("Logs")])
    for row in counts + [total]:
        head = [row.station.code, row.station.name] if row.station else [_("Total"), ""]
        append_row(sheet, head + [row.people.get(g, 0) for g in CATEGORIES]
                   + [row.total_people, row.total_volunteers, row.total_logs])
    detail = book.create_sheet(_("By group")[:31])
    append_row(detail, [_("Code"), _("Station"), _("Target group"), _("Logs"), _("People served"), _("Volunteers")])
    for row in counts:
        for group in CATEGORIES:
            if group in row.logs:
                append_row(detail, [row.station.code, row.station.name, str(GROUP_LABELS[group]), row.logs[group],
                                    row.people[group], row.volunteers[group]])
    out = io.BytesIO()
    book.save(out)
    return xlsx_download(out.getvalue(), f"station-logs-{month_text(month)}.xlsx", "station-logs.xlsx")


def _station_choices(form, stations):
    form.station.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(s.id), f"{s.code} · {s.name}") for s in stations]


@bp.route("/logs/new", methods=["GET", "POST"])
@capability_required("station.log")
def new_log():
    """Record what a station did on a day for one target group: the service, the people served
    and the volunteers who helped."""
    stations = logs.loggable_stations(current_user)
    form = LogForm()
    if request.method == "GET":
        form.day.data = local_today()
        form.station.data = request.args.get("station", "")
    _station_choices(form, stations)
    if form.validate_on_submit():
        station = next((s for s in stations if s.id == chosen_id(form.station.data)), None)
        try:
            if station is None:
                raise DomainError(_("Choose the station."), {"station": [_("Choose the station.")]})
            log = logs.record_log(station, {"day": form.day.data, "target_group": form.target_group.data,
                                            "service": form.service.data, "people": form.people.data,
                                            "volunteers": form.volunteers.data}, current_user, local_today())
        except DomainError as exc:
            show_refusal(form, exc, default_field="station")
        else:
            flash(_("The log of %(station)s on %(day)s is recorded.", station=station.name, day=log.day.isoformat()),
                  "success")
            return redirect(url_for("stations.logs_page", month=month_text(log.day)))
    status = 422 if request.method == "POST" else 200
    return render_template("stations/log_form.html", form=form, has_stations=bool(stations)), status
