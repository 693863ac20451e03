"""Work-list and assignment pages of a contract (on the ``assignments`` blueprint, under
``/contracts``: they pick people of the registry, so they live above contracts). Officers keep
both; the contract's contractor manager keeps the work list of its own contract and reads its
assignments (masked names); other bureau roles read."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import DataRequired, Optional

from portal.beneficiaries.blueprint import assignments_bp as bp
from portal.beneficiaries.assignments import assign as assign_person
from portal.beneficiaries.assignments import assignable_beneficiaries
from portal.contracts import assignments as services
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.timeutil import local_today
from portal.extensions import db

DATE_REQUIRED = DataRequired(_l("Give a date (YYYY-MM-DD)."))


class WorkerForm(FlaskForm):
    staff_id = SelectField(_l("Roster member"), coerce=int, validate_choice=False)
    from_on = DateField(_l("From"), validators=[DATE_REQUIRED])
    until_on = DateField(_l("Until (optional)"), validators=[Optional()])


class AssignForm(FlaskForm):
    beneficiary_id = SelectField(_l("Beneficiary"), coerce=int, validate_choice=False)
    staff_id = SelectField(_l("Worker"), coerce=int, validate_choice=False)
    from_on = DateField(_l("From"), validators=[DATE_REQUIRED])
    until_on = DateField(_l("Until (optional)"), validators=[Optional()])


class EndForm(FlaskForm):
    until_on = DateField(_l("Last day"), validators=[DATE_REQUIRED])


def _page(contract, worker_form=None, assign_form=None, status=200):
    officer = current_user.can("assignment.assign")
    manager = current_user.can("contractor.manage_own")
    today = local_today()
    worker_form = worker_form or WorkerForm(from_on=max(today, contract.starts_on))
    worker_form.staff_id.choices = [(m.id, f"{m.name} ({m.id_number_masked})") for m in services.eligible_staff(contract)]
    work = services.work_list(contract)
    assign_form = assign_form or AssignForm(from_on=max(today, contract.starts_on))
    if officer:
        assign_form.beneficiary_id.choices = [
            (p.id, f"{p.name} · {p.township} {p.village} · {p.id_number_masked}")
            for p in assignable_beneficiaries(contract)]
        assign_form.staff_id.choices = [(e.staff_id, e.staff.name) for e in work
                                        if e.until_on is None or e.until_on >= today]
    return render_template("contracts/assignments/index.html", contract=contract, work=work,
                           assignments=services.assignments(contract), worker_form=worker_form,
                           assign_form=assign_form, end_form=EndForm(until_on=today), today=today,
                           can_keep_work_list=officer or manager, can_assign=officer,
                           masked_view=manager), status


@bp.route("/<int:contract_id>/assignments")
@capability_required("contract.read")
def index(contract_id):
    return _page(services.contract_for(contract_id, current_user))


@bp.route("/<int:contract_id>/work-list", methods=["POST"])
@capability_required("assignment.manage")
def add_worker(contract_id):
    contract = services.contract_for(contract_id, current_user, manage=True)
    form = WorkerForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                entry = services.add_worker(contract, form.staff_id.data, form.from_on.data, form.until_on.data)
        except DomainError as exc:
            form.staff_id.errors = list(form.staff_id.errors) + [exc.message]
        else:
            flash(_("%(name)s is on the work list.", name=entry.staff.name), "success")
            return redirect(url_for("assignments.index", contract_id=contract.id))
    return _page(contract, worker_form=form, status=422)


@bp.route("/<int:contract_id>/work-list/<int:entry_id>/end", methods=["POST"])
@capability_required("assignment.manage")
def end_worker(contract_id, entry_id):
    contract = services.contract_for(contract_id, current_user, manage=True)
    entry = services.work_entry(contract, entry_id)
    form = EndForm()
    if not form.validate_on_submit():
        flash(" ".join(form.until_on.errors) or _("Give a date (YYYY-MM-DD)."), "error")
    else:
        try:
            with db.session.begin_nested():
                ended = services.end_worker(entry, form.until_on.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(ngettext("%(name)s leaves the work list after %(day)s; %(num)s assignment ended with it.",
                          "%(name)s leaves the work list after %(day)s; %(num)s assignments ended with it.",
                          ended, name=entry.staff.name, day=form.until_on.data.isoformat()), "success")
    return redirect(url_for("assignments.index", contract_id=contract.id))


@bp.route("/<int:contract_id>/assignments", methods=["POST"])
@capability_required("assignment.assign")
def assign(contract_id):
    contract = services.contract_for(contract_id, current_user, manage=True)
    form = AssignForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                assign_person(contract, form.beneficiary_id.data, form.staff_id.data, form.from_on.data,
                              form.until_on.data)
        except DomainError as exc:
            for field, messages in (exc.errors or {"beneficiary_id": [exc.message]}).items():
                target = getattr(form, field, form.beneficiary_id)
                target.errors = list(target.errors) + list(messages)
        else:
            flash(_("The person has been assigned."), "success")
            return redirect(url_for("assignments.index", contract_id=contract.id))
    return _page(contract, assign_form=form, status=422)


@bp.route("/<int:contract_id>/assignments/<int:assignment_id>/end", methods=["POST"])
@capability_required("assignment.assign")
def end_assignment(contract_id, assignment_id):
    contract = services.contract_for(contract_id, current_user, manage=True)
    assignment = services.assignment_of(contract, assignment_id)
    form = EndForm()
    if not form.validate_on_submit():
        flash(" ".join(form.until_on.errors) or _("Give a date (YYYY-MM-DD)."), "error")
    else:
        try:
            with db.session.begin_nested():
                services.end_assignment(assignment, form.until_on.data)
        except DomainError as exc:
            flash(exc.message, "error")
        else:
            flash(_("The assignment ends on %(day)s.", day=form.until_on.data.isoformat()), "success")
    return redirect(url_for("assignments.index", contract_id=contract.id))
