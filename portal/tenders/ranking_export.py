"""The ranking of a lot as an Excel workbook (openpyxl), for officers after the opening."""
from decimal import Decimal
from io import BytesIO

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from portal.core.xlsx import append_row
from portal.tenders import evaluation


def _hundredths(value):
    """Integer fen or centipoints as an exact decimal number for the cell (never a float)."""
    return Decimal(value).scaleb(-2)


def ranking_workbook(lot):
    """Bytes of an .xlsx with the lot's ranking: rank, bidder, price, price score, average
    technical and business points, total; then the invalid and withdrawn bids."""
    tender = lot.tender
    book = Workbook()
    sheet = book.active
    sheet.title = _("Ranking")[:31]
    append_row(sheet, [_("Project"), f"{tender.title} ({tender.number})"])
    append_row(sheet, [_("Lot"), f"{lot.number} {lot.title}"])
    append_row(sheet, [_("Price weight (%)"), tender.price_weight_percent])
    append_row(sheet, [_("Experts"), "、".join(e.name for e in tender.experts)])
    append_row(sheet, [])
    header = [_("Rank"), _("Bidder"), _("Price (yuan)"), _("Price score"), _("Technical (average)"),
              _("Business (average)"), _("Total"), _("Experts who scored")]
    append_row(sheet, header)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    incomplete = evaluation.ranking_incomplete(lot)
    if incomplete and lot.status == "open":  # unscored cells or an unlawful committee: no ranking yet
        append_row(sheet, [_("Not ranked"), incomplete])
    for row in ([] if incomplete and lot.status == "open" else evaluation.ranking(lot)):
        append_row(sheet, [row.rank, row.bid.contractor.name, _hundredths(row.bid.price_fen), _hundredths(row.price_centipoints),
                      _hundredths(row.technical_centipoints), _hundredths(row.business_centipoints),
                      _hundredths(row.total_centipoints), row.scored_by])
        for cell in sheet[sheet.max_row][2:7]:
            cell.number_format = "0.00"
    others = [b for b in evaluation.lot_bids(lot) if not b.counts]
    if others:
        append_row(sheet, [])
        append_row(sheet, [_("Not ranked")])
        for bid in others:
            why = _("withdrawn") if bid.withdrawn else bid.invalid_reason
            append_row(sheet, ["", bid.contractor.name, _hundredths(bid.price_fen), "", "", "", "", why])
    for column, width in zip("ABCDEFGH", (10, 36, 16, 12, 18, 18, 12, 18)):
        sheet.column_dimensions[column].width = width
    out = BytesIO()
    book.save(out)
    return out.getvalue()
