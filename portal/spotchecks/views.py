"""Pages of spot checks: the supervisor's work list (progress per contract and method, the checks
left, an Excel export), one sample with its redraw, and one check with the outcome form. The
monthly trends of a contract are a scorecards page (portal/scorecards/views.py)."""
from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.audit.recorder import record_event
from portal.contractors.spreadsheet import template_workbook, XLSX_MIMETYPE
from portal.contracts.models import Contract
from portal.core import query
from portal.core.auth import capability_required
from portal.core.crypto import mask_name
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import format_local, local_today, utcnow
from portal.extensions import db
from portal.jobs.queue import enqueue
from portal.spotchecks import services as spotchecks
from portal.spotchecks.blueprint import bp
from portal.spotchecks.forms import DrawForm, OutcomeForm, SpotCheckFilterForm, STATE_LABELS
from portal.spotchecks.services import METHOD_LABELS, OUTCOME_LABELS
from portal.visits.forms import VISIT_STATUS_LABELS
from portal.visits.reports import beneficiary_label, user_name, worker_name

LABELS = {"methods": METHOD_LABELS, "outcomes": OUTCOME_LABELS, "states": STATE_LABELS,
          "worker_name": worker_name, "user_name": user_name, "mask_name": mask_name,
          "visit_statuses": VISIT_STATUS_LABELS}


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
    page = paginate(spotchecks.checks_query(month=month, contract_id=query.filter_id_arg("contract"), state=state,
                                            method=request.args.get("method", "")), per_page=25)
    return render_template("spotchecks/index.html", month=month, form=form, page=page,
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
            return redirect(url_for("spotchecks.spot_checks", month=form.month.data))
    return _work_list(form, 422)


@bp.route("/spot-checks/samples/<int:sample_id>")
@capability_required("spotcheck.read")
def spot_check_sample(sample_id):
    """One sample: its seed, rate and population, its checks, and on request the redraw."""
    sample = spotchecks.get_sample(sample_id)
    comparison = spotchecks.redraw(sample) if request.args.get("redraw") == "1" else None
    return render_template("spotchecks/sample.html", sample=sample, comparison=comparison,
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
                with db.session.begin_nested():
                    spotchecks.record_outcome(
                        check, method=form.method.data, outcome=form.outcome.data, user=current_user,
                        satisfaction=int(form.satisfaction.data) if form.satisfaction.data else None,
                        complaint=form.complaint.data, reason=form.reason.data, now=utcnow())
            except DomainError as exc:
                show_refusal(form, exc, default_field="outcome")
            else:
                flash(_("The outcome has been recorded."), "success")
                return redirect(url_for("spotchecks.spot_check", check_id=check.id))
        status = 422
    elif check.method:
        form.method.data = check.method
    visit = check.visit
    return render_template("spotchecks/check.html", check=check, visit=visit, form=form,
                           can_check=checker and check.outcome is None, show_contact=checker,
                           person=beneficiary_label(visit.beneficiary, current_user),
                           tries=spotchecks.unreachable_tries(check), max_tries=spotchecks.MAX_ATTEMPTS,
                           **LABELS), status


@bp.route("/spot-checks/export.xlsx")
@capability_required("spotcheck.read")
def spot_checks_export():
    """The month's samples and outcomes as Excel: masked names, no phone numbers. Audited."""
    month = _chosen_month()
    checks = db.session.scalars(spotchecks.checks_query(month=month, contract_id=query.filter_id_arg("contract"))).all()
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
