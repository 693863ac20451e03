"""Pages of the quarterly scorecards: the list by quarter with the computation of a quarter, one
scorecard explained component by component with its recomputation and publication, and the
monthly trends of a contract as an SVG chart (beside the spot checks, at /supervision/spot-checks/trends)."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.contracts.models import Contract
from portal.core import query
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import ConfirmForm, show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.scorecards import services, trends
from portal.scorecards.blueprint import bp
from portal.scorecards.forms import QuarterForm
from portal.scorecards.models import Scorecard
from portal.spotchecks import services as spotchecks

LABELS = {"components": services.LABELS, "centi": services.centi_text}
TREND_MONTHS = 12


def _contracts():
    return db.session.scalars(select(Contract).order_by(Contract.number)).all()


@bp.route("/spot-checks/trends")
@capability_required("spotcheck.read")
def spot_check_trends():
    """Per contract and month: verified share, confirmation rate and satisfaction, as a chart and a table."""
    contracts = _contracts()
    chosen = next((c for c in contracts if c.id == query.filter_id_arg("contract")), contracts[0] if contracts else None)
    rows, chart = [], None
    if chosen is not None:
        months, month = [], spotchecks.previous_month(local_today())
        while len(months) < TREND_MONTHS and month >= chosen.starts_on.replace(day=1):
            months.append(month)
            month = spotchecks.previous_month(month)
        rows = trends.monthly_figures(chosen, list(reversed(months)))
        chart = trends.trend_chart(rows) if rows else None
    return render_template("scorecards/trends.html", contracts=contracts, chosen=chosen, rows=rows,
                           chart=chart, **LABELS)


# --- scorecards ------------------------------------------------------------------------------------

def _quarter_form(formdata=None):
    form = QuarterForm(formdata=formdata)
    form.quarter.choices = [SelectChoice(q, q) for q in services.ended_quarters(local_today())]
    return form


def _scorecard_list(form, status=200):
    quarter = request.args.get("quarter", "")
    stmt = select(Scorecard).join(Contract, Contract.id == Scorecard.contract_id).order_by(
        Scorecard.quarter.desc(), Contract.number)
    if quarter:
        stmt = stmt.where(Scorecard.quarter == quarter)
    return render_template("scorecards/index.html", page=paginate(stmt), form=form, quarter=quarter,
                           quarters=services.recent_quarters(local_today()),
                           can_compute=current_user.can("scorecard.compute"), **LABELS), status


@bp.route("/scorecards/")
@capability_required("scorecard.read")
def scorecards_index():
    form = _quarter_form()
    form.quarter.data = services.previous_quarter(local_today())
    return _scorecard_list(form)


@bp.route("/scorecards/compute", methods=["POST"])
@capability_required("scorecard.compute")
def compute_scorecards():
    """Compute (or recompute) every contract's scorecard of a quarter now; published ones stay."""
    form = _quarter_form(request.form)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                results = services.compute_quarter(form.quarter.data, tenant=g.tenant)
        except DomainError as exc:
            show_refusal(form, exc, default_field="quarter")
        else:
            changed = sum(1 for _c, _s, done in results if done)
            flash(ngettext("%(num)s scorecard computed for %(quarter)s; published scorecards are not changed.",
                          "%(num)s scorecards computed for %(quarter)s; published scorecards are not changed.",
                          changed, quarter=form.quarter.data), "success")
            return redirect(url_for("scorecards.scorecards_index", quarter=form.quarter.data))
    return _scorecard_list(form, 422)


@bp.route("/scorecards/<int:scorecard_id>")
@capability_required("scorecard.read")
def scorecard(scorecard_id):
    found = services.get_scorecard(scorecard_id)
    redistributed = any(not c["applicable"] and c["weight"] for c in found.components)
    return render_template("scorecards/detail.html", scorecard=found, confirm=ConfirmForm(),
                           redistributed=redistributed,
                           can_compute=current_user.can("scorecard.compute") and found.published_at is None,
                           can_publish=current_user.can("scorecard.publish") and found.published_at is None,
                           **LABELS)


@bp.route("/scorecards/<int:scorecard_id>/print")
@capability_required("scorecard.read")
def scorecard_print(scorecard_id):
    """The score sheet on paper (A4): facts, components, signatures and seals; no navigation, no forms."""
    found = services.get_scorecard(scorecard_id)
    redistributed = any(not c["applicable"] and c["weight"] for c in found.components)
    return render_template("scorecards/print.html", scorecard=found, redistributed=redistributed, **LABELS)


@bp.route("/scorecards/<int:scorecard_id>/<any(recompute, publish):action>", methods=["POST"])
@capability_required("scorecard.compute")
def scorecard_action(scorecard_id, action):
    found = services.get_scorecard(scorecard_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if action == "publish" and not current_user.can("scorecard.publish"):
        abort(403)
    try:
        with db.session.begin_nested():
            if action == "publish":
                services.publish(found, current_user, utcnow())
                flash(_("The scorecard has been published."), "success")
            else:
                services.compute(found.contract, found.quarter, tenant=g.tenant, now=utcnow())
                flash(_("The scorecard has been recomputed."), "success")
    except DomainError as exc:
        flash(exc.message, "warning")
    return redirect(url_for("scorecards.scorecard", scorecard_id=found.id))
