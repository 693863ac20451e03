"""The tender documents' pages: the officer attaches them, bureau roles and bidders read them
(a third views module on the ``tenders`` blueprint; the public reads them from the award
notice, portal/public)."""
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.core.auth import capability_required
from portal.core.errors import DomainError, NotFound
from portal.extensions import db
from portal.files.services import serve
from portal.tenders import documents
from portal.tenders.bid_forms import DocumentsForm
from portal.tenders.blueprint import bp
from portal.tenders.models import Tender


def _tender(tender_id):
    tender = db.session.get(Tender, tender_id)
    if tender is None:
        raise NotFound(_("No such tender."))
    return tender


@bp.route("/<int:tender_id>/documents", methods=["POST"])
@capability_required("tender.edit")
def documents_upload(tender_id):
    tender = _tender(tender_id)
    form = DocumentsForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        with db.session.begin_nested():
            documents.attach_documents(tender, form.file.data, by=current_user)
    except DomainError as exc:
        flash(exc.message, "error")
    else:
        flash(_("The tender documents are attached; they are published with the award result."), "success")
    return redirect(url_for("tenders.detail", tender_id=tender.id))


@bp.route("/<int:tender_id>/documents")
@capability_required("tender.read")
def documents_download(tender_id):
    tender = _tender(tender_id)
    if tender.documents_file is None or (tender.notice_published_at is None
                                         and not current_user.can("tender.read_unpublished")):
        raise NotFound(_("This tender has no documents attached."))
    return serve(tender.documents_file)
