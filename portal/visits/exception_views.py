"""Pages of visit exceptions: the supervisor's queue with filters and bulk decisions (each with a
confirmation step), the contractor manager's open exceptions with the answer form, one exception
with its history, and its evidence file."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.core import query
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.pagination import paginate
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.services import serve
from portal.visits import exceptions as service
from portal.visits import unlisted
from portal.visits.blueprint import bp
from portal.visits.forms import (CODE_LABELS, EXCEPTION_DECISIONS, EXCEPTION_STATUS_LABELS,
                                 SOURCE_LABELS, VISIT_STATUS_LABELS, AnswerForm, BulkDecisionForm,
                                 ExceptionDecisionForm, ExceptionFilterForm, decisions_for, next_move)
from portal.visits.models import EXCEPTION_CODES, EXCEPTION_STATUSES
from portal.visits.reports import beneficiary_label, minutes_between, user_name, worker_name

LABELS = {"codes": CODE_LABELS, "exception_statuses": EXCEPTION_STATUS_LABELS, "visit_statuses": VISIT_STATUS_LABELS,
          "sources": SOURCE_LABELS, "reasons": service.RESPONSE_REASONS, "worker_name": worker_name,
          "minutes_between": minutes_between, "user_name": user_name,
          "next_move": next_move}


def _person(visit):
    return beneficiary_label(visit.beneficiary, current_user)


def _filter_form():
    form = ExceptionFilterForm(request.args)
    everything = SelectChoice("", _("All"))
    form.code.choices = [everything] + [SelectChoice(c, f"{c} {CODE_LABELS[c]}") for c in EXCEPTION_CODES]
    form.status.choices = [everything] + [SelectChoice(s, EXCEPTION_STATUS_LABELS[s]) for s in EXCEPTION_STATUSES]
    form.worker.choices = [everything] + [SelectChoice(str(uid), name) for uid, name in
                                          service.worker_choices(current_user)]
    form.contract.choices = [everything] + [SelectChoice(str(c.id), f"{c.number} {c.title}")
                                            for c in service.contract_choices(current_user)]
    return form


def _filtered(status_default=""):
    status = request.args.get("status", status_default)
    return service.filtered_exceptions(
        current_user, code=request.args.get("code", ""), status=status, worker_user_id=query.filter_id_arg("worker"),
        contract_id=query.filter_id_arg("contract"), beneficiary=request.args.get("beneficiary", "")[:64],
        date_from=service.parse_day(request.args.get("date_from")),
        date_to=service.parse_day(request.args.get("date_to")))


@bp.route("/exceptions")
@capability_required("exception.read")
def exceptions():
    """Bureau readers get the queue (a supervisor with checkboxes for bulk decisions); a
    contractor manager gets its organisation's open exceptions, each with the answer form."""
    if current_user.can("exception.answer"):
        form = _filter_form()
        if "status" not in request.args:
            form.status.data = "open"
        page = paginate(_filtered("open"), per_page=20)
        return render_template("visits/exceptions/mine.html", page=page, form=form, answer=AnswerForm(),
                               person=_person, **LABELS)
    page = paginate(_filtered(), per_page=50)
    return render_template("visits/exceptions/queue.html", page=page, form=_filter_form(),
                           bulk=BulkDecisionForm(), can_decide=current_user.can("exception.decide"),
                           decisions=EXCEPTION_DECISIONS, person=_person, **LABELS)


def _detail(found, answer, status=200):
    """The exception page: the actions shown are only those the signed-in user may take now."""
    can_decide = current_user.can("exception.decide") and found.status in service.DECIDABLE
    return render_template("visits/exceptions/detail.html", exception=found, visit=found.visit,
                           answer=answer, person=_person,
                           can_answer=current_user.can("exception.answer") and found.status == "open",
                           can_decide=can_decide, can_recheck=can_decide and found.code == unlisted.CODE,
                           recheck=ExceptionDecisionForm(), decisions=decisions_for(found), **LABELS), status


@bp.route("/exceptions/<int:exception_id>")
@capability_required("exception.read")
def exception_detail(exception_id):
    return _detail(service.get_exception(exception_id, current_user), AnswerForm())


@bp.route("/exceptions/<int:exception_id>/answer", methods=["POST"])
@capability_required("exception.answer")
def answer_exception(exception_id):
    found = service.get_exception(exception_id, current_user)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                service.respond(found, reason=form.reason.data, text=form.text.data, user=current_user,
                                file_storage=request.files.get("evidence"), now=utcnow())
        except DomainError as exc:
            for name, messages in exc.errors.items():
                getattr(form, name).errors = list(getattr(form, name).errors) + messages
            if not exc.errors:
                form.evidence.errors = list(form.evidence.errors) + [exc.message]
        else:
            flash(_("Your answer has been sent to the bureau's supervisor."), "success")
            return redirect(url_for("visits.exceptions"))
    return _detail(found, form, 422)


@bp.route("/exceptions/<int:exception_id>/<any(accept, reject):action>", methods=["GET", "POST"])
@capability_required("exception.decide")
def decide_exception(exception_id, action):
    """The confirmation step of one decision: its consequence and a note, then the decision."""
    found = service.get_exception(exception_id, current_user)
    back = redirect(url_for("visits.exception_detail", exception_id=found.id))
    if found.status not in service.DECIDABLE:
        flash(_("This exception has already been decided."), "warning")
        return back
    if action not in decisions_for(found):  # V01 is never accepted
        try:
            service.refuse_never_accepted(found)
        except DomainError as exc:
            flash(exc.message, "warning")
        return back
    decision = decisions_for(found)[action]
    form = ExceptionDecisionForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                service.DECIDE[action](found, current_user, form.note.data, utcnow())
        except DomainError as exc:
            flash(exc.message, "warning")
            return back
        flash(decision["done"](1), "success")
        return back
    return render_template("visits/exceptions/decide.html", selected=[found], action=action, form=form,
                           decision=decision, person=_person,
                           post_to=url_for("visits.decide_exception", exception_id=found.id, action=action),
                           **LABELS)


@bp.route("/exceptions/bulk", methods=["POST"])
@capability_required("exception.decide")
def bulk_exceptions():
    """First post (from the queue's checkboxes): show the selection and ask. Second post
    (``confirmed``): decide them all in this request's one transaction."""
    form = BulkDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    action = form.action.data or request.form.get("bulk_action", "")
    if action not in EXCEPTION_DECISIONS:
        abort(400)
    ids = request.form.getlist("ids")
    if form.confirmed.data != "1":
        selected = service.selected_exceptions(ids, current_user, action)
        left_out = len(service.selected_exceptions(ids, current_user)) - len(selected)
        if left_out:
            flash(ngettext("%(num)s V01 exception was left out: a V01 finding is never accepted.",
                           "%(num)s V01 exceptions were left out: a V01 finding is never accepted.", left_out),
                  "warning")
        if not selected:
            flash(_("Select at least one open or answered exception."), "warning")
            return redirect(request.referrer or url_for("visits.exceptions"))
        form.action.data, form.confirmed.data = action, "1"
        return render_template("visits/exceptions/decide.html", selected=selected, action=action, form=form,
                               decision=EXCEPTION_DECISIONS[action], person=_person,
                               post_to=url_for("visits.bulk_exceptions"), bulk=True, **LABELS)
    decided = service.bulk_decide(ids, action, current_user, form.note.data, utcnow())
    flash(EXCEPTION_DECISIONS[action]["done"](len(decided)), "success")
    return redirect(url_for("visits.exceptions"))


@bp.route("/exceptions/<int:exception_id>/recheck-roster", methods=["POST"])
@capability_required("exception.decide")
def recheck_roster(exception_id):
    """V01 after a roster correction: the rules run again; V01 goes only if the rule no longer finds it."""
    found = service.get_exception(exception_id, current_user)
    form = ExceptionDecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.session.begin_nested():
            visit = unlisted.recheck_roster(found, current_user, form.note.data, utcnow())
    except DomainError as exc:
        flash(exc.message, "warning")
        return redirect(url_for("visits.exception_detail", exception_id=found.id))
    flash(_("The roster was re-checked: the worker was on it that day, so V01 no longer applies and the rules "
            "have run again on the visit."), "success")
    return redirect(url_for("visits.visit_detail", visit_id=visit.id))


@bp.route("/exceptions/<int:exception_id>/evidence")
@capability_required("exception.read")
def exception_evidence(exception_id):
    found = service.get_exception(exception_id, current_user)
    stored = db.session.get(StoredFile, found.evidence_file_id) if found.evidence_file_id else None
    if stored is None:
        abort(404)
    return serve(stored)
