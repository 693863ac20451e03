"""Settlement pages (docs/DOMAIN.md §8): the statement list with its filters, a statement with its
lines, the visits behind them and its workflow history, each workflow step as a confirmed form,
the "prepare a month" form with its job's progress, the Excel export and print page, and the
budget view. Views parse a form, call one engine function (portal/billing/workflow.py,
settlement.py, tasks.py) and render or redirect; a refused step shows its reason on the form."""
from typing import Callable, NamedTuple

from flask import abort, flash, g, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.utils import secure_filename
from wtforms.fields.choices import SelectChoice

from portal.billing import adjustments, balances, budget, presentation, settlement, steps, tasks, workflow
from portal.billing.blueprint import bp
from portal.billing.forms import (ActionForm, AdjustmentForm, DisputeForm, PaymentForm, PrepareForm)
from portal.billing.models import STATEMENT_STATUSES, Statement
from portal.contracts import services as contract_services
from portal.contracts.models import Contract
from portal.core import months
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import local_today
from portal.extensions import db
from portal.jobs.queue import enqueue
from portal.violations.forms import KIND_LABELS as VIOLATION_LABELS

PREPARE_JOB = tasks.prepare_month.job_name


class Action(NamedTuple):
    """A workflow step as a page: its form, heading and success message. Who may take it and in
    which statuses is steps.STEPS; taking it is steps.take, shared with the API."""
    form: type
    heading: Callable
    done: Callable


ACTIONS = {
    "send": Action(ActionForm, lambda: _("Send to the contractor"),
                   lambda: _("The statement was sent to the contractor.")),
    "confirm": Action(ActionForm, lambda: _("Confirm the statement"), lambda: _("You confirmed the statement.")),
    "dispute": Action(DisputeForm, lambda: _("Dispute the statement"),
                      lambda: _("You disputed the statement; the bureau will rework it.")),
    "rework": Action(ActionForm, lambda: _("Rework the statement"),
                     lambda: _("The statement is a draft again, recomputed.")),
    "recompute": Action(ActionForm, lambda: _("Recompute the statement"),
                        lambda: _("The statement was recomputed from the records as they are now.")),
    "approve": Action(ActionForm, lambda: _("Approve the statement"), lambda: _("The statement is approved.")),
    "pay": Action(PaymentForm, lambda: _("Record the payment"), lambda: _("The payment is recorded.")),
}


def _step_arguments(form):
    """What the step takes from its form besides the statement and the user (steps.take)."""
    if isinstance(form, DisputeForm):
        return {"note": form.reason.data.strip(), "line_ids": form.line_ids.data}
    if isinstance(form, PaymentForm):
        return {"paid_on": form.paid_on.data, "reference": form.reference.data.strip()}
    return {}


def _statement_or_404(statement_id):
    return workflow.statement_for(current_user, statement_id)


def _contract_choices(blank, in_delivery=False):
    stmt = contract_services.contracts_query(current_user)
    if in_delivery:
        stmt = stmt.where(Contract.in_delivery)
    contracts = db.session.execute(stmt).scalars().all()
    return [SelectChoice(0, blank)] + [SelectChoice(c.id, f"{c.number} · {c.title}") for c in contracts]


def offered_actions(statement, user, stale=None):
    """The workflow steps shown as buttons for ``user`` on ``statement``, in workflow order, each
    with None when it is open now or the one reason it is not (shown disabled); a step the user's
    role never takes is left out (the engine still decides)."""
    offered, blocked = steps.offered_steps(statement, user, stale), steps.blocked_steps(statement, user, stale)
    return [(name, blocked.get(name)) for name in steps.STEPS if name in offered or name in blocked]


def _stale(statement):
    """Whether the statement's records changed since it was computed (only asked while it can
    still change, and of the bureau: a contractor sees the figures it was sent)."""
    if statement.status not in workflow.RECOMPUTABLE or not current_user.can("statement.read_all"):
        return False
    return settlement.is_stale(statement)


def can_adjust(statement, user):
    return user.can("statement.prepare") and statement.editable


@bp.route("/")
@capability_required("statement.read")
def index():
    return _list_page()


def _prepare_form():
    form = PrepareForm()
    form.contract_id.choices = _contract_choices(_("All contracts in delivery"), in_delivery=True)
    return form


def _list_page(prepare=None, status_code=200):
    """The statements the user may see, newest month first, filtered by contract, month and
    status; for officers and finance the "prepare a month" form above them."""
    args = request.args
    contract_id = args.get("contract", 0, type=int) or 0
    month_text = args.get("month", "").strip()
    month = months.month_or_none(month_text)
    month = months.month_text(month) if month else None
    status = args.get("status", "")
    month_error = _("Enter a month as YYYY-MM, e.g. 2026-10.") if month_text and month is None else None
    stmt = (workflow.visible_statements(current_user)
            .options(selectinload(Statement.contract).selectinload(Contract.contractor))
            .order_by(Statement.month.desc(), Statement.id.desc()))
    if contract_id:
        stmt = stmt.where(Statement.contract_id == contract_id)
    if month:
        stmt = stmt.where(Statement.month == month)
    if status in STATEMENT_STATUSES:
        stmt = stmt.where(Statement.status == status)
    if prepare is None and current_user.can("statement.prepare"):
        prepare = _prepare_form()
        prepare.month.data = month or _previous_month()
    statuses = presentation.STATUS_LABELS
    if current_user.can("statement.answer"):
        statuses = {k: v for k, v in statuses.items() if k in presentation.CONTRACTOR_STATUSES}
    owed = balances.open_balances() if current_user.can("budget.read") else []
    return render_template("billing/index.html", page=paginate(stmt), contracts=_contract_choices(_("All")),
                           owed=owed, unrecoverable=[b for b in owed if b.unrecoverable],
                           contract_id=contract_id, month=month_text, month_error=month_error, status=status,
                           statuses=statuses, status_labels=presentation.STATUS_LABELS,
                           prepare=prepare), status_code


def _previous_month(today=None):
    return months.month_text(months.previous_month(today or local_today()))


@bp.route("/prepare", methods=["POST"])
@capability_required("statement.prepare")
def prepare():
    """Start the job that prepares (or recomputes) the month's draft statements, then follow its
    progress. A month that is malformed or has not ended is refused on the form, with the first
    day it may be prepared."""
    form = _prepare_form()
    if not form.validate_on_submit():
        return _list_page(form, 422)
    try:
        month = months.month_text(form.month.data)
        settlement.ensure_month_ended(month)
    except DomainError as exc:
        show_refusal(form, exc, default_field="month")
        return _list_page(form, 422)
    run = enqueue(PREPARE_JOB, month=month, contract_id=form.contract_id.data or None, by_id=current_user.id)
    return redirect(url_for("billing.job", run_id=run.id))


@bp.route("/jobs/<run_id>")
@capability_required("statement.prepare")
def job(run_id):
    """The progress of a "prepare the month" job (refreshes itself while it runs)."""
    from portal.jobs.models import JobRun
    run = db.session.get(JobRun, run_id)
    if run is None or run.name != PREPARE_JOB:
        abort(404)
    response = make_response(render_template("billing/job.html", run=run, month=(run.kwargs or {}).get("month", "")))
    if run.status in ("queued", "running"):
        response.headers["Refresh"] = "3"
    return response


@bp.route("/<int:statement_id>")
@capability_required("statement.read")
def detail(statement_id):
    statement = _statement_or_404(statement_id)
    stale = _stale(statement)
    actions = offered_actions(statement, current_user, stale)
    return render_template(
        "billing/detail.html", statement=statement, history=presentation.history(statement),
        counts=presentation.entry_counts(statement), visits=_visits_by_line(statement), stale=stale,
        next_move=steps.next_move(statement, stale, internal=current_user.can("statement.read_all"),
                                  told_why=any(name == "approve" and why for name, why in actions)),
        violations=_violations_by_line(statement), actions=actions,
        action_labels={name: spec.heading() for name, spec in ACTIONS.items()},
        can_adjust=can_adjust(statement, current_user), status_labels=presentation.STATUS_LABELS,
        kind_labels=presentation.KIND_LABELS, role_labels=presentation.ROLE_LABELS,
        violation_labels=VIOLATION_LABELS, deduction_kinds=presentation.DEDUCTION_KINDS,
        final_payment=presentation.final_payment_note(statement) if current_user.can("statement.read_all") else None)


VISITS_SHOWN = 50  # visits listed per line on the page; the Excel export has them all


def _visits_by_line(statement):
    shown = {}
    for line in statement.lines:
        shown[line.id] = list(presentation.visit_rows(statement, line_id=line.id, limit=VISITS_SHOWN))
    return shown


def _violations_by_line(statement):
    shown = {}
    for row in presentation.violation_rows(statement):
        shown.setdefault(row["line_id"], []).append(row)
    return shown


def _refused(form, exc, field=None):
    """Show a refused step on its form page (422; the step ran in a savepoint, so nothing of it stays).
    A statement that is not the person's to see stays a 404."""
    if exc.status == 404:
        raise exc
    if field is not None:
        show_refusal(form, exc, default_field=field)
    else:
        show_refusal(form, exc)


@bp.route("/<int:statement_id>/<any(send, confirm, dispute, rework, recompute, approve, pay):action>",
          methods=["GET", "POST"])
@capability_required("statement.read")
def act(statement_id, action):
    """Confirm, then take one workflow step."""
    page = ACTIONS[action]
    statement = _statement_or_404(statement_id)
    if not current_user.can(steps.STEPS[action].capability, statement):
        abort(403)
    form = page.form()
    if isinstance(form, DisputeForm):
        form.line_ids.choices = [SelectChoice(line.id, f"{line.position}. {line.description}") for line in statement.lines]
    if isinstance(form, PaymentForm) and request.method == "GET":
        form.paid_on.data = local_today()
    back = url_for("billing.detail", statement_id=statement.id)
    status, refusal = 200, None
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                steps.take(statement, current_user, action, **_step_arguments(form))
        except DomainError as exc:
            _refused(form, exc, "line_ids" if isinstance(form, DisputeForm) else None)
            refusal, status = exc.message, 422
            if any(refusal in field.errors for field in form):
                refusal = None  # shown once, on the field it concerns
        else:
            flash(page.done(), "success")
            return redirect(back)
    elif request.method == "POST":
        status = 422
    stale = (status == 422 or action in ("send", "approve")) and _stale(statement)
    blocked = None if refusal else steps.blocked_steps(statement, current_user, stale).get(action)
    return render_template("billing/confirm.html", form=form, statement=statement, action=action, heading=page.heading(),
                           back=back, refusal=refusal, status_labels=presentation.STATUS_LABELS, stale=stale,
                           blocked=blocked,
                           warning=steps.send_warning(statement, current_user) if action == "send" else None,
                           may_recompute=current_user.can("statement.prepare")), status


@bp.route("/<int:statement_id>/adjustment", methods=["GET", "POST"])
@capability_required("statement.prepare")
def adjustment(statement_id):
    """Add a signed adjustment line to a draft (a correction of an earlier approved month)."""
    statement = _statement_or_404(statement_id)
    form = AdjustmentForm()
    back = url_for("billing.detail", statement_id=statement.id)
    status, refusal = 200, None
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                adjustments.add_adjustment(statement, current_user, form.amount.data, form.reason.data)
        except DomainError as exc:
            _refused(form, exc)
            refusal, status = exc.message, 422
            if any(refusal in field.errors for field in form):
                refusal = None  # shown once, on the field it concerns
        else:
            flash(_("The adjustment line was added."), "success")
            return redirect(back)
    elif request.method == "POST":
        status = 422
    return render_template("billing/confirm.html", form=form, statement=statement, action="adjustment",
                           heading=_("Add an adjustment line"), back=back, refusal=refusal,
                           status_labels=presentation.STATUS_LABELS), status


@bp.route("/<int:statement_id>/adjustment/<int:line_id>/remove", methods=["POST"])
@capability_required("statement.prepare")
def remove_adjustment(statement_id, line_id):
    """Take an adjustment line off a draft (asked for confirmation in the page)."""
    statement = _statement_or_404(statement_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with db.session.begin_nested():
            adjustments.remove_adjustment(statement, current_user, line_id)
    except DomainError as exc:
        if exc.status == 404:
            raise
        return render_template("billing/confirm.html", form=ActionForm(), statement=statement, action="remove",
                               heading=_("Remove the adjustment line"), refusal=exc.message,
                               back=url_for("billing.detail", statement_id=statement.id),
                               status_labels=presentation.STATUS_LABELS), 422
    flash(_("The adjustment line was removed."), "success")
    return redirect(url_for("billing.detail", statement_id=statement.id))


@bp.route("/<int:statement_id>.xlsx")
@capability_required("statement.read")
def export(statement_id):
    from portal.billing.exports import statement_workbook
    from portal.contractors.spreadsheet import XLSX_MIMETYPE
    statement = _statement_or_404(statement_id)
    filename = secure_filename(f"statement-{statement.number}.xlsx") or "statement.xlsx"
    response = send_file(statement_workbook(statement), as_attachment=True, download_name=filename,
                         mimetype=XLSX_MIMETYPE)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:statement_id>/print")
@capability_required("statement.read")
def print_view(statement_id):
    """The statement on paper: lines, totals, history and signature boxes; no navigation."""
    statement = _statement_or_404(statement_id)
    return render_template("billing/print.html", statement=statement, history=presentation.history(statement),
                           counts=presentation.entry_counts(statement), status_labels=presentation.STATUS_LABELS,
                           kind_labels=presentation.KIND_LABELS, deduction_kinds=presentation.DEDUCTION_KINDS)


@bp.route("/budget")
@capability_required("budget.read")
def budget_view():
    """Contracted, settled, paid and remaining per budget line and contract, with bars."""
    years = budget.budget_years()
    year = request.args.get("year", 0, type=int) or (years[0] if years else None)
    lines = budget.budget_view(year=year)
    return render_template("billing/budget.html", lines=lines, charts=[budget.line_chart(f) for f in lines],
                           years=years, year=year, publish_form=ActionForm() if current_user.can("budget.publish") else None)


@bp.route("/budget/publish", methods=["POST"])
@capability_required("budget.publish")
def budget_publish():
    """Publish the year's budget execution summary on the public site (a new notice each time)."""
    form = ActionForm()
    year = request.args.get("year", 0, type=int)
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.session.begin_nested():
            disclosure = budget.publish_execution(year, current_user)
    except DomainError as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("billing.budget_view", year=year or None))
    flash(_("The budget execution summary is published."), "success")
    return redirect(url_for("public.notice", code=g.tenant.code, disclosure_id=disclosure.id))
