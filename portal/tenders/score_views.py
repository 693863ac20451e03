"""The score sheet as an Excel workbook: download and upload (tenders/score_workbook.py)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portal.core.xlsx import xlsx_download
from portal.core.auth import capability_required
from portal.core.errors import DomainError
from portal.core.forms import ConfirmForm
from portal.tenders import evaluation, score_workbook
from portal.tenders.blueprint import bp


@bp.route("/lots/<int:lot_id>/scores.xlsx")
@capability_required("evaluation.edit")
def evaluation_scores_xlsx(lot_id):
    lot = evaluation.evaluation_lot(lot_id)
    return xlsx_download(score_workbook.sheet_workbook(lot), f"scores-{lot.tender.number}-lot{lot.number}.xlsx",
                         "scores.xlsx")


@bp.route("/lots/<int:lot_id>/scores/import", methods=["POST"])
@capability_required("evaluation.edit")
def evaluation_scores_import(lot_id):
    """Upload a filled score workbook: the good cells are saved, each refused cell is named."""
    lot = evaluation.evaluation_lot(lot_id)
    form = ConfirmForm()
    back = url_for("tenders.evaluation_scores", lot_id=lot.id)
    if not form.validate_on_submit():
        abort(400)
    upload = request.files.get("file")
    try:
        result, names = score_workbook.import_sheet(lot, upload.read() if upload else b"")
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(back)
    if result.errors:
        flash(_("%(saved)s cells saved; these were refused and are not saved: %(cells)s",
                saved=result.saved, cells=result.message(names)), "error")
        bids = [b for b in evaluation.lot_bids(lot) if b.counts]
        return render_template("tenders/evaluation/scores.html", lot=lot, tender=lot.tender, bids=bids, form=form,
                               table=evaluation.scores_by_bid(lot), typed={}, cell_errors={}), 422
    flash(_("The scores are saved."), "success")
    return redirect(back)
