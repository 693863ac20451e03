"""The registry pages. Officers and supervisors write; admin, auditors and finance read; a
contractor's people see only those assigned to them, with masked names. The searched name never
travels in clear in a URL (where access logs would keep it): the search form posts it, and the list
carries it encrypted."""
from datetime import date

from cryptography.fernet import InvalidToken
from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit.recorder import record_event
from portal.beneficiaries import importing, services
from portal.beneficiaries.blueprint import bp
from portal.beneficiaries.signals import panels_for
from portal.beneficiaries.forms import (CATEGORY_LABELS, STATUS_LABELS, BeneficiaryEditForm, BeneficiaryForm,
                                        ConfirmImportForm, ImportForm, SearchForm, StatusForm)
from portal.beneficiaries.spreadsheet import (XLSX_MIMETYPE, beneficiary_export, beneficiary_template,
                                              read_beneficiary_file)
from portal.contractors.views.common import DomainError, form_errors, require_valid
from portal.core import crypto
from portal.core.auth import capability_required
from portal.core.pagination import paginate
from portal.extensions import db

FILTERS = ("category", "status", "township", "village")
SEARCH_LIFETIME = 8 * 3600
bp.add_app_template_filter(crypto.mask_name, "mask_name")
bp.add_app_template_filter(crypto.mask_phone, "mask_phone")


def _searched_text():
    try:
        return crypto.decrypt(request.args.get("s", ""), ttl=SEARCH_LIFETIME) if request.args.get("s") else ""
    except (InvalidToken, ValueError):
        return ""


def _filters():
    return {key: request.args.get(key, "") for key in FILTERS}


def _labels():
    return {"categories": CATEGORY_LABELS, "statuses": STATUS_LABELS}


def _contractor_view():
    return current_user.can("beneficiary.read_masked")


@bp.route("/")
@capability_required("beneficiary.read")
def index():
    text = _searched_text()
    stmt = services.search(current_user, text=text, **_filters())
    page = paginate(stmt)
    form = SearchForm(text=text)
    return render_template("beneficiaries/index.html", page=page, form=form, filters=_filters(),
                           townships=[] if _contractor_view() else services.townships(),
                           masked_view=_contractor_view(), can_write=current_user.can("beneficiary.edit"), **_labels())


@bp.route("/search", methods=["POST"])
@capability_required("beneficiary.read")
def search():
    """Turn the posted search into a list URL whose name part is encrypted."""
    form = SearchForm()
    require_valid(form)
    args = {key: request.form.get(key, "") for key in FILTERS if request.form.get(key)}
    if (form.text.data or "").strip():
        args["s"] = crypto.encrypt(form.text.data.strip())
    return redirect(url_for("beneficiaries.index", **args))


@bp.route("/new", methods=["GET", "POST"])
@capability_required("beneficiary.edit")
def new():
    form = BeneficiaryForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                person = services.register(form.data, id_number=form.id_number.data,
                                           active_since=form.active_since.data, by=current_user)
        except DomainError as exc:
            form_errors(form, exc, "name")
        else:
            flash(_("The person has been registered."), "success")
            return redirect(url_for("beneficiaries.detail", beneficiary_id=person.id))
    if request.method == "POST":
        form.id_number.data, form.id_number.raw_data = "", []  # never sent back to the browser
    return render_template("beneficiaries/form.html", form=form, person=None), 422 if form.errors else 200


@bp.route("/<int:beneficiary_id>")
@capability_required("beneficiary.read")
def detail(beneficiary_id):
    person = services.visible_beneficiary(beneficiary_id, current_user)
    return render_template("beneficiaries/detail.html", person=person, masked_view=_contractor_view(),
                           can_write=current_user.can("beneficiary.edit"), status_form=StatusForm(),
                           assignments=services.assignments_of(person, current_user),
                           panels=panels_for(person, current_user), **_labels())


@bp.route("/<int:beneficiary_id>/edit", methods=["GET", "POST"])
@capability_required("beneficiary.edit")
def edit(beneficiary_id):
    person = services.writable_beneficiary(beneficiary_id, current_user)
    form = BeneficiaryEditForm(obj=person)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.update(person, form.data)
        except DomainError as exc:
            form_errors(form, exc, "name")
        else:
            flash(_("The changes have been saved."), "success")
            return redirect(url_for("beneficiaries.detail", beneficiary_id=person.id))
    return render_template("beneficiaries/form.html", form=form, person=person), 422 if form.errors else 200


@bp.route("/<int:beneficiary_id>/status", methods=["POST"])
@capability_required("beneficiary.edit")
def change_status(beneficiary_id):
    person = services.writable_beneficiary(beneficiary_id, current_user)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                services.change_status(person, form.status.data, form.effective_on.data, note=form.note.data,
                                       by=current_user)
        except DomainError as exc:
            form_errors(form, exc, "status")
        else:
            flash(_("The change of status has been recorded."), "success")
            return redirect(url_for("beneficiaries.detail", beneficiary_id=person.id))
    return render_template("beneficiaries/detail.html", person=person, masked_view=False, can_write=True,
                           status_form=form, assignments=services.assignments_of(person, current_user),
                           panels=panels_for(person, current_user), **_labels()), 422


@bp.route("/template.xlsx")
@capability_required("beneficiary.edit")
def template_file():
    return Response(beneficiary_template(), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": "attachment; filename=beneficiaries-template.xlsx"})


@bp.route("/export.xlsx")
@capability_required("beneficiary.edit")
def export():
    """The filtered registry as Excel, masked ID numbers only; the export itself is audited."""
    people = db.session.execute(services.search(current_user, text=_searched_text(), **_filters())).scalars().all()
    record_event(db.session, "beneficiaries_exported", tenant_id=g.tenant.id, object_type="beneficiary",
                 object_id=str(len(people)))
    return Response(beneficiary_export(people), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": "attachment; filename=beneficiaries.xlsx"})


@bp.route("/import", methods=["GET", "POST"])
@capability_required("beneficiary.edit")
def import_file():
    """Upload → every row checked → a preview; nothing is written until the preview is confirmed."""
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = read_beneficiary_file(upload.stream.read() if upload else b"")
        except DomainError as exc:
            form.file.errors = [exc.message]
        else:
            good, errors = importing.check_rows(rows)
            since = form.active_since.data.isoformat() if form.active_since.data else ""
            confirm = ConfirmImportForm(preview=importing.seal_preview(current_user, g.tenant.id, good)
                                        if good and not errors else "", active_since=since)
            return render_template("beneficiaries/import_preview.html", good=good, errors=errors, confirm=confirm,
                                   masked=crypto.mask_id_number, **_labels()), 422 if errors else 200
    return render_template("beneficiaries/import.html", form=form)


@bp.route("/import/confirm", methods=["POST"])
@capability_required("beneficiary.edit")
def confirm_import():
    form = ConfirmImportForm()
    require_valid(form)
    try:
        since = date.fromisoformat(form.active_since.data) if form.active_since.data else None
    except ValueError:
        since = None
    try:
        with db.session.begin_nested():
            rows = importing.open_preview(form.preview.data, current_user, g.tenant.id)
            people = importing.import_rows(rows, by=current_user, active_since=since)
    except importing.RegistryFileErrors as exc:
        return render_template("beneficiaries/import_preview.html", good=[], errors=exc.rows,
                               confirm=ConfirmImportForm(preview=""), masked=crypto.mask_id_number,
                               **_labels()), 422
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("beneficiaries.import_file"))
    flash(_("%(n)s people were registered.", n=len(people)), "success")
    return redirect(url_for("beneficiaries.index"))
