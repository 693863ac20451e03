"""Supervisor pages of visits: one visit (raw and adjusted times, distance from home, exceptions
with their history, photos for those allowed), the day's timeline per worker, exception counts per
code, and per contract and month the verified share and the share recorded live."""
from datetime import timedelta

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.contracts.models import Contract
from portal.core import query
from portal.core.auth import capability_required
from portal.core.months import month_or_none, recent_months
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.files.services import serve
from portal.visits import maps, reports
from portal.visits.blueprint import bp
from portal.visits.exceptions import RESPONSE_REASONS, parse_day
from portal.visits.forms import (CODE_LABELS, CORRECTION_REASON_LABELS, CORRECTION_STATUS_LABELS, EXCEPTION_STATUS_LABELS,
                                 SOURCE_LABELS, VISIT_STATUS_LABELS, ExceptionDecisionForm,
                                 ReportFilterForm)

LABELS = {"codes": CODE_LABELS, "exception_statuses": EXCEPTION_STATUS_LABELS, "visit_statuses": VISIT_STATUS_LABELS,
          "sources": SOURCE_LABELS, "reasons": RESPONSE_REASONS,
          "user_name": reports.user_name}
MONTHS_SHOWN = 6


def _contract_arg():
    return query.chosen_id(request.args.get("contract", ""))


def _filters():
    form = ReportFilterForm(request.args)
    contracts = db.session.scalars(select(Contract).order_by(Contract.number)).all()
    form.contract.choices = [SelectChoice("", _("All"))] + [SelectChoice(str(c.id), f"{c.number} {c.title}")
                                                           for c in contracts]
    return form


@bp.route("/visits/<int:visit_id>")
@capability_required("visit.page.read")
def visit_detail(visit_id):
    visit = reports.get_visit(visit_id, current_user)
    begin, finish = visit.effective_times
    return render_template("visits/detail.html", visit=visit, begin=begin, finish=finish,
                           raw_minutes=reports.minutes_between(visit.check_in_at, visit.check_out_at),
                           minutes=reports.minutes_between(begin, finish),
                           worker=reports.worker_name(visit),
                           person=reports.beneficiary_label(visit.beneficiary, current_user),
                           bureau=current_user.can("visit_report.read"), pending=visit.pending_correction,
                           can_decide_correction=current_user.can("correction.decide"), decision_form=ExceptionDecisionForm(),
                           minutes_between=reports.minutes_between, correction_statuses=CORRECTION_STATUS_LABELS,
                           correction_reasons=CORRECTION_REASON_LABELS,
                           visit_map=maps.visit_map(visit) if current_user.can("visit_report.read") else None,
                           **LABELS)


@bp.route("/visits/<int:visit_id>/photos/<int:photo_id>")
@capability_required("visit.page.read")
def visit_photo(visit_id, photo_id):
    """A photo, served only after the same check as the visit itself."""
    visit = reports.get_visit(visit_id, current_user)
    return serve(reports.get_photo(visit, photo_id).file, as_attachment=False)


@bp.route("/visits/timeline")
@capability_required("visit_report.read")
def visit_timeline():
    form = _filters()
    day = parse_day(request.args.get("day")) or local_today()
    form.day.data = day.isoformat()
    return render_template("visits/timeline.html", form=form,
                           timeline=reports.timeline(day, _contract_arg()),
                           previous=day - timedelta(days=1), following=day + timedelta(days=1), **LABELS)


@bp.route("/visits/day-map")
@capability_required("visit_report.read")
def day_map():
    """One worker's visits of one day on a small map (bureau readers only: coordinates are private)."""
    worker_id = query.chosen_id(request.args.get("worker", ""))
    day = parse_day(request.args.get("day")) or local_today()
    visits = maps.day_visits(worker_id, day) if worker_id else []
    return render_template("visits/day_map.html", day=day, worker_id=worker_id, day_map=maps.day_map(visits),
                           previous=day - timedelta(days=1), following=day + timedelta(days=1), **LABELS)


@bp.route("/visits/exception-counts")
@capability_required("visit_report.read")
def exception_counts():
    form = _filters()
    counts = reports.exception_counts(parse_day(request.args.get("date_from")),
                                      parse_day(request.args.get("date_to")), _contract_arg())
    return render_template("visits/counts.html", form=form, counts=counts,
                           chart=reports.counts_chart(counts), **LABELS)


@bp.route("/visits/shares")
@capability_required("visit_report.read")
def visit_shares():
    form = _filters()
    month = month_or_none(request.args.get("month"))
    months = [month] if month else recent_months(local_today(), MONTHS_SHOWN)
    return render_template("visits/shares.html", form=form,
                           by_month=reports.shares_by_month(months, _contract_arg()), **LABELS)
