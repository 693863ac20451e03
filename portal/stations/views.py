"""Pages of the stations themselves (docs/DOMAIN.md §2.4, §6): the list (kind, township or name
search, paged), the form that sets a station up or changes it (admin and officers), and one
station's month: the staff-days required, present and missing, its compliance, each short day,
the postings, the month's check-ins (the flagged ones marked) and its service logs.

Readers: the bureau's readers every station, a staffing contractor's manager its own (others are
404). Worker positions are never shown: a check-in shows its distance from the station."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.months import first_day, month_days, month_or_none, month_text
from portal.core.numbers import percent_text
from portal.core.pagination import paginate
from portal.core.query import chosen_id, like_pattern
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.stations import checkins, postings, stations
from portal.stations.blueprint import bp
from portal.stations.compliance import station_month
from portal.stations.models import STATION_KINDS, Station, StationCheckIn, StationServiceLog
from portal.stations.station_forms import EndPostingForm, PostingForm, StationForm, StationFilterForm
from portal.stations.station_labels import CHECKIN_STATUS_LABELS, GROUP_LABELS, KIND_LABELS, label
from portal.visits.reports import user_name

PER_PAGE = 25
PAGE_WORDS = {"kinds": KIND_LABELS, "statuses": CHECKIN_STATUS_LABELS, "groups": GROUP_LABELS, "label": label,
              "percent_text": percent_text, "user_name": user_name}


def requested_month():
    """(month's first day, message or None) of the query's ``month`` (YYYY-MM): this month when
    absent; a malformed month gives this month and a message (a page never fails on it)."""
    this_month = first_day(local_today())
    raw = request.args.get("month", "").strip()
    if not raw:
        return this_month, None
    month = month_or_none(raw)
    if month is None:
        return this_month, _("Give the month as YYYY-MM; this month is shown.")
    return month, None


# --- the list -----------------------------------------------------------------------------------

@bp.route("/")
@capability_required("station.read")
def index():
    """The stations the reader may see, by code, filtered by kind and a search of township and name."""
    form = StationFilterForm(request.args)
    form.kind.choices = [SelectChoice("", _("All"))] + [SelectChoice(k, KIND_LABELS[k]) for k in STATION_KINDS]
    stmt = stations.stations_visible_to(current_user)
    kind, text = request.args.get("kind", ""), request.args.get("q", "").strip()[:100]
    if kind in STATION_KINDS:
        stmt = stmt.where(Station.kind == kind)
    if text:
        pattern = like_pattern(text)
        stmt = stmt.where(or_(Station.township.like(pattern, escape="\\"), Station.name.like(pattern, escape="\\")))
    page = paginate(stmt.options(selectinload(Station.contract)).order_by(Station.code, Station.id), per_page=PER_PAGE)
    return render_template("stations/index.html", page=page, form=form, **PAGE_WORDS)


# --- setting a station up -----------------------------------------------------------------------

def _contract_choices(form, station=None):
    choices = [SelectChoice("", _("None yet"))]
    for contract in stations.staffing_contracts():
        choices.append(SelectChoice(str(contract.id), f"{contract.number} · {contract.title} · {contract.contractor.name}"))
    if station is not None and station.contract is not None and all(c.value != str(station.contract_id) for c in choices):
        contract = station.contract  # no longer in delivery: kept as it is unless changed
        choices.append(SelectChoice(str(contract.id), f"{contract.number} · {contract.title}"))
    form.contract_id.choices = choices


def _form_values(form):
    return {"code": form.code.data, "name": form.name.data, "kind": form.kind.data, "township": form.township.data,
            "address": form.address.data, "lat": float(form.lat.data), "lon": float(form.lon.data),
            "radius_m": form.radius_m.data, "required_staff": form.required_staff.data,
            "contract_id": chosen_id(form.contract_id.data), "active": form.active.data,
            "opened_on": form.opened_on.data, "required_from": form.required_from.data}


def _save(form, station):
    """The form's station saved, or the form shown again with what was refused."""
    _contract_choices(form, station)
    if form.validate_on_submit():
        raw = (form.contract_id.data or "").strip()
        if raw and raw not in {choice.value for choice in form.contract_id.choices}:
            form.contract_id.errors = [_("Choose one of the contracts listed.")]
            return render_template("stations/form.html", form=form, station=station), 422
        try:
            saved = stations.save_station(station, _form_values(form))
        except DomainError as exc:
            show_refusal(form, exc, default_field="code")
        else:
            flash(_("Station %(code)s is saved.", code=saved.code), "success")
            return redirect(url_for("stations.detail", station_id=saved.id))
    status = 422 if request.method == "POST" else 200
    return render_template("stations/form.html", form=form, station=station), status


@bp.route("/new", methods=["GET", "POST"])
@capability_required("station.manage")
def new():
    """Set up a station: code, name, kind, township, address, coordinates, its own geofence radius
    (optional), the staff it requires each working day and the contract that staffs it."""
    form = StationForm()
    if request.method == "GET":
        form.opened_on.data = local_today()
    return _save(form, None)


@bp.route("/<int:station_id>/edit", methods=["GET", "POST"])
@capability_required("station.manage")
def edit(station_id):
    """Change a station (its past months are computed with what it says now; a station closed is
    still counted for the months it was staffed, up to its last day posted)."""
    station = stations.visible_station(station_id, current_user)
    form = StationForm(obj=station) if request.method == "GET" else StationForm()
    if request.method == "GET":
        form.contract_id.data = str(station.contract_id or "")
        form.lat.data, form.lon.data = f"{station.lat:.6f}", f"{station.lon:.6f}"
    return _save(form, station)


# --- one station's month ------------------------------------------------------------------------

def _month_of(station, month):
    """(StationMonth or None, message or None): None with the calendar's message for a year it
    does not know."""
    try:
        return station_month(station, month), None
    except DomainError as exc:
        return None, exc.message


def station_page(station, month, message=None, posting_form=None, end_form=None):
    """What the station's page shows for ``month``."""
    figures, calendar_message = _month_of(station, month)
    first, last = month_days(month)
    month_checkins = db.session.execute(
        select(StationCheckIn).where(StationCheckIn.station_id == station.id, StationCheckIn.day >= first,
                                     StationCheckIn.day <= last)
        .options(selectinload(StationCheckIn.staff))
        .order_by(StationCheckIn.checked_in_at, StationCheckIn.id)).scalars().all()
    logs = db.session.execute(
        select(StationServiceLog).where(StationServiceLog.station_id == station.id, StationServiceLog.day >= first,
                                        StationServiceLog.day <= last)
        .order_by(StationServiceLog.day, StationServiceLog.id)).scalars().all()
    may_post = stations.manages_staffing(current_user, station)
    form = posting_form or PostingForm()
    if may_post:
        form.staff.choices = [SelectChoice("", _("Choose…"))] + [
            SelectChoice(str(s.id), f"{s.name} · {s.qualification}" if s.qualification else s.name)
            for s in postings.postable_staff(station)]
    return render_template(
        "stations/detail.html", station=station, month=month_text(month), figures=figures,
        message=message or calendar_message, checkins=month_checkins, logs=logs,
        postings=postings.station_postings(station), today=local_today(), may_post=may_post,
        posting_form=form, end_form=end_form or EndPostingForm(), radius=checkins.radius_of(station),
        **PAGE_WORDS)


@bp.route("/<int:station_id>")
@capability_required("station.read")
def detail(station_id):
    """One station and its month (``?month=YYYY-MM``, this month through yesterday by default)."""
    station = stations.visible_station(station_id, current_user)
    month, message = requested_month()
    return station_page(station, month, message)
