"""Pages of violations: the supervision home, violations of the subcontracting ban (list, detail,
decision with a confirmation step) and the contracts flagged for suspension review."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.accounts.permissions import reach
from portal.core import query
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import ConfirmForm
from portal.core.pagination import paginate
from portal.extensions import db
from portal.violations import services
from portal.violations.blueprint import bp
from portal.violations.forms import (DECISIONS, EVIDENCE_LABELS, KIND_LABELS, REASON_LABELS, STATUS_LABELS,
                                     DecisionForm, FilterForm)
from portal.violations.models import VIOLATION_KINDS, VIOLATION_STATUSES

LABELS = {"kinds": KIND_LABELS, "statuses": STATUS_LABELS, "evidence_labels": EVIDENCE_LABELS,
          "reasons": REASON_LABELS}


@bp.route("/")
@capability_required("supervision.home")
def index():
    """The supervision home of bureau readers; contractor managers go to their violations."""
    if reach(current_user).kind == "organisation":
        return redirect(url_for("violations.violations"))
    if not current_user.can("violation.read_all"):
        return render_template("violations/index.html", home=False)
    return render_template("violations/index.html", home=True, counts=services.counts_by_kind(),
                           flagged=services.flagged_contracts(), runs=services.recent_detection_runs(),
                           can_detect=current_user.can("violation.decide"), confirm=ConfirmForm(), **LABELS)


@bp.route("/detect", methods=["POST"])
@capability_required("violation.decide")
def detect():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.start_detection()
    flash(_("The subcontracting checks have been started; their progress is shown below."), "success")
    return redirect(url_for("violations.index"))


@bp.route("/violations")
@capability_required("violation.read")
def violations():
    form = FilterForm(request.args)
    contracts, workers = services.filter_choices(current_user)
    everything = SelectChoice("", _("All"))
    form.kind.choices = [everything] + [SelectChoice(k, KIND_LABELS[k]) for k in VIOLATION_KINDS]
    form.status.choices = [everything] + [SelectChoice(s, STATUS_LABELS[s]) for s in VIOLATION_STATUSES]
    form.contract.choices = [everything] + [SelectChoice(str(c.id), f"{c.number} {c.title}") for c in contracts]
    form.worker.choices = [everything] + [SelectChoice(str(w.id), f"{w.name} ({w.id_number_masked})")
                                          for w in workers]
    stmt = services.filtered_violations(current_user, kind=request.args.get("kind", ""),
                                        status=request.args.get("status", ""),
                                        contract_id=query.filter_id_arg("contract"), staff_id=query.filter_id_arg("worker"))
    return render_template("violations/violations.html", page=paginate(stmt), form=form, **LABELS)


@bp.route("/violations/<int:violation_id>")
@capability_required("violation.read")
def violation(violation_id):
    found = services.get_violation(violation_id, current_user)
    return render_template("violations/violation.html", violation=found,
                           evidence=services.evidence_rows(found, current_user),
                           can_decide=current_user.can("violation.decide") and found.status == "open",
                           decisions=DECISIONS, **LABELS)


@bp.route("/violations/<int:violation_id>/<any(confirm, dismiss):action>", methods=["GET", "POST"])
@capability_required("violation.decide")
def decide(violation_id, action):
    """The confirmation step: the consequences and a note, then the decision."""
    found = services.get_violation(violation_id, current_user)
    form = DecisionForm()
    if found.status != "open":
        flash(_("This violation has already been decided."), "warning")
        return redirect(url_for("violations.violation", violation_id=found.id))
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.decide(found, action, current_user, form.note.data)
        except DomainError as exc:
            form.note.errors = list(form.note.errors) + [exc.message]
        else:
            flash(str(DECISIONS[action]["done"]), "success")
            return redirect(url_for("violations.violation", violation_id=found.id))
    return render_template("violations/decide.html", violation=found, action=action, form=form,
                           decision=DECISIONS[action], **LABELS)


@bp.route("/flagged")
@capability_required("violation.read_all")
def flagged():
    return render_template("violations/flagged.html", contracts=services.flagged_contracts())

