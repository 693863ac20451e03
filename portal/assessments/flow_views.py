"""The bureau's pages of the assessment flow (docs/DOMAIN.md §6): the publicity rounds, opening
one for what a contract submitted, a round with its assessments, objections, sample and re-checks,
the objections and their answers, and the re-check form. Bureau readers only (assessment.read_all):
the names shown here are not masked."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.accounts.models import User
from portal.assessments import objections, publicity, rechecks
from portal.assessments.blueprint import bp
from portal.assessments.flow_forms import (INDICATOR_LABELS, AnswerForm, ObjectionForm, OpenRoundForm, RecheckForm,
                                           indicator_values)
from portal.assessments.models import INDICATORS, AssessmentRecheck
from portal.contracts.models import Contract
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import ConfirmForm, show_refusal
from portal.core.pagination import paginate
from portal.core.query import chosen_id
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id
from portal.visits.forms import CODE_LABELS, VISIT_STATUS_LABELS
from portal.visits.reports import user_name


def permille_as_percent(permille):
    """A rate stored in permille as the percent people read ("10", "12.5"), "—" when not drawn."""
    if permille is None:
        return "—"
    whole, tenth = divmod(int(permille), 10)
    return f"{whole}.{tenth}" if tenth else str(whole)


LABELS = {"classes": publicity.CLASS_LABELS, "objection_statuses": objections.STATUS_LABELS,
          "indicator_labels": INDICATOR_LABELS, "indicators": INDICATORS, "user_name": user_name,
          "visit_statuses": VISIT_STATUS_LABELS, "codes": CODE_LABELS, "percent": permille_as_percent}


def _phase_labels():
    return {"upcoming": _("Not yet open"), "open": _("In publicity"), "ended": _("Publicity ended"),
            "final": _("Final")}


@bp.route("/rounds/")
@capability_required("assessment.read_all")
def rounds():
    """Every publicity round of the bureau, newest first, with where it stands."""
    page = paginate(publicity.rounds_query(), per_page=25)
    return render_template("assessments/rounds.html", page=page, today=local_today(), phase=publicity.phase,
                           phases=_phase_labels(), can_open=current_user.can("assessment.publicity"), **LABELS)


@bp.route("/rounds/open", methods=["GET", "POST"])
@capability_required("assessment.publicity")
def open_round():
    """What each contract submitted and no round holds yet; confirming one opens its round and
    publishes the notice shown here beforehand."""
    tenant = db.session.get(Tenant, current_tenant_id())
    form = OpenRoundForm()
    status = 200
    if form.validate_on_submit():
        contract_id = chosen_id(form.contract.data)
        contract = db.session.get(Contract, contract_id) if contract_id else None
        waiting = dict((c.id, items) for c, items in publicity.submitted_by_contract())
        if contract is None or contract.id not in waiting:
            flash(_("This contract has nothing submitted to publish."), "warning")
            status = 422
        else:
            try:
                with db.session.begin_nested():
                    round_ = publicity.open_publicity(contract, waiting[contract.id], current_user, utcnow())
            except DomainError as exc:
                flash(exc.message, "warning")
                status = 422
            else:
                flash(_("Round %(number)s is open and its notice published.", number=round_.number), "success")
                return redirect(url_for("assessments.round_detail", publicity_id=round_.id))
    elif request.method == "POST":
        status = 422
    start, end = publicity.planned_period(tenant, utcnow())
    pending = [(contract, items, publicity.class_counts(items)) for contract, items in publicity.submitted_by_contract()]
    return render_template("assessments/open_round.html", pending=pending, start=start, end=end,
                           days=publicity.publicity_days(tenant), form=form, **LABELS), status


@bp.route("/rounds/<int:publicity_id>")
@capability_required("assessment.read_all")
def round_detail(publicity_id):
    """One round: its period and notice, its assessments (names: bureau only), objections, the
    sample (and on request its redraw), the re-checks, and what still stands before final."""
    round_ = publicity.get_publicity(publicity_id)
    today = local_today()
    checks = db.session.scalars(select(AssessmentRecheck).where(AssessmentRecheck.publicity_id == round_.id)
                                .order_by(AssessmentRecheck.assessment_id)).all()
    comparison = rechecks.redraw_sample(round_) if request.args.get("redraw") == "1" and round_.drawn_at else None
    return render_template("assessments/round.html", round=round_, today=today, phase=publicity.phase(round_, today),
                           phases=_phase_labels(), checks=checks, comparison=comparison,
                           missing=rechecks.missing_for_final(round_, today) if not round_.finalised_at else [],
                           can_draw=current_user.can("assessment.recheck"),
                           can_finalise=current_user.can("assessment.publicity") or current_user.can("assessment.recheck"),
                           can_answer=current_user.can("assessment.objection.answer"),
                           confirm=ConfirmForm(), **LABELS)


@bp.route("/rounds/<int:publicity_id>/draw", methods=["POST"])
@capability_required("assessment.recheck")
def draw_round_sample(publicity_id):
    round_ = publicity.get_publicity(publicity_id)
    if ConfirmForm().validate_on_submit():
        try:
            with db.session.begin_nested():
                chosen = rechecks.draw_sample(round_, current_user, utcnow())
        except DomainError as exc:
            flash(exc.message, "warning")
        else:
            flash(ngettext("The re-check sample holds %(num)s assessment.", "The re-check sample holds %(num)s assessments.", len(chosen)), "success")
    return redirect(url_for("assessments.round_detail", publicity_id=round_.id))


@bp.route("/rounds/<int:publicity_id>/finalise", methods=["GET", "POST"])
@capability_required("assessment.publicity", "assessment.recheck")
def finalise_round(publicity_id):
    """Making a round final, after a confirmation page listing each assessment with the final class
    it will get (the re-check's where it differs) and its home visit: it cannot be undone."""
    round_ = publicity.get_publicity(publicity_id)
    form = ConfirmForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                with db.session.begin_nested():
                    rechecks.finalise(round_, current_user, utcnow())
            except DomainError as exc:
                flash(exc.message, "warning")
            else:
                flash(_("Every assessment of round %(number)s is final.", number=round_.number), "success")
        return redirect(url_for("assessments.round_detail", publicity_id=round_.id))
    missing = rechecks.missing_for_final(round_, local_today()) if not round_.finalised_at else []
    rows = [(a, rechecks.final_class_of(a)) for a in round_.assessments]
    return render_template("assessments/finalise.html", round=round_, rows=rows, missing=missing, form=form,
                           **LABELS)


@bp.route("/objections/")
@capability_required("assessment.read_all")
def objection_list():
    """Every objection, those waiting for an answer first."""
    state = request.args.get("state", "")
    page = paginate(objections.objections_query(state), per_page=25)
    tenant = db.session.get(Tenant, current_tenant_id())
    due = {o.id: objections.answer_due(o, tenant) for o in page.items}
    return render_template("assessments/objections.html", page=page, state=state, due=due, today=local_today(),
                           **LABELS)


def _row_choices(round_):
    return [SelectChoice("", _("None in particular"))] + [
        SelectChoice(str(a.id), f"{a.beneficiary.name} · {a.beneficiary.township}") for a in round_.assessments]


@bp.route("/rounds/<int:publicity_id>/objections/new", methods=["GET", "POST"])
@capability_required("assessment.objection.answer")
def record_objection(publicity_id):
    """An objection taken by phone, written down by bureau staff (during the period only)."""
    round_ = publicity.get_publicity(publicity_id)
    form = ObjectionForm()
    form.assessment.choices = _row_choices(round_)
    open_now = publicity.phase(round_, local_today()) == "open"
    status = 200
    if request.method == "POST" and not open_now:
        flash(_("Objections are accepted only during the publicity period, from %(start)s to %(end)s.",
                start=round_.starts_on.isoformat(), end=round_.ends_on.isoformat()), "warning")
        status = 422
    elif form.validate_on_submit():
        chosen = chosen_id(form.assessment.data)
        try:
            with db.session.begin_nested():
                objection = objections.submit_objection(round_, form.text.data, utcnow(), assessment_id=chosen,
                                                        contact=form.contact.data, by=current_user)
        except DomainError as exc:
            show_refusal(form, exc, default_field="text")
            status = 422
        else:
            flash(_("The objection was recorded with tracking number %(number)s.",
                    number=objection.tracking_number), "success")
            return redirect(url_for("assessments.objection_detail", objection_id=objection.id))
    elif request.method == "POST":
        status = 422
    return render_template("assessments/objection_new.html", round=round_, form=form, open_now=open_now,
                           **LABELS), status


@bp.route("/objections/<int:objection_id>", methods=["GET", "POST"])
@capability_required("assessment.read_all")
def objection_detail(objection_id):
    """One objection with its private contact (bureau only) and, while open, the answer form."""
    objection = objections.get_objection(objection_id)
    can_answer = current_user.can("assessment.objection.answer")
    form = AnswerForm(formdata=request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not can_answer:
            abort(403)
        if form.validate_on_submit():
            try:
                with db.session.begin_nested():
                    objections.answer_objection(objection, form.decision.data, form.answer.data, current_user,
                                                utcnow())
            except DomainError as exc:
                show_refusal(form, exc, default_field="answer")
            else:
                flash(_("The answer was recorded."), "success")
                return redirect(url_for("assessments.objection_detail", objection_id=objection.id))
        status = 422
    due_on, uncounted = objections.answer_due(objection, db.session.get(Tenant, current_tenant_id()))
    # the objector's contact: to who may answer only, not to every reader of the bureau
    return render_template("assessments/objection.html", objection=objection, form=form, due_on=due_on,
                           uncounted=uncounted, today=local_today(), may_see_contact=can_answer,
                           can_answer=can_answer and objection.status == "open", **LABELS), status


@bp.route("/rechecks/<int:recheck_id>", methods=["GET", "POST"])
@capability_required("assessment.read_all")
def recheck_detail(recheck_id):
    """One re-check: the assessor's findings beside it and, for a supervisor while it is not done,
    the six indicators and who re-checked (never the original assessor)."""
    recheck = rechecks.get_recheck(recheck_id)
    can_record = current_user.can("assessment.recheck")
    form = RecheckForm(formdata=request.form if request.method == "POST" else None)
    people = rechecks.recheck_assessors(current_user) if can_record else []
    form.assessor.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(u.id), u.display_name or u.username) for u in people
        if u.id != recheck.assessment.assessor_user_id]
    status = 200
    if request.method == "POST":
        if not can_record:
            abort(403)
        if form.validate_on_submit():
            allowed = {u.id: u for u in people}
            chosen_user = chosen_id(form.assessor.data)
            chosen = allowed.get(chosen_user)
            if chosen is None and chosen_user:
                chosen = db.session.get(User, chosen_user)
                chosen = chosen if chosen is not None and chosen.id == recheck.assessment.assessor_user_id else None
            try:
                with db.session.begin_nested():
                    rechecks.record_recheck(recheck, indicator_values(form), chosen, form.notes.data, current_user,
                                            utcnow())
            except DomainError as exc:
                show_refusal(form, exc, default_field="assessor", aliases={"indicators": "notes"})
            else:
                flash(_("The re-check was recorded."), "success")
                return redirect(url_for("assessments.recheck_detail", recheck_id=recheck.id))
        status = 422
    return render_template("assessments/recheck.html", recheck=recheck, assessment=recheck.assessment, form=form,
                           can_record=can_record and recheck.rechecked_at is None, **LABELS), status
