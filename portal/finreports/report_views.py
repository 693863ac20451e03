"""One financial report: the manager's new and edit forms, attachments (upload, removal, download
for whoever may read the report), submitting, and finance's review beside the settled amount."""
from datetime import datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.core.auth import capability_required
from portal.core.errors import DomainError, NotFound
from portal.core.forms import ConfirmForm, show_refusal
from portal.core.money import format_fen
from portal.core.query import chosen_id
from portal.core.timeutil import local_today, utcnow
from portal.extensions import db
from portal.files.services import serve
from portal.finreports import services
from portal.finreports.blueprint import bp
from portal.finreports.forms import AmountsForm, AttachmentForm, NewReportForm, ReviewForm
from portal.finreports.models import CATEGORIES
from portal.finreports.views import LABELS
from portal.visits.reports import user_name


def _report(report_id):
    try:
        return services.get_report(report_id, current_user)
    except NotFound:
        abort(404)


def _new_form():
    form = NewReportForm()
    form.contract.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(c.id), f"{c.number} {c.title}") for c in services.reportable_contracts(current_user)]
    return form


@bp.route("/new", methods=("GET", "POST"))
@capability_required("finreport.submit")
def new():
    """A new draft report of one of the manager's contracts."""
    form, status = _new_form(), 200
    if form.validate_on_submit():
        try:
            report = services.create(current_user, chosen_id(form.contract.data), form.period.data,
                                     form.raw_amounts(), form.note.data)
        except DomainError as exc:
            show_refusal(form, exc, default_field="period")
            status = exc.status
        else:
            db.session.commit()
            flash(_("The report is saved as a draft. Attach its documents, then submit it."))
            return redirect(url_for("finreports.detail", report_id=report.id), 303)
    elif form.is_submitted():
        status = 422
    return render_template("finreports/form.html", form=form, report=None, **LABELS), status


@bp.route("/<int:report_id>/edit", methods=("GET", "POST"))
@capability_required("finreport.submit")
def edit(report_id):
    """New amounts and note of a draft or returned report."""
    report = _report(report_id)
    if not current_user.can("finreport.submit", report):
        abort(404)
    form, status = AmountsForm(), 200
    if not form.is_submitted():
        for category in CATEGORIES:
            fen = int((report.amounts or {}).get(category, 0))
            getattr(form, f"amount_{category}").data = format_fen(fen)
        form.note.data = report.note
    if form.validate_on_submit():
        try:
            services.update(report, current_user, form.raw_amounts(), form.note.data)
        except DomainError as exc:
            show_refusal(form, exc, default_field="note")
            status = exc.status
        else:
            db.session.commit()
            flash(_("The report is saved."))
            return redirect(url_for("finreports.detail", report_id=report.id), 303)
    elif form.is_submitted():
        status = 422
    return render_template("finreports/form.html", form=form, report=report, **LABELS), status


def decisions(report):
    """The report's decisions, oldest first, as shown: [{"decision", "comment", "by" (a name),
    "at" (an aware UTC datetime), "settled_fen", "total_fen"}]."""
    return [{**entry, "by": user_name(entry.get("by_id")), "at": datetime.fromisoformat(entry["at"])}
            for entry in report.history or []]


def _render(report, attach_form=None, review_form=None, status=200, refusal=None):
    return render_template(
        "finreports/detail.html", report=report, figures=services.figures(report), decisions=decisions(report),
        attach_form=attach_form or AttachmentForm(), review_form=review_form or ReviewForm(),
        confirm_form=ConfirmForm(), refusal=refusal, today=local_today(),
        may_edit=current_user.can("finreport.submit", report) and report.status in services.EDITABLE,
        may_review=current_user.can("finreport.review") and report.status == "submitted",
        max_attachments=services.MAX_ATTACHMENTS, **LABELS), status


@bp.get("/<int:report_id>")
@capability_required("finreport.read")
def detail(report_id):
    """The report: each category, the total, the settled amount of its period and the difference."""
    return _render(_report(report_id))


@bp.get("/<int:report_id>/print")
@capability_required("finreport.read")
def print_view(report_id):
    """The report as it is printed and signed."""
    report = _report(report_id)
    return render_template("finreports/print.html", report=report, figures=services.figures(report),
                           decisions=decisions(report), **LABELS)


@bp.post("/<int:report_id>/attachments")
@capability_required("finreport.submit")
def attach(report_id):
    report = _report(report_id)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            services.attach(report, current_user, form.file.data)
        except DomainError as exc:
            db.session.rollback()
            report = _report(report_id)
            show_refusal(form, exc, default_field="file")
            return _render(report, attach_form=form, status=exc.status)
        db.session.commit()
        flash(_("The attachment is added."))
        return redirect(url_for("finreports.detail", report_id=report.id), 303)
    return _render(report, attach_form=form, status=422)


@bp.post("/<int:report_id>/attachments/<int:attachment_id>/remove")
@capability_required("finreport.submit")
def remove_attachment(report_id, attachment_id):
    report = _report(report_id)
    if not ConfirmForm().validate_on_submit():
        return _render(report, status=422)
    try:
        services.remove_attachment(report, current_user, attachment_id)
    except NotFound:
        abort(404)
    except DomainError as exc:
        return _render(report, status=exc.status, refusal=exc.message)
    db.session.commit()
    flash(_("The attachment is removed."))
    return redirect(url_for("finreports.detail", report_id=report.id), 303)


@bp.get("/<int:report_id>/attachments/<int:attachment_id>")
@capability_required("finreport.read")
def download(report_id, attachment_id):
    """An attachment, for whoever may read the report."""
    try:
        attachment = services.get_attachment(_report(report_id), attachment_id)
    except NotFound:
        abort(404)
    return serve(attachment.file)


@bp.post("/<int:report_id>/submit")
@capability_required("finreport.submit")
def submit(report_id):
    report = _report(report_id)
    if not ConfirmForm().validate_on_submit():
        return _render(report, status=422)
    try:
        services.submit(report, current_user, utcnow())
    except NotFound:
        abort(404)
    except DomainError as exc:
        db.session.rollback()
        return _render(_report(report_id), status=exc.status, refusal=exc.message)
    db.session.commit()
    flash(_("The report is submitted to the bureau's finance staff."))
    return redirect(url_for("finreports.detail", report_id=report.id), 303)


@bp.post("/<int:report_id>/review")
@capability_required("finreport.review")
def review(report_id):
    """Accept, or return with a comment: once per submission (a second decision is a 409)."""
    report = _report(report_id)
    form = ReviewForm()
    if form.validate_on_submit():
        try:
            services.review(report, current_user, form.decision.data, form.comment.data, utcnow())
        except DomainError as exc:
            db.session.rollback()
            placed = show_refusal(form, exc)  # the message once: on its field, or above the page
            return _render(_report(report_id), review_form=form, status=exc.status,
                           refusal=None if placed else exc.message)
        db.session.commit()
        flash(_("The report is accepted.") if form.decision.data == "accept" else _("The report is returned to the contractor."))
        return redirect(url_for("finreports.detail", report_id=report.id), 303)
    return _render(report, review_form=form, status=422)
