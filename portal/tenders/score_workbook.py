"""The score sheet as an Excel workbook: download it with the lot's valid bids × committee
members (and the points already entered), fill it in, upload it. One row per cell, fixed
columns; an upload goes through the same per-cell rules as the form (score_sheet.py), so a wrong
cell is named and every other cell is kept. Points are read as typed text, never as floats."""
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from portal.contractors.spreadsheet import read_workbook, template_workbook
from portal.core.errors import DomainError
from portal.tenders import evaluation, score_sheet

COLUMNS = ("bid", "bidder", "member", "member_name", "technical", "business")
HEADERS = ("投标编号 Bid", "投标人 Bidder", "成员编号 Member", "评审委员会成员 Member", "技术分 Technical", "商务分 Business")
MAX_ROWS = 5000


def _points(score, attribute):
    return f"{getattr(score, attribute) / 100:.2f}" if score is not None else ""


def sheet_workbook(lot):
    """The .xlsx bytes of the lot's score sheet, one row per valid bid and member, with the
    points already entered (blank: unscored)."""
    table = evaluation.scores_by_bid(lot)
    rows = []
    for bid in [b for b in evaluation.lot_bids(lot) if b.counts]:
        for member in lot.tender.experts:
            score = table.get(bid.id, {}).get(member.id)
            rows.append((bid.id, bid.contractor.name, member.id, member.name,
                         _points(score, "technical_centipoints"), _points(score, "business_centipoints")))
    return template_workbook("scores", HEADERS, (10, 30, 10, 16, 14, 14), text_columns=(4, 5), rows=rows)


def _text(value):
    """A cell as the officer typed it: numbers exactly (a float by its shortest decimal form)."""
    if value is None:
        return ""
    if isinstance(value, float):
        try:
            return format(Decimal(repr(value)).normalize(), "f")
        except InvalidOperation:
            return str(value)
    return str(value).strip()


def import_sheet(lot, data):
    """Enter the points of an uploaded score workbook (``score_sheet.enter_score_grid``). Returns
    ``(result, names)``: the SheetResult (rows naming no valid bid or member of this lot are
    refused as cells of their own, by row number) and the labels of the cells for its message."""
    bids = {b.id: b for b in evaluation.lot_bids(lot) if b.counts}
    members = {m.id: m for m in lot.tender.experts}
    grid, unknown = {}, {}
    for number, row in read_workbook(data, COLUMNS, MAX_ROWS, _("A score sheet holds at most %(n)s rows.", n=MAX_ROWS)):
        try:
            cell = (int(_text(row["bid"])), int(_text(row["member"])))
        except ValueError:
            cell = None
        if cell is None or cell[0] not in bids or cell[1] not in members:
            unknown[("row", number)] = _("Row %(n)s names no valid bid or member of this lot.", n=number)
            continue
        grid[cell] = (_text(row["technical"]), _text(row["business"]))
    if not grid and not unknown:
        raise DomainError(_("The workbook holds no row of this lot's score sheet: download the sheet, fill it in "
                            "and upload it."))
    result = score_sheet.enter_score_grid(lot, grid)
    result.errors.update(unknown)
    names = {(b, m): score_sheet.cell_label(bids[b], members[m]) for b in bids for m in members}
    names.update({key: _("Row %(n)s", n=key[1]) for key in unknown})
    return result, names
