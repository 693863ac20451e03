"""The steps of a plan version (docs/DOMAIN.md §6 "Care plans"): the bureau's review queue of the
versions awaiting approval, oldest first, and one confirmation page per step saying what will
happen — the manager's submission, the bureau's approval (the earlier version is superseded from
the new version's month) and the return with a reason. A refusal (a second click, a race, a rule
that no longer holds) is shown in words on the page (409 or 422), never a 500."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from portal.careplans import plans
from portal.careplans.blueprint import bp
from portal.careplans.delivery import plans_in_force
from portal.careplans.forms import ApproveForm, ReturnForm, SubmitForm
from portal.careplans.models import CarePlan
from portal.careplans.views import LABELS, contractor_names, name_of
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import utcnow
from portal.extensions import db


@bp.route("/review")
@capability_required("careplan.queue")
def review_queue():
    """The versions awaiting the bureau's approval, oldest submission first; the approve and
    return links for those who decide (the auditor reads the queue only)."""
    page = paginate(plans.plans_visible_to(current_user).where(CarePlan.status == "submitted")
                    .options(selectinload(CarePlan.beneficiary))
                    .order_by(CarePlan.submitted_at, CarePlan.id), per_page=25)
    return render_template("careplans/review_queue.html", page=page, name_of=name_of,
                           contractors=contractor_names(p.contractor_id for p in page.items), **LABELS)


FORMS = {"submit": SubmitForm, "approve": ApproveForm, "return": ReturnForm}
TITLES = {"submit": _l("Submit the plan to the bureau"), "approve": _l("Approve the plan"),
          "return": _l("Return the plan to the contractor")}
DONE = {"submit": _l("The plan has been submitted: the bureau approves it or returns it."),
        "approve": _l("The plan has been approved."),
        "return": _l("The plan has been returned to the contractor.")}


def _decide(plan_id, action):
    """The confirmation page of ``action`` (GET) and the step (POST)."""
    plan = plans.visible_plan(plan_id, current_user)
    form = FORMS[action](formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                with db.session.begin_nested():
                    if action == "submit":
                        plans.submit(plan, current_user, utcnow())
                    elif action == "approve":
                        plans.approve(plan, current_user, utcnow(), form.note.data)
                    else:
                        plans.return_plan(plan, current_user, utcnow(), form.reason.data)
            except DomainError as exc:
                status = exc.status if exc.status in (409, 422) else 422
                db.session.refresh(plan)
                refused = plans.refusal(action, plan, current_user)
                # the page says a refusal of the step itself (a second click) once, in its own words
                if not show_refusal(form, exc) and (refused is None or refused[0] != exc.message):
                    flash(exc.message, "error")
            else:
                flash(str(DONE[action]), "success")
                return redirect(url_for("careplans.plan_detail", plan_id=plan.id))
    refused = plans.refusal(action, plan, current_user)
    current = plans_in_force(plan.effective_from, beneficiary_ids=[plan.beneficiary_id]).get(plan.beneficiary_id)
    return render_template("careplans/confirm.html", plan=plan, person=plan.beneficiary, name=name_of(plan.beneficiary),
                           action=action, form=form, title=TITLES[action], refused=refused[0] if refused else None,
                           current=current if current is not None and current.id != plan.id else None,
                           minimum=plans.minimum_for(plan.tenant_id, plan.care_class), **LABELS), status


@bp.route("/<int:plan_id>/submit", methods=["GET", "POST"])
@capability_required("careplan.draft")
def submit_plan(plan_id):
    return _decide(plan_id, "submit")


@bp.route("/<int:plan_id>/approve", methods=["GET", "POST"])
@capability_required("careplan.approve")
def approve_plan(plan_id):
    return _decide(plan_id, "approve")


@bp.route("/<int:plan_id>/return", methods=["GET", "POST"])
@capability_required("careplan.approve")
def return_plan(plan_id):
    return _decide(plan_id, "return")
