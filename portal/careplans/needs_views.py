"""The care contractor manager's forms (docs/DOMAIN.md §6 "Care plans"): the needs assessment of a
person assigned to one of its care contracts (a score and a note per dimension), and the plan
drafted from it — a new version, or a change to the draft before it is submitted. Every refusal
of the rules (needs.py, plans.py) is shown on the field it concerns, with its numbers."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.assessments.people import standing
from portal.careplans import needs, people, plans
from portal.careplans.blueprint import bp
from portal.careplans.forms import NeedsForm, PlanForm, needs_values, plan_values
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.months import month_text
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.careplans.views import LABELS, name_of
from portal.visits.catalogue import CARE_SERVICES


def _care_person(beneficiary_id):
    """The person, when the manager may plan for them (any of its care contracts, now or before)."""
    return people.visible_person(beneficiary_id, current_user)


@bp.route("/people/<int:beneficiary_id>/needs", methods=["GET", "POST"])
@capability_required("careplan.draft")
def record_needs(beneficiary_id):
    """The needs assessment form (GET) and its recording (POST)."""
    person = _care_person(beneficiary_id)
    today = local_today()
    form = NeedsForm(formdata=request.form if request.method == "POST" else None, assessed_on=today)
    contracts = people.care_contracts(person, current_user.contractor_id, today)
    form.contract.choices = [SelectChoice(str(c.id), f"{c.number} {c.title}") for c in contracts]
    status, summary = 200, None
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            contract_id, scores, notes = needs_values(form)
            try:
                with db.session.begin_nested():
                    needs.record_needs(person, contract_id, form.assessed_on.data, scores, notes, current_user,
                                       utcnow())
            except DomainError as exc:
                show_refusal(form, exc, "contract")
                summary = exc.message
            else:
                flash(_("The needs assessment has been recorded."), "success")
                return redirect(url_for("careplans.person_plans", beneficiary_id=person.id))
    return render_template("careplans/needs_form.html", form=form, person=person, name=name_of(person),
                           no_contract=not contracts, summary=summary, **LABELS), status


# refusals that concern the plan as a whole: shown above its services
WHOLE_PLAN = ("services", "care_class", "plan")


def _plan_page(form, person, plan, status=200, summary=()):
    current = local_today().replace(day=1)
    latest_start = plans.latest_approved_start(person.id, excluding=plan.id if plan else None)
    care_class = standing(person).care_class
    return render_template(
        "careplans/plan_form.html", form=form, person=person, name=name_of(person), plan=plan, summary=summary,
        care_class=care_class, minimum=plans.minimum_for(person.tenant_id, care_class) if care_class else None,
        no_class=None if care_class else plans.no_class_message(),
        latest_needs=needs.latest_needs(person, current_user.contractor_id),
        earliest=month_text(max(current, latest_start) if latest_start else current), **LABELS), status


def _prefilled(person, plan):
    """The form's values: the draft's own, else the latest version's (a new version starts from it)."""
    source = plan or next(iter(plans.versions_of(person, current_user)), None)
    data = {"effective_from": month_text(local_today()) if plan is None else month_text(plan.effective_from)}
    if source is not None:
        data.update({f"service_{code}": str((source.services or {}).get(code, 0)) for code in CARE_SERVICES})
        data["in_person_per_month"] = str(source.in_person_per_month)
    else:
        data["in_person_per_month"] = "1"
    if plan is not None:
        data["reason"] = plan.reason
    return data


def _save(person, plan):
    form = PlanForm(formdata=request.form if request.method == "POST" else None,
                    data=_prefilled(person, plan) if request.method != "POST" else None)
    if request.method == "POST":
        if form.validate_on_submit():
            services, in_person, month = plan_values(form)
            try:
                with db.session.begin_nested():
                    saved = plans.draft(person, current_user, utcnow(), services=services, in_person=in_person,
                                        effective_from=month, reason=form.reason.data, plan=plan)
            except DomainError as exc:
                if exc.status == 409:
                    flash(exc.message, "error")
                    return _plan_page(form, person, plan, status=409)
                show_refusal(form, exc)
                summary = [str(m) for key in WHOLE_PLAN for m in exc.errors.get(key, [])]
                return _plan_page(form, person, plan, status=exc.status, summary=summary or
                                  ([] if exc.errors else [exc.message]))
            else:
                flash(_("The plan has been saved as a draft: submit it to the bureau when it is complete."), "success")
                return redirect(url_for("careplans.plan_detail", plan_id=saved.id))
        return _plan_page(form, person, plan, status=422)
    return _plan_page(form, person, plan)


@bp.route("/people/<int:beneficiary_id>/plans/new", methods=["GET", "POST"])
@capability_required("careplan.draft")
def draft_plan(beneficiary_id):
    """The form of a new version of the person's plan (GET) and its draft (POST)."""
    return _save(_care_person(beneficiary_id), None)


@bp.route("/<int:plan_id>/edit", methods=["GET", "POST"])
@capability_required("careplan.draft")
def edit_plan(plan_id):
    """The same form for the manager's own draft, before it is submitted."""
    plan = plans.visible_plan(plan_id, current_user)
    if plan.status != "draft":  # submitted, decided: back to the plan's page, told why
        flash(plans.not_a_draft(plan), "error")
        return redirect(url_for("careplans.plan_detail", plan_id=plan.id))
    return _save(plan.beneficiary, plan)
