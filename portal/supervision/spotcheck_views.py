"""Pages of offline supervision: the supervisor's spot-check work list (progress per contract and
method, the checks left, an Excel export), one sample with its redraw, one check with the outcome
form, the monthly trends of a contract as an SVG chart, and the quarterly scorecards."""
from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.accounts.forms import ConfirmForm
from portal.audit.recorder import record_event
from portal.contracts.models import Contract
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.jobs.queue import enqueue
from portal.supervision import bp, scorecard_trends, scorecards, spotchecks
from portal.supervision.exception_forms import VISIT_STATUS_LABELS
from portal.supervision.reports import beneficiary_label, user_name, worker_name
from portal.supervision.spotcheck_forms import STATE_LABELS, DrawForm, OutcomeForm, QuarterForm, SpotCheckFilterForm
from portal.supervision.spotcheck_models import Scorecard
from portal.supervision.spotchecks import METHOD_LABELS, OUTCOME_LABELS

LABELS = {"methods": METHOD_LABELS, "outcomes": OUTCOME_LABELS, "states": STATE_LABELS,
          "worker_name": worker_name, "user_name": user_name, "mask_name": mask_name,
          "components": scorecards.LABELS, "centi": scorecards.centi_text, "visit_statuses": VISIT_STATUS_LABELS}
TREND_MONTHS = 12


def _int_arg(name):
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and 0 < int(value) < 2**31 else None


def _contracts():
    return db.session.scalars(select(Contract).order_by(Contract.number)).all()


def _chosen_month():
    """The month asked for, else the latest month with a sample, else last month."""
    try:
        return spotchecks.parse_month(request.args["month"])
    except (KeyError, DomainError):
        months = spotchecks.months_with_samples(1)
        return months[0] if months else spotchecks.previous_month(local_today())


def _filter_form(month):
    form = SpotCheckFilterForm(request.args)
    everything = SelectChoice("", _("All"))
    months = spotchecks.months_with_samples()
    if month not in months:
        months = sorted([*months, month], reverse=True)
    form.month.choices = [SelectChoice(spotchecks.month_text(m), spotchecks.month_text(m)) for m in months]
    form.month.data = spotchecks.month_text(month)
    form.contract.choices = [everything] + [SelectChoice(str(c.id), f"{c.number} {c.title}") for c in _contracts()]
    form.state.choices = [everything] + [SelectChoice(k, v) for k, v in STATE_LABELS.items()]
    form.method.choices = [everything] + [SelectChoice(k, v) for k, v in METHOD_LABELS.items()]
    return form


def _work_list(draw_form, status=200):
    month = _chosen_month()
    state = request.args.get("state", "open" if current_user.can("spotcheck.check") else "")
    form = _filter_form(month)
    form.state.data = state
    page = paginate(spotchecks.checks_query(month=month, contract_id=_int_arg("contract"), state=state,
                                            method=request.args.get("method", "")), per_page=25)
    return render_template("supervision/spotchecks/index.html", month=month, form=form, page=page,
                           progress=spotchecks.progress(month), draw_form=draw_form,
                           can_check=current_user.can("spotcheck.check"), **LABELS), status


@bp.route("/spot-checks/")
@capability_required("spotcheck.read")
def spot_checks():
    """What is left to check in a month's samples, by contract and method, with progress."""
    draw_form = DrawForm(formdata=None)
    draw_form.month.data = spotchecks.month_text(spotchecks.previous_month(local_today()))
    return _work_list(draw_form)


@bp.route("/spot-checks/draw", methods=["POST"])
@capability_required("spotcheck.check")
def draw_samples():
    """Draw a month's samples for every contract now (a background job; drawing again changes nothing)."""
    form = DrawForm()
    if form.validate_on_submit():
        month = spotchecks.parse_month(form.month.data)
        if month >= local_today().replace(day=1):
            form.month.errors = list(form.month.errors) + [_("Only a month that has ended can be sampled.")]
        else:
            enqueue("supervision.draw_samples", month=form.month.data, user_id=current_user.id)
            flash(_("The samples of %(month)s are being drawn; a contract already sampled keeps its sample.",
                    month=form.month.data), "success")
            return redirect(url_for("supervision.spot_checks", month=form.month.data))
    return _work_list(form, 422)


@bp.route("/spot-checks/samples/<int:sample_id>")
@capability_required("spotcheck.read")
def spot_check_sample(sample_id):
    """One sample: its seed, rate and population, its checks, and on request the redraw."""
    sample = spotchecks.get_sample(sample_id)
    comparison = spotchecks.redraw(sample) if request.args.get("redraw") == "1" else None
    return render_template("supervision/spotchecks/sample.html", sample=sample, comparison=comparison,
                           size=len(sample.checks), **LABELS)


@bp.route("/spot-checks/<int:check_id>", methods=["GET", "POST"])
@capability_required("spotcheck.read")
def spot_check(check_id):
    """One check: the visit, the tries so far and, for the supervisor, the person's phone number
    and address and the outcome form."""
    check = spotchecks.get_check(check_id)
    checker = current_user.can("spotcheck.check")
    form = OutcomeForm(formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not checker:
            abort(403)
        if form.validate_on_submit():
            try:
                spotchecks.record_outcome(
                    check, method=form.method.data, outcome=form.outcome.data, user=current_user,
                    satisfaction=int(form.satisfaction.data) if form.satisfaction.data else None,
                    complaint=form.complaint.data, reason=form.reason.data, now=utcnow())
            except DomainError as exc:
                db.session.rollback()
                show_refusal(form, exc, default_field="outcome")
            else:
                flash(_("The outcome has been recorded."), "success")
                return redirect(url_for("supervision.spot_check", check_id=check.id))
        status = 422
    elif check.method:
        form.method.data = check.method
    visit = check.visit
    return render_template("supervision/spotchecks/check.html", check=check, visit=visit, form=form,
                           can_check=checker and check.outcome is None, show_contact=checker,
                           person=beneficiary_label(visit.beneficiary, current_user),
                           tries=spotchecks.unreachable_tries(check), max_tries=spotchecks.MAX_ATTEMPTS,
                           **LABELS), status


@bp.route("/spot-checks/export.xlsx")
@capability_required("spotcheck.read")
def spot_checks_export():
    """The month's samples and outcomes as Excel: masked names, no phone numbers. Audited."""
    from portal.contractors.spreadsheet import XLSX_MIMETYPE, template_workbook
    from portal.core.timeutil import format_local
    month = _chosen_month()
    checks = db.session.scalars(spotchecks.checks_query(month=month, contract_id=_int_arg("contract"))).all()
    headers = ("抽查编号 Check", "月份 Month", "合同 Contract", "服务人员 Worker", "服务对象（脱敏） Beneficiary (masked)",
               "上门时间 Visit", "服务项目 Item", "方式 Method", "结果 Outcome", "未接通次数 Unreachable tries",
               "满意度 Satisfaction", "投诉 Complaint", "不予确认原因 Rejection reason", "完成时间 Completed")
    rows = [(c.id, c.sample.month, c.sample.contract.number, worker_name(c.visit),
             mask_name(c.visit.beneficiary.name), format_local(c.visit.check_in_at), c.visit.service_item.code,
             str(METHOD_LABELS[c.method]), str(OUTCOME_LABELS[c.outcome]), spotchecks.unreachable_tries(c),
             c.satisfaction, c.complaint or "", c.rejection_reason or "", format_local(c.completed_at))
            for c in checks]
    record_event(db.session, "spot_checks_exported", tenant_id=g.tenant.id, object_type="spot_check",
                 object_id=str(len(rows)))
    data = template_workbook("spot-checks", headers, (10, 9, 18, 12, 14, 17, 14, 12, 10, 10, 8, 30, 30, 17),
                             text_columns=(), rows=rows)
    name = f"spot-checks-{spotchecks.month_text(month)}.xlsx"
    return Response(data, mimetype=XLSX_MIMETYPE, headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.route("/spot-checks/trends")
@capability_required("spotcheck.read")
def spot_check_trends():
    """Per contract and month: verified share, confirmation rate and satisfaction, as a chart and a table."""
    contracts = _contracts()
    chosen = next((c for c in contracts if c.id == _int_arg("contract")), contracts[0] if contracts else None)
    rows, chart = [], None
    if chosen is not None:
        months, month = [], spotchecks.previous_month(local_today())
        while len(months) < TREND_MONTHS and month >= chosen.starts_on.replace(day=1):
            months.append(month)
            month = spotchecks.previous_month(month)
        rows = scorecard_trends.monthly_figures(chosen, list(reversed(months)))
        chart = scorecard_trends.trend_chart(rows) if rows else None
    return render_template("supervision/spotchecks/trends.html", contracts=contracts, chosen=chosen, rows=rows,
                           chart=chart, **LABELS)


# --- scorecards ------------------------------------------------------------------------------------

def _quarter_form(formdata=None):
    form = QuarterForm(formdata=formdata)
    form.quarter.choices = [SelectChoice(q, q) for q in scorecards.ended_quarters(local_today())]
    return form


def _scorecard_list(form, status=200):
    quarter = request.args.get("quarter", "")
    stmt = select(Scorecard).join(Contract, Contract.id == Scorecard.contract_id).order_by(
        Scorecard.quarter.desc(), Contract.number)
    if quarter:
        stmt = stmt.where(Scorecard.quarter == quarter)
    return render_template("supervision/scorecards/index.html", page=paginate(stmt), form=form, quarter=quarter,
                           quarters=scorecards.recent_quarters(local_today()),
                           can_compute=current_user.can("scorecard.compute"), **LABELS), status


@bp.route("/scorecards/")
@capability_required("scorecard.read")
def scorecards_index():
    form = _quarter_form()
    form.quarter.data = scorecards.previous_quarter(local_today())
    return _scorecard_list(form)


@bp.route("/scorecards/compute", methods=["POST"])
@capability_required("scorecard.compute")
def compute_scorecards():
    """Compute (or recompute) every contract's scorecard of a quarter now; published ones stay."""
    form = _quarter_form(request.form)
    if form.validate_on_submit():
        try:
            results = scorecards.compute_quarter(form.quarter.data, tenant=g.tenant)
        except DomainError as exc:
            db.session.rollback()
            show_refusal(form, exc, default_field="quarter")
        else:
            changed = sum(1 for _c, _s, done in results if done)
            flash(_("%(n)s scorecard(s) computed for %(quarter)s; published scorecards are not changed.",
                    n=changed, quarter=form.quarter.data), "success")
            return redirect(url_for("supervision.scorecards_index", quarter=form.quarter.data))
    return _scorecard_list(form, 422)


@bp.route("/scorecards/<int:scorecard_id>")
@capability_required("scorecard.read")
def scorecard(scorecard_id):
    found = scorecards.get_scorecard(scorecard_id)
    redistributed = any(not c["applicable"] and c["weight"] for c in found.components)
    return render_template("supervision/scorecards/detail.html", scorecard=found, confirm=ConfirmForm(),
                           redistributed=redistributed,
                           can_compute=current_user.can("scorecard.compute") and found.published_at is None,
                           can_publish=current_user.can("scorecard.publish") and found.published_at is None,
                           **LABELS)


@bp.route("/scorecards/<int:scorecard_id>/<any(recompute, publish):action>", methods=["POST"])
@capability_required("scorecard.compute")
def scorecard_action(scorecard_id, action):
    found = scorecards.get_scorecard(scorecard_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if action == "publish" and not current_user.can("scorecard.publish"):
        abort(403)
    try:
        if action == "publish":
            scorecards.publish(found, current_user, utcnow())
            flash(_("The scorecard has been published."), "success")
        else:
            scorecards.compute(found.contract, found.quarter, tenant=g.tenant, now=utcnow())
            flash(_("The scorecard has been recomputed."), "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    return redirect(url_for("supervision.scorecard", scorecard_id=found.id))
