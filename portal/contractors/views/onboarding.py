"""A contractor manager's own organisation: registering it, applying to the bureau, documents;
the contractor page bureau staff read; document downloads."""
from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.contractors import roster, services
from portal.contractors.blueprint import bp
from portal.contractors.forms import (DOCUMENT_LABELS, KIND_LABELS, REGISTRATION_ACTIONS, STATUS_LABELS,
                                      ContractorEditForm,
                                      ContractorForm, DecisionForm, DocumentForm)
from portal.contractors.views.common import DomainError, form_errors, require_valid
from portal.core.auth import capability_required
from portal.core.forms import ConfirmForm
from portal.extensions import db
from portal.files.services import serve

LABELS = {"kind_labels": KIND_LABELS, "status_labels": STATUS_LABELS, "document_labels": DOCUMENT_LABELS}


@bp.route("/mine", methods=["GET", "POST"])
@capability_required("contractor.manage_own")
def mine():
    """The manager's organisation, or the form to register it and apply to this bureau."""
    contractor = services.own_contractor(current_user)
    if contractor is not None:
        return redirect(url_for("contractors.detail", contractor_id=contractor.id))
    form = ContractorForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                contractor = services.register_contractor(
                    name=form.name.data, credit_code=form.credit_code.data, kind=form.kind.data,
                    legal_representative=form.legal_representative.data, contact_phone=form.contact_phone.data,
                    address=form.address.data, manager=current_user)
                services.apply_to_bureau(contractor)
        except DomainError as exc:
            form_errors(form, exc, "name")
        else:
            flash(_("The organisation is registered and has applied to %(bureau)s.", bureau=g.tenant.name), "success")
            return redirect(url_for("contractors.detail", contractor_id=contractor.id))
    return render_template("contractors/register.html", form=form, on_behalf=False)


@bp.route("/<int:contractor_id>")
@capability_required("contractor.read")
def detail(contractor_id):
    contractor = services.get_contractor(contractor_id, current_user)
    staff = db.session.execute(roster.roster(contractor.id)).scalars().all()
    entries = db.session.execute(services.blacklist(contractor.id)).scalars().all() \
        if not current_user.can("contractor.manage_own") else []
    return render_template(
        "contractors/detail.html", contractor=contractor, registration=services.registration_here(contractor.id),
        staff=staff, blacklist_entries=entries, can_edit=services.can_edit(contractor, current_user),
        is_manager=current_user.can("contractor.manage_own"),
        actions=REGISTRATION_ACTIONS, document_form=DocumentForm(), confirm=ConfirmForm(), decision=DecisionForm(),
        **LABELS)


@bp.route("/mine/apply", methods=["POST"])
@capability_required("contractor.manage_own")
def apply():
    require_valid(ConfirmForm())
    contractor = services.own_contractor(current_user)
    if contractor is None:
        abort(404)
    services.apply_to_bureau(contractor)
    flash(_("The application has been sent to %(bureau)s.", bureau=g.tenant.name), "success")
    return redirect(url_for("contractors.detail", contractor_id=contractor.id))


@bp.route("/mine/edit", methods=["GET", "POST"])
@capability_required("contractor.manage_own")
def edit():
    contractor = services.own_contractor(current_user)
    if contractor is None:
        return redirect(url_for("contractors.mine"))
    form = ContractorEditForm(obj=contractor)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.update_contractor(contractor, name=form.name.data, kind=form.kind.data,
                                           legal_representative=form.legal_representative.data,
                                           contact_phone=form.contact_phone.data, address=form.address.data)
        except DomainError as exc:
            form_errors(form, exc, "name")
        else:
            flash(_("The organisation's details have been saved."), "success")
            return redirect(url_for("contractors.detail", contractor_id=contractor.id))
    return render_template("contractors/edit.html", form=form, contractor=contractor)


@bp.route("/<int:contractor_id>/documents", methods=["POST"])
@capability_required("contractor.documents.add")
def upload_document(contractor_id):
    contractor = services.get_contractor(contractor_id, current_user)
    if not services.can_edit(contractor, current_user):
        abort(404)
    form = DocumentForm()
    require_valid(form)
    try:
        with db.session.begin_nested():
            services.add_document(contractor, kind=form.kind.data, title=form.title.data, file_storage=form.file.data,
                                  by=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("The document has been uploaded."), "success")
    return redirect(url_for("contractors.detail", contractor_id=contractor.id))


@bp.route("/documents/<int:document_id>")
@capability_required("contractor.file.read")  # the service answers 404 to anyone not allowed
def document(document_id):
    return serve(services.document_for(document_id, current_user).file)
