"""Contract pages: officers make contracts from awards, edit drafts, move them through their
states and amend them; other bureau roles read; contractor managers read their own contracts
only. Views parse a form, call one service function and render or redirect."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.contracts import services
from portal.contracts.blueprint import bp
from portal.contracts.dashboard import contract_dashboard
from portal.contracts.forms import (AmendmentForm, ContractForm, MoveForm, ReasonMoveForm, SignForm, TerminationForm,
                                   added_quotas_from)
from portal.contracts.lifecycle import MAX_BOND_PERCENT, PAYMENT_TERMS, RATIONALE_LABELS, STATUS_LABELS
from portal.contracts.models import SUBCONTRACTING_BAN_CLAUSE
from portal.contracts.totals import items_total_fen
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import show_refusal
from portal.core.pagination import paginate
from portal.core.timeutil import local_today
from portal.disclosures import disclosures_of
from portal.extensions import db
from portal.tenancy.workdays import tenant_calendar
from portal.tenders import deadlines
from portal.tenders.awards import signing_blocked
from portal.tenders.lifecycle import UNIT_LABELS
from portal.tenders.planning import budget_lines

# action -> (form class, page heading, service call, success message)
MOVES = {
    "sign": (SignForm, lambda: _("Sign the contract"),
             lambda c, f: services.sign(c, f.on.data, late_reason=f.late_reason.data),
             lambda: _("The contract is signed; its notice is scheduled.")),
    "activate": (MoveForm, lambda: _("Start delivery"), lambda c, f: services.activate(c, f.on.data),
                 lambda: _("The contract is active.")),
    "suspend": (ReasonMoveForm, lambda: _("Suspend the contract"),
                lambda c, f: services.suspend(c, f.on.data, f.reason.data), lambda: _("The contract is suspended.")),
    "resume": (MoveForm, lambda: _("Resume the contract"), lambda c, f: services.resume(c, f.on.data),
               lambda: _("The contract is active again.")),
    "complete": (MoveForm, lambda: _("Complete the contract"), lambda c, f: services.complete(c, f.on.data),
                 lambda: _("The contract is completed.")),
    "terminate": (TerminationForm, lambda: _("Terminate the contract"),
                  lambda c, f: services.terminate(c, f.on.data, f.reason.data, f.amount_paid.data),
                  lambda: _("The contract is terminated.")),
}


def _contract_or_404(contract_id):
    return services.get_contract(contract_id, current_user)


def _refused(form, exc):
    """Show a refused action on the form page (422, so the request rolls back)."""
    show_refusal(form, exc)
    flash(exc.message, "error")


@bp.route("/")
@capability_required("contract.read")
def index():
    q, status = request.args.get("q", "").strip(), request.args.get("status", "")
    page = paginate(services.contracts_query(current_user, q, status))
    awaiting = services.awards_awaiting_contract() if current_user.can("contract.edit") else []
    return render_template("contracts/index.html", page=page, q=q, status=status, statuses=STATUS_LABELS,
                           awaiting=awaiting, can_write=current_user.can("contract.edit"),
                           sign_days=deadlines.CONTRACT_SIGN_DAYS, publish_days=deadlines.CONTRACT_PUBLISH_WORKING_DAYS)


def _contract_form(form):
    form.budget_line_id.choices = [SelectChoice(line.id, f"{line.year} · {line.name}") for line in budget_lines()]
    return form


def _form_page(form, heading, back, award, contract=None, status=200):
    return render_template("contracts/form.html", form=form, heading=heading, back=back, award=award,
                           contract=contract, clause=SUBCONTRACTING_BAN_CLAUSE, rules=_rules(award)), status


def _rules(award):
    """The rules of the contract form, with this award's figures, from the constants the checks use:
    the days of this award (its own notice and challenge period), as ``Contract.sign`` counts them."""
    sign_by = (deadlines.contract_sign_by(deadlines.local_date(award.notice_published_at), tenant_calendar())
               if award.notice_published_at else None)
    return {"sign_days": deadlines.CONTRACT_SIGN_DAYS, "sign_by": sign_by,
            "challenge_until": award.challenge_until, "publish_days": deadlines.CONTRACT_PUBLISH_WORKING_DAYS,
            "bond_percent": MAX_BOND_PERCENT, "bond_max_fen": award.amount_fen * MAX_BOND_PERCENT // 100}


@bp.route("/new/<int:award_id>", methods=["GET", "POST"])
@capability_required("contract.edit")
def new(award_id):
    """A draft contract from an award, its items prefilled from the lot and the winning bid."""
    award = services.get_award_for_contract(award_id)
    form = _contract_form(ContractForm())
    back = url_for("contracts.index")
    if request.method == "GET":
        form.fill(services.proposed_terms(award), services.proposed_items(award))
    elif form.validate_on_submit():
        try:
            with db.session.begin_nested():
                contract = services.create_contract(award, form.values(), form.item_values(), current_user)
        except DomainError as exc:
            _refused(form, exc)
            return _form_page(form, _("New contract"), back, award, status=422)
        flash(_("Draft contract %(number)s saved.", number=contract.number), "success")
        return redirect(url_for("contracts.detail", contract_id=contract.id))
    return _form_page(form, _("New contract"), back, award)


@bp.route("/<int:contract_id>")
@capability_required("contract.read")
def detail(contract_id):
    contract = _contract_or_404(contract_id)
    notices = disclosures_of(contract) + [d for a in contract.amendments for d in disclosures_of(a)]
    return render_template("contracts/detail.html", contract=contract, board=contract_dashboard(contract),
                           items_total_fen=items_total_fen(contract.items),
                           can_write=current_user.can("contract.edit"), notices=notices, unit_labels=UNIT_LABELS,
                           rationales=RATIONALE_LABELS, payment_terms=PAYMENT_TERMS,
                           internal=not current_user.can("contractor.manage_own"),
                           has_assignments="assignments.index" in current_app.view_functions,
                           sign_blocked=_sign_blocked(contract))


def _sign_blocked(contract):
    """Why the draft cannot be signed now (shown beside its disabled button), or "" when it can."""
    if contract.status != "draft":
        return ""
    blocked, reason = signing_blocked(contract.award) if contract.award is not None else (False, "")
    if blocked:
        return reason
    return "" if contract.items else _("Add at least one service item before signing.")


@bp.route("/<int:contract_id>/edit", methods=["GET", "POST"])
@capability_required("contract.edit")
def edit(contract_id):
    contract = _contract_or_404(contract_id)
    contract.ensure_editable()
    form = _contract_form(ContractForm())
    back = url_for("contracts.detail", contract_id=contract.id)
    if request.method == "GET":
        terms = {name: getattr(contract, name) for name in services.CONTRACT_FIELDS}
        terms.update(number=contract.number, budget_line_id=contract.budget_line_id)
        form.fill(terms, [{name: getattr(item, name) for name in services.ITEM_FIELDS} for item in contract.items])
        form.number.render_kw = {"readonly": True}
    elif form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.update_contract(contract, form.values(), form.item_values())
        except DomainError as exc:
            _refused(form, exc)
            return _form_page(form, _("Edit contract"), back, contract.award, contract, 422)
        flash(_("Contract saved."), "success")
        return redirect(back)
    return _form_page(form, _("Edit contract"), back, contract.award, contract)


@bp.route("/<int:contract_id>/<any(sign, activate, suspend, resume, complete, terminate):action>",
          methods=["GET", "POST"])
@capability_required("contract.edit")
def move(contract_id, action):
    """Confirm, then make one move of the state machine on the day given."""
    contract = _contract_or_404(contract_id)
    form_class, heading, perform, done = MOVES[action]
    form = form_class()
    if request.method == "GET":
        form.on.data = local_today()
    back = url_for("contracts.detail", contract_id=contract.id)
    status = 200
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                perform(contract, form)
        except DomainError as exc:
            _refused(form, exc)
            status = 422
        else:
            flash(done(), "success")
            return redirect(back)
    return render_template("contracts/confirm.html", form=form, contract=contract, action=action,
                           heading=heading(), back=back, today=local_today()), status


@bp.route("/<int:contract_id>/amendments/new", methods=["GET", "POST"])
@capability_required("contract.edit")
def amend(contract_id):
    contract = _contract_or_404(contract_id)
    form = AmendmentForm()
    if request.method == "GET":
        form.signed_on.data = local_today()
    back = url_for("contracts.detail", contract_id=contract.id)
    status = 200
    added_quotas, quota_errors = added_quotas_from(request.form, contract)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                if quota_errors:
                    raise DomainError(_("Enter a whole number of units."), quota_errors)
                amendment = services.add_amendment(
                    contract, rationale=form.rationale.data, description=form.description.data,
                    added_fen=form.added.data or 0, new_ends_on=form.new_ends_on.data, signed_on=form.signed_on.data,
                    user=current_user, added_quotas=added_quotas)
        except DomainError as exc:
            _refused(form, exc)
            status = 422
        else:
            flash(_("Amendment %(n)s saved; it will be published with the contract's notices.",
                    n=amendment.number), "success")
            return redirect(back)
    return render_template("contracts/amendment_form.html", form=form, contract=contract, back=back,
                           quota_errors=quota_errors if request.method == "POST" else {},
                           unit_labels=UNIT_LABELS), status
