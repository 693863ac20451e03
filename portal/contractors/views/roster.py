"""The staff roster pages: a manager keeps their own organisation's roster; bureau staff of a
bureau where the organisation is registered may read a person's entry (masked)."""
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.contractors import services
from portal.contractors.blueprint import bp
from portal.contractors import roster as roster_services
from portal.contractors.forms import ConfirmImportForm, EmploymentForm, ImportForm, LeaveForm, StaffForm
from portal.contractors.spreadsheet import XLSX_MIMETYPE, read_roster_file, roster_template
from portal.contractors.views.common import DomainError, form_errors, require_valid
from portal.core.auth import capability_required
from portal.core.crypto import mask_id_number
from portal.core.identity import InvalidIdentifier, validate_id_number
from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.services import serve


def _my_contractor():
    contractor = services.own_contractor(current_user)
    if contractor is None:
        abort(404)
    return contractor


@bp.route("/roster")
@capability_required("contractor.manage_own")
def roster():
    contractor = services.own_contractor(current_user)
    if contractor is None:
        flash(_("Register your organisation first."), "info")
        return redirect(url_for("contractors.mine"))
    include_former = request.args.get("former") == "1"
    staff = db.session.execute(roster_services.roster(contractor.id, include_former)).scalars().all()
    return render_template("contractors/roster.html", contractor=contractor, staff=staff,
                           include_former=include_former)


def _forget_valid_number(field):
    """A valid ID number is not sent back to the browser, even to the person who typed it."""
    try:
        validate_id_number(field.data)
    except InvalidIdentifier:
        return
    field.data, field.raw_data = "", []


@bp.route("/roster/new", methods=["GET", "POST"])
@capability_required("contractor.manage_own")
def new_staff():
    contractor = _my_contractor()
    form = StaffForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                member = roster_services.add_staff(
                    contractor, name=form.name.data, id_number=form.id_number.data, phone=form.phone.data,
                    qualification=form.qualification.data, joined_on=form.joined_on.data)
        except DomainError as exc:
            form_errors(form, exc, "name")
        else:
            flash(_("%(name)s is on the roster.", name=member.name), "success")
            return redirect(url_for("contractors.roster"))
    if request.method == "POST":
        _forget_valid_number(form.id_number)
    return render_template("contractors/staff_form.html", form=form)


@bp.route("/roster/<int:staff_id>")
@capability_required("contractor.read")
def staff(staff_id):
    member = roster_services.staff_for(staff_id, current_user)
    own = current_user.can("contractor.manage_own")
    return render_template("contractors/staff.html", member=member, own=own,
                           leave_form=LeaveForm(), employment_form=EmploymentForm())


@bp.route("/roster/<int:staff_id>/leave", methods=["POST"])
@capability_required("contractor.manage_own")
def leave(staff_id):
    member = roster_services.staff_to_edit(staff_id, current_user)
    form = LeaveForm()
    if not form.validate_on_submit():
        flash(" ".join(form.left_on.errors) or _("Give a date (YYYY-MM-DD)."), "error")
        return redirect(url_for("contractors.staff", staff_id=member.id))
    try:
        with db.session.begin_nested():
            roster_services.end_staff(member, form.left_on.data)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("%(name)s has left the roster.", name=member.name), "success")
    return redirect(url_for("contractors.staff", staff_id=member.id))


@bp.route("/roster/<int:staff_id>/employment", methods=["POST"])
@capability_required("contractor.manage_own")
def employment(staff_id):
    member = roster_services.staff_to_edit(staff_id, current_user)
    form = EmploymentForm()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                roster_services.record_employment(
                    member, month=form.month.data, labour_contract=form.labour_contract.data,
                    insured_by_credit_code=form.insured_by_credit_code.data, evidence_file=form.evidence.data,
                    by=current_user)
        except DomainError as exc:
            form_errors(form, exc, "month")
        else:
            flash(_("The employment evidence has been recorded."), "success")
            return redirect(url_for("contractors.staff", staff_id=member.id))
    return render_template("contractors/staff.html", member=member, own=True, leave_form=LeaveForm(),
                           employment_form=form), 422


@bp.route("/employment/<int:record_id>/evidence")
@capability_required("contractor.file.read")  # the service answers 404 to anyone not allowed
def evidence(record_id):
    record = roster_services.evidence_for(record_id, current_user)
    return serve(db.session.get(StoredFile, record.evidence_file_id))


@bp.route("/roster/template.xlsx")
@capability_required("contractor.manage_own")
def roster_template_file():
    return Response(roster_template(), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": "attachment; filename=roster-template.xlsx"})


@bp.route("/roster/import", methods=["GET", "POST"])
@capability_required("contractor.manage_own")
def import_roster():
    """Upload → every row checked → a preview; nothing is written until the preview is confirmed."""
    contractor = _my_contractor()
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            rows = read_roster_file(upload.stream.read() if upload else b"")
        except DomainError as exc:
            form.file.errors = [exc.message]
        else:
            good, errors = roster_services.check_rows(contractor, rows)
            confirm = ConfirmImportForm(preview=roster_services.seal_preview(contractor, current_user, good)
                                        if good and not errors else "")
            return render_template("contractors/import_preview.html", good=good, errors=errors, confirm=confirm,
                                   masked=mask_id_number), 422 if errors else 200
    return render_template("contractors/import.html", form=form)


@bp.route("/roster/import/confirm", methods=["POST"])
@capability_required("contractor.manage_own")
def confirm_import():
    contractor = _my_contractor()
    form = ConfirmImportForm()
    require_valid(form)
    try:
        with db.session.begin_nested():
            rows = roster_services.open_preview(form.preview.data, contractor, current_user)
            members = roster_services.import_rows(contractor, rows)
    except roster_services.RosterFileErrors as exc:
        return render_template("contractors/import_preview.html", good=[], errors=exc.rows,
                               confirm=ConfirmImportForm(preview=""), masked=mask_id_number), 422
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("contractors.import_roster"))
    flash(_("%(n)s people were added to the roster.", n=len(members)), "success")
    return redirect(url_for("contractors.roster"))
