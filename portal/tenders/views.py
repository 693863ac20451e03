"""Officer pages for tenders (and the read-only pages of other roles). Views parse a form,
call one service function and render or redirect; rules live in services and lifecycle."""
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from portal.contractors.models import ContractorRegistration
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import ConfirmForm, show_refusal
from portal.core.pagination import paginate
from portal.core.money import format_fen
from portal.core.timeutil import format_local, utcnow
from portal.disclosures import disclosures_of
from portal.extensions import db
from portal.tenders import deadlines, services
from portal.tenders.blueprint import bp
from portal.tenders.forms import (ClarificationForm, CRITERION_KINDS, CriterionForm, ItemForm, LotForm,
                                  ReasonForm, TenderForm, UNIT_LABELS)
from portal.tenders.lifecycle import METHOD_LABELS, STATUS_LABELS
from portal.tenders.models import EvaluationCriterion, Lot, LotItem, PurchaseIntention, Tender
from portal.tenders.planning import budget_lines


def _tender_or_404(tender_id):
    return services.get_tender(tender_id, current_user)


def _refused(form, exc):
    """Show a refused action on the form page (422, so the request rolls back)."""
    show_refusal(form, exc)
    flash(exc.message, "error")


def _form_page(form, heading, back, tender=None, status=200, timetable=None, rules=()):
    return render_template("tenders/form.html", form=form, heading=heading, back=back, tender=tender,
                           timetable=timetable, rules=rules), status


def _timetable(form):
    """The earliest dates shown on the tender form for the intention chosen (none yet: today's)."""
    return services.timetable_preview(form.intention_id.data or None,
                                      offered_intention_ids=[choice.value for choice in form.intention_id.choices])


@bp.route("/")
@capability_required("tender.read")
def index():
    q = request.args.get("q", "").strip()
    status, method = request.args.get("status", ""), request.args.get("method", "")
    year = request.args.get("year", type=int)
    page = paginate(services.tenders_query(current_user, q, status, method, year))
    return render_template("tenders/index.html", page=page, q=q, status=status, method=method, year=year,
                           statuses=STATUS_LABELS, methods=METHOD_LABELS, years=services.tender_years(),
                           can_write=current_user.can("tender.edit"), intention_days=deadlines.INTENTION_LEAD_DAYS,
                           show_drafts=services.sees_drafts(current_user))


def _tender_form(form, tender=None):
    form.budget_line_id.choices = [SelectChoice(line.id, f"{line.year} · {line.name}") for line in budget_lines()]
    taken = select(Tender.intention_id).where(Tender.intention_id.is_not(None),
                                              Tender.status.not_in(("cancelled", "failed")),
                                              Tender.id != (tender.id if tender is not None else -1))
    intentions = db.session.execute(select(PurchaseIntention).where(PurchaseIntention.id.not_in(taken))
                                    .order_by(PurchaseIntention.id.desc())).scalars().all()
    form.intention_id.choices = [SelectChoice(0, "—")] + [SelectChoice(i.id, i.title) for i in intentions]
    approved = db.session.execute(select(ContractorRegistration).where(
        ContractorRegistration.status == "approved")).scalars().all()
    form.invited.choices = [SelectChoice(r.contractor_id, r.contractor.name) for r in approved]
    return form


@bp.route("/new", methods=["GET", "POST"])
@capability_required("tender.edit")
def new():
    form = _tender_form(TenderForm())
    if not form.budget_line_id.choices:
        flash(_("Create a budget line first: every purchase names the budget line that pays for it."), "warning")
        return redirect(url_for("tenders.budget_lines_index"))
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                tender = services.create_tender(form.values(), current_user)
        except DomainError as exc:
            _refused(form, exc)
            return _form_page(form, _("New tender"), url_for("tenders.index"), status=422, timetable=_timetable(form))
        flash(_("Draft tender %(number)s saved. Add its lots, items and criteria.", number=tender.number), "success")
        return redirect(url_for("tenders.detail", tender_id=tender.id))
    return _form_page(form, _("New tender"), url_for("tenders.index"), timetable=_timetable(form))


@bp.route("/<int:tender_id>")
@capability_required("tender.read")
def detail(tender_id):
    tender = _tender_or_404(tender_id)
    internal = services.sees_drafts(current_user)
    return render_template("tenders/detail.html", tender=tender, can_write=current_user.can("tender.edit"),
                           internal=internal, disclosures=disclosures_of(tender),
                           bar=services.stage_bar_of(tender) if internal else None, now=utcnow(),
                           unit_labels=UNIT_LABELS, criterion_kinds=CRITERION_KINDS)


@bp.route("/<int:tender_id>/edit", methods=["GET", "POST"])
@capability_required("tender.edit")
def edit(tender_id):
    tender = _tender_or_404(tender_id)
    tender.ensure_editable()
    form = _tender_form(TenderForm(), tender)
    if request.method == "GET":
        form.fill(tender)
    back = url_for("tenders.detail", tender_id=tender.id)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.update_tender(tender, form.values())
        except DomainError as exc:
            _refused(form, exc)
            return _form_page(form, _("Edit tender"), back, tender, 422, timetable=_timetable(form))
        flash(_("Tender saved."), "success")
        return redirect(back)
    return _form_page(form, _("Edit tender"), back, tender, timetable=_timetable(form))


def _child_page(tender, form, heading, save, rules=()):
    """The shared flow of the lot, item and criterion pages: save, or show why not (the rule the
    save checks stated on the page before)."""
    back = url_for("tenders.detail", tender_id=tender.id)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                save()
        except DomainError as exc:
            _refused(form, exc)
            return _form_page(form, heading, back, tender, 422, rules=rules)
        flash(_("Saved."), "success")
        return redirect(back)
    return _form_page(form, heading, back, tender, rules=rules)


@bp.route("/<int:tender_id>/lots/new", methods=["GET", "POST"], defaults={"lot_id": None})
@bp.route("/<int:tender_id>/lots/<int:lot_id>/edit", methods=["GET", "POST"])
@capability_required("tender.edit")
def lot_form(tender_id, lot_id):
    tender = _tender_or_404(tender_id)
    tender.ensure_editable()
    lot = services.get_child(Lot, lot_id, tender) if lot_id else None
    form = LotForm()
    if request.method == "GET" and lot is not None:
        form.title.data, form.budget.data, form.max_price.data = lot.title, lot.budget_fen, lot.max_price_fen
    return _child_page(tender, form, _("Lot") if lot is None else _("Lot %(number)s", number=lot.number),
                       lambda: services.save_lot(tender, lot, title=form.title.data.strip(),
                                                 budget_fen=form.budget.data, max_price_fen=form.max_price.data),
                       [_("The maximum price is at most the lot's budget, and the lot's service items (quantity × "
                          "maximum unit price) add up to at most that budget.")])


@bp.route("/<int:tender_id>/lots/<int:lot_id>/items/new", methods=["GET", "POST"], defaults={"item_id": None})
@bp.route("/<int:tender_id>/items/<int:item_id>/edit", methods=["GET", "POST"], defaults={"lot_id": None})
@capability_required("tender.edit")
def item_form(tender_id, lot_id, item_id):
    tender = _tender_or_404(tender_id)
    tender.ensure_editable()
    item = services.get_child(LotItem, item_id, tender) if item_id else None
    lot = item.lot if item is not None else services.get_child(Lot, lot_id, tender)
    form = ItemForm(obj=item) if request.method == "GET" else ItemForm()
    if request.method == "GET" and item is not None:
        form.max_unit_price.data = item.max_unit_price_fen
    return _child_page(tender, form, _("Service item of lot %(number)s", number=lot.number),
                       lambda: services.save_item(lot, item, code=form.code.data.strip(), name=form.name.data.strip(),
                                                  unit=form.unit.data, quantity=form.quantity.data,
                                                  max_unit_price_fen=form.max_unit_price.data,
                                                  requirements=form.requirements.data or ""),
                       [_("The lot's service items (quantity × maximum unit price) add up to at most its budget of "
                          "%(budget)s yuan; the others take %(used)s yuan now.", budget=format_fen(lot.budget_fen),
                          used=format_fen(sum(i.quantity * i.max_unit_price_fen for i in lot.items if i is not item)))])


@bp.route("/<int:tender_id>/criteria/new", methods=["GET", "POST"], defaults={"criterion_id": None})
@bp.route("/<int:tender_id>/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
@capability_required("tender.edit")
def criterion_form(tender_id, criterion_id):
    tender = _tender_or_404(tender_id)
    tender.ensure_editable()
    criterion = services.get_child(EvaluationCriterion, criterion_id, tender) if criterion_id else None
    form = CriterionForm(obj=criterion) if request.method == "GET" else CriterionForm()
    return _child_page(tender, form, _("Evaluation criterion"),
                       lambda: services.save_criterion(tender, criterion, kind=form.kind.data,
                                                       name=form.name.data.strip(), max_points=form.max_points.data),
                       [_("The criteria give %(needed)s points in all (100 less the price weight of %(weight)s); the "
                          "others give %(points)s now.", needed=100 - tender.price_weight_percent,
                          weight=tender.price_weight_percent,
                          points=sum(c.max_points for c in tender.criteria if c is not criterion))])


@bp.route("/<int:tender_id>/intention", methods=["GET", "POST"])
@capability_required("tender.edit")
def publish_intention(tender_id):
    """Confirm, then publish the purchase intention (the 30-day clock starts)."""
    tender = _tender_or_404(tender_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.publish_intention(tender)
        except DomainError as refused:  # shown on the confirmation page; nothing is published
            return _refused_publication(tender_id, form, "intention", refused)
        flash(_("The purchase intention is published."), "success")
        return redirect(url_for("tenders.detail", tender_id=tender.id))
    return render_template("tenders/confirm.html", tender=tender, form=form, action="intention", problems=[])


def _refused_publication(tender_id, form, action, refused):
    """The confirmation page again (422) with every reason the publication was refused."""
    db.session.rollback()
    tender = _tender_or_404(tender_id)
    problems = services.publication_problems(tender) if action == "notice" else []
    reasons = [str(m) for m in refused.errors.values()] if refused.errors else [refused.message]
    problems = [reason for reason in dict.fromkeys(problems + reasons) if reason]  # each once, in order
    return render_template("tenders/confirm.html", tender=tender, form=form, action=action,
                           problems=problems or [refused.message]), 422


@bp.route("/<int:tender_id>/publish", methods=["GET", "POST"])
@capability_required("tender.edit")
def publish(tender_id):
    """Confirm, then publish the tender notice; the page lists what still stops it."""
    tender = _tender_or_404(tender_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            services.publish_notice(tender)
        except DomainError as refused:  # shown on the confirmation page; nothing is published
            return _refused_publication(tender_id, form, "notice", refused)
        flash(_("The tender notice is published; bids are accepted until the deadline."), "success")
        return redirect(url_for("tenders.detail", tender_id=tender.id))
    problems = services.publication_problems(tender) if tender.status == "intention_published" else []
    return render_template("tenders/confirm.html", tender=tender, form=form, action="notice", problems=problems)


@bp.route("/<int:tender_id>/clarify", methods=["GET", "POST"])
@capability_required("tender.edit")
def clarify(tender_id):
    tender = _tender_or_404(tender_id)
    form = ClarificationForm()
    back = url_for("tenders.detail", tender_id=tender.id)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                clarification = services.clarify(tender, form.body.data, form.changes_documents.data)
        except DomainError as exc:
            _refused(form, exc)
            return _form_page(form, _("Clarification"), back, tender, 422, rules=services.clarification_rules(tender))
        if clarification.new_deadline != clarification.previous_deadline:
            flash(_("The clarification is published and the bid deadline moved to %(deadline)s.",
                    deadline=format_local(clarification.new_deadline)), "warning")
        else:
            flash(_("The clarification is published."), "success")
        return redirect(back)
    return _form_page(form, _("Clarification"), back, tender, rules=services.clarification_rules(tender))


@bp.route("/<int:tender_id>/cancel", methods=["GET", "POST"])
@capability_required("tender.edit")
def cancel(tender_id):
    tender = _tender_or_404(tender_id)
    form = ReasonForm()
    back = url_for("tenders.detail", tender_id=tender.id)
    if form.validate_on_submit():
        services.cancel(tender, form.reason.data)
        flash(_("The tender is cancelled."), "success")
        return redirect(back)
    return _form_page(form, _("Cancel the tender"), back, tender,
                      rules=[_("The reason stays on the procurement record; nothing in it is deleted (kept for "
                               "at least 15 years).")])


