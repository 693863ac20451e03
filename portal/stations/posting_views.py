"""Posting roster members to a station and ending a posting (docs/DOMAIN.md §6), from the station's
page: the staffing contract's manager for its own stations, or an officer (station.post). A
refusal (not on the roster over the dates, outside the contract's period, posted elsewhere on one
of the days) is shown on the form of the station's page."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core.auth import capability_required
from portal.core.errors import DomainError, NotFound
from portal.core.forms import show_refusal
from portal.core.query import chosen_id
from portal.core.months import first_day
from portal.core.timeutil import local_today
from portal.stations import postings, stations
from portal.stations.blueprint import bp
from portal.stations.station_forms import EndPostingForm, PostingForm
from portal.stations.views import station_page


def _managed(station_id):
    """The station if the user may post workers to it, else NotFound."""
    station = stations.visible_station(station_id, current_user)
    if not stations.manages_staffing(current_user, station):
        raise NotFound(_("No such station."))
    return station


def _again(station, **forms):
    """The station's page (this month) again with the refused form."""
    return station_page(station, first_day(local_today()), **forms), 422


@bp.route("/<int:station_id>/postings", methods=["POST"])
@capability_required("station.post")
def post_worker(station_id):
    """Post a roster member of the staffing contractor to the station over dates."""
    station = _managed(station_id)
    form = PostingForm()
    if form.validate_on_submit():
        try:
            posting = postings.post(station, chosen_id(form.staff.data), form.from_on.data, form.until_on.data,
                                    current_user)
        except DomainError as exc:
            show_refusal(form, exc, default_field="staff")
        else:
            flash(_("%(name)s is posted to %(station)s from %(day)s.", name=posting.staff.name, station=station.name,
                    day=posting.from_on.isoformat()), "success")
            return redirect(url_for("stations.detail", station_id=station.id) + "#postings")
    return _again(station, posting_form=form)


@bp.route("/<int:station_id>/postings/end", methods=["POST"])
@capability_required("station.post")
def end_posting(station_id):
    """End a posting of the station on its last day."""
    station = _managed(station_id)
    form = EndPostingForm()
    posting = postings.posting_of(station, chosen_id(form.posting.data))
    if form.validate_on_submit():
        try:
            postings.end_posting(posting, form.last_day.data)
        except DomainError as exc:
            show_refusal(form, exc, default_field="last_day")
        else:
            flash(_("The posting of %(name)s ends on %(day)s.", name=posting.staff.name,
                    day=posting.until_on.isoformat()), "success")
            return redirect(url_for("stations.detail", station_id=station.id) + "#postings")
    return _again(station, end_form=form)
