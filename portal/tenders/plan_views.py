"""Officer pages for budget lines, the procurement plan and purchase intentions."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.core.auth import capability_required
from portal.core.errors import DomainError, NotFound
from portal.core.forms import ConfirmForm
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.tenders import planning
from portal.tenders.blueprint import bp
from portal.tenders.forms import PHASE_LABELS, BudgetLineForm, IntentionForm, MilestoneForm, PlanForm
from portal.tenders.models import BudgetLine, PlanMilestone, ProcurementPlan, PurchaseIntention


def _get(model, row_id):
    row = db.session.get(model, row_id)
    if row is None:
        raise NotFound(_("No such record."))
    return row


def _page(form, heading, back, status=200):
    return render_template("tenders/form.html", form=form, heading=heading, back=back, tender=None), status


def _save(form, heading, back, save, done):
    """Save through ``save()``; a refusal is shown on the form with 422 (the request rolls back)."""
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                save()
        except DomainError as exc:
            flash(exc.message, "error")
            return _page(form, heading, back, 422)
        flash(done, "success")
        return redirect(back)
    return _page(form, heading, back)


@bp.route("/budget-lines")
@capability_required("procurement_plan.read")
def budget_lines_index():
    year = request.args.get("year", type=int)
    lines = [planning.budget_summary(line) for line in planning.budget_lines(year)]
    return render_template("tenders/budget_lines.html", lines=lines, year=year, can_write=_writer())


@bp.route("/budget-lines/new", methods=["GET", "POST"], defaults={"line_id": None})
@bp.route("/budget-lines/<int:line_id>/edit", methods=["GET", "POST"])
@capability_required("procurement_plan.edit")
def budget_line_form(line_id):
    line = _get(BudgetLine, line_id) if line_id else None
    form = BudgetLineForm(obj=line) if request.method == "GET" else BudgetLineForm()
    if request.method == "GET":
        form.year.data = line.year if line else local_today().year
        form.amount.data = line.amount_fen if line else None
    return _save(form, _("Budget line"), url_for("tenders.budget_lines_index"),
                 lambda: planning.save_budget_line(line, year=form.year.data, name=form.name.data.strip(),
                                                   fund_source=form.fund_source.data.strip(),
                                                   amount_fen=form.amount.data),
                 _("Budget line saved."))


def _writer():
    from flask_login import current_user
    return current_user.can("procurement_plan.edit")


@bp.route("/plan")
@capability_required("procurement_plan.read")
def plan_index():
    plans = db.session.execute(select(ProcurementPlan).order_by(ProcurementPlan.year.desc(),
                                                                ProcurementPlan.id.desc())).scalars().all()
    intentions = db.session.execute(select(PurchaseIntention).order_by(PurchaseIntention.expected_month.desc(),
                                                                       PurchaseIntention.id.desc())).scalars().all()
    return render_template("tenders/plan.html", plans=plans, intentions=intentions, phase_labels=PHASE_LABELS,
                           can_write=_writer(), confirm=ConfirmForm(), today=local_today(),
                           due_on=planning.intention_due_on)


@bp.route("/plan/new", methods=["GET", "POST"])
@capability_required("procurement_plan.edit")
def plan_form():
    form = PlanForm()
    if request.method == "GET":
        form.year.data = local_today().year
    return _save(form, _("Procurement plan"), url_for("tenders.plan_index"),
                 lambda: planning.create_plan(form.year.data, form.title.data.strip(), form.phase_dates()),
                 _("Procurement plan saved."))


@bp.route("/plan/<int:plan_id>/milestones/new", methods=["GET", "POST"])
@capability_required("procurement_plan.edit")
def milestone_form(plan_id):
    plan = _get(ProcurementPlan, plan_id)
    form = MilestoneForm()
    form.phase_id.choices = [SelectChoice(p.id, PHASE_LABELS.get(p.kind, p.kind)) for p in plan.phases]

    def save():
        phase = next((p for p in plan.phases if p.id == form.phase_id.data), None)
        if phase is None:
            raise NotFound(_("No such record."))
        planning.add_milestone(phase, form.title.data.strip(), form.due_on.data)
    return _save(form, _("Milestone"), url_for("tenders.plan_index"), save, _("Milestone saved."))


@bp.route("/milestones/<int:milestone_id>/done", methods=["POST"])
@capability_required("procurement_plan.edit")
def milestone_done(milestone_id):
    milestone = _get(PlanMilestone, milestone_id)
    if ConfirmForm().validate_on_submit():
        planning.complete_milestone(milestone, local_today())
        flash(_("Milestone done."), "success")
    return redirect(url_for("tenders.plan_index"))


@bp.route("/intentions/new", methods=["GET", "POST"])
@capability_required("procurement_plan.edit")
def intention_form():
    form = IntentionForm()
    form.budget_line_id.choices = [SelectChoice(line.id, f"{line.year} · {line.name}")
                                   for line in planning.budget_lines()]
    plan = db.session.execute(select(ProcurementPlan).order_by(ProcurementPlan.year.desc())).scalars().first()
    return _save(form, _("Purchase intention"), url_for("tenders.plan_index"),
                 lambda: planning.new_intention(budget_line=db.session.get(BudgetLine, form.budget_line_id.data),
                                                title=form.title.data.strip(), description=form.description.data or "",
                                                budget_fen=form.budget.data, expected_month=form.expected_month.data,
                                                plan=plan),
                 _("Purchase intention saved; publish it at least 30 days before the tender notice."))


@bp.route("/intentions/<int:intention_id>/publish", methods=["POST"])
@capability_required("procurement_plan.edit")
def intention_publish(intention_id):
    intention = _get(PurchaseIntention, intention_id)
    if ConfirmForm().validate_on_submit():
        planning.publish_intention(intention, utcnow())
        flash(_("The purchase intention is published."), "success")
    return redirect(url_for("tenders.plan_index"))
