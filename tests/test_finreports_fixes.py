"""Fixes of financial reports after review and testing (issue 20 part 3, docs/DOMAIN.md §7
"Financial reports"): a submitted or accepted annual report reports its twelve months (overdue list
and its Excel), every decision of finance kept in the report's history (a return's comment stays
readable after the acceptance), the labels "已提交" and "报告期间", amounts in the edit form shown
with core/money, the overdue list paged by core/pagination."""
import io
from datetime import date, datetime, timezone

import pytest
from openpyxl import load_workbook

from portal.core.errors import DomainError
from portal.extensions import db
from tests import settlement_world as sw
from tests import support
from tests.test_finreports import AMOUNTS, PDF, PNG, TOTAL, _file, _get, _report


@pytest.fixture
def world(app, demo):
    return sw.care_contract(app)


def _year_report(app, world):
    from portal.finreports import services
    with app.app_context(), sw.scope(app):
        manager = sw.user("a-manager")
        report = services.create(manager, world["contract"], "2026", {"staff": "12,000"}, "", today=date(2026, 12, 31))
        services.attach(report, manager, _file(PDF, "年度.pdf"))
        db.session.commit()
        return report.id


def _decide(app, report_id, action):
    """"submit" by A's manager, "accept" or "return" by finance."""
    from portal.core.timeutil import utcnow
    from portal.finreports import services
    from portal.finreports.models import FinancialReport
    with app.app_context(), sw.scope(app):
        report = db.session.get(FinancialReport, report_id)
        if action == "submit":
            services.submit(report, sw.user("a-manager"), utcnow())
        else:
            services.review(report, sw.user("gx-finance"), action, "年度报告缺少附件" if action == "return" else "", utcnow())
        db.session.commit()


def test_an_accepted_annual_report_clears_its_twelve_months_from_the_overdue_list_and_excel(app, world, login,
                                                                                              monkeypatch):
    from portal.contracts.models import Contract
    from portal.finreports import overdue
    report_id = _year_report(app, world)
    with app.app_context(), sw.scope(app):
        number = db.session.get(Contract, world["contract"]).number
    monkeypatch.setattr(overdue, "local_today", lambda: date(2027, 2, 1))
    officer = login("gx-officer")

    def months(today):
        with app.app_context(), sw.scope(app):
            return [r.period for r in overdue.overdue_months(sw.user("gx-officer"), today, contract_id=world["contract"])]

    def excel():
        book = load_workbook(io.BytesIO(officer.get("/financial-reports/overdue.xlsx").data))
        return [row[2] for row in book.active.iter_rows(values_only=True) if row[0] == number]

    def listed():
        page = officer.get(f"/financial-reports/overdue?contract={world['contract']}&per_page=100").get_data(as_text=True)
        return [part.split('"')[0] for part in page.split('data-period="')[1:]]
    everything = [f"2026-{m:02d}" for m in range(1, 13)]
    assert months(date(2027, 2, 1)) == everything  # a draft year report does not count
    _decide(app, report_id, "submit")
    assert months(date(2027, 2, 1)) == []
    _decide(app, report_id, "return")
    assert months(date(2027, 2, 1)) == excel() == listed() == everything  # nor a returned one
    _decide(app, report_id, "submit")
    _decide(app, report_id, "accept")
    assert months(date(2027, 2, 1)) == excel() == listed() == []


def test_return_resubmit_accept_keeps_both_decisions_in_the_history_shown_and_printed(app, world, login):
    sw.add_visits(app, world, "2026-09", 10)
    sw.approved(app, world, "2026-09")
    report_id = _report(app, world, period="2026-09", submit=True)
    finance = login("gx-finance")
    assert support.form_post(finance, f"/financial-reports/{report_id}/review",
                             {"decision": "return", "comment": "差旅费缺少票据"},
                             token_url=f"/financial-reports/{report_id}").status_code == 303
    manager = login("a-manager", tenant="ganxian")
    assert support.form_post(manager, f"/financial-reports/{report_id}/edit",
                             {**{f"amount_{k}": v for k, v in AMOUNTS.items()}, "amount_travel": "50"}).status_code == 303
    assert support.form_post(manager, f"/financial-reports/{report_id}/submit", {},
                             token_url=f"/financial-reports/{report_id}").status_code == 303
    assert support.form_post(finance, f"/financial-reports/{report_id}/review", {"decision": "accept"},
                             token_url=f"/financial-reports/{report_id}").status_code == 303
    report = _get(app, report_id)
    with app.app_context(), sw.scope(app):
        finance_id = sw.user("gx-finance").id
    assert [(e["decision"], e["comment"], e["by_id"], e["settled_fen"], e["total_fen"]) for e in report.history] == [
        ("return", "差旅费缺少票据", finance_id, 80_000, TOTAL), ("accept", "", finance_id, 80_000, TOTAL - 5_000)]
    for entry in report.history:
        at = datetime.fromisoformat(entry["at"])
        assert at.utcoffset() == timezone.utc.utcoffset(None) and abs((datetime.now(timezone.utc) - at).total_seconds()) < 600
    assert report.status == "accepted" and report.review_comment == ""
    for client in (finance, manager):
        for path in (f"/financial-reports/{report_id}", f"/financial-reports/{report_id}/print"):
            page = client.get(path).get_data(as_text=True)
            history = page.split('id="history"')[1].split("</table>")[0]
            assert history.index('data-decision="return"') < history.index('data-decision="accept"'), path
            assert "差旅费缺少票据" in history and "已退回修改" in history and "已采纳" in history, path
            assert history.count("<tr data-decision=") == 2 and "1,287.11" in history and "1,337.11" in history


def test_the_submitted_status_and_the_reporting_period_are_labelled_as_such(app, world, login, monkeypatch):
    from portal.finreports import overdue
    report_id = _report(app, world, period="2026-03", submit=True)
    officer = login("gx-officer")
    listing = officer.get("/financial-reports/").get_data(as_text=True)
    assert '<option value="submitted">已提交</option>' in listing
    row = listing.split(f'data-report="{report_id}"')[1].split("</tr>")[0]
    assert "<td>已提交</td>" in row
    detail = officer.get(f"/financial-reports/{report_id}").get_data(as_text=True)
    assert '<dd id="status">已提交</dd>' in detail
    monkeypatch.setattr(overdue, "local_today", lambda: date(2027, 2, 1))
    for path in ("/financial-reports/", f"/financial-reports/{report_id}", f"/financial-reports/{report_id}/print",
                 "/financial-reports/overdue"):
        page = officer.get(path).get_data(as_text=True)
        assert "报告期间" in page and "履行期限" not in page, path
    for path in ("/financial-reports/export.xlsx", "/financial-reports/overdue.xlsx"):
        header = next(load_workbook(io.BytesIO(officer.get(path).data)).active.iter_rows(values_only=True))
        assert "报告期间" in header and "履行期限" not in header, path
    exported = list(load_workbook(io.BytesIO(officer.get("/financial-reports/export.xlsx").data)).active.iter_rows(
        values_only=True))
    assert "已提交" in [row[3] for row in exported[1:]]


def test_the_edit_form_shows_the_amounts_as_core_money_writes_them(app, world, login):
    report_id = _report(app, world, period="2026-03")
    page = login("a-manager", tenant="ganxian").get(f"/financial-reports/{report_id}/edit").get_data(as_text=True)
    assert 'value="1,234.56"' in page and 'value="0.50"' in page and 'value="0.00"' in page


def test_paginate_list_pages_a_list_in_memory_like_paginate(app, monkeypatch):
    from portal.core.pagination import paginate_list
    rows = list(range(5))
    with app.test_request_context("/financial-reports/overdue?page=3&per_page=2"):
        page = paginate_list(rows)
        assert (page.items, page.total, page.pages, page.has_prev, page.has_next, page.notice) == ([4], 5, 3, True, False, None)
    with app.test_request_context("/financial-reports/overdue?page=9&per_page=2"):
        page = paginate_list(rows)
        assert page.items == [] and page.notice and "3" in page.notice
    with app.test_request_context("/financial-reports/overdue?page=x"):
        page = paginate_list(rows, per_page=2)
        assert page.items == [0, 1] and page.notice
    with app.test_request_context("/api/v1/anything?page=x"):
        with pytest.raises(DomainError):
            paginate_list(rows)
    with app.test_request_context("/financial-reports/overdue"):
        page = paginate_list([])
        assert (page.items, page.pages, page.notice) == ([], 0, None)


def test_the_overdue_list_pages_past_the_first(app, world, login, monkeypatch):
    from portal.finreports import overdue
    monkeypatch.setattr(overdue, "local_today", lambda: date(2027, 2, 1))
    monkeypatch.setitem(app.config, "MAX_PER_PAGE", 5)
    officer = login("gx-officer")
    seen = []
    for number in (1, 2, 3):
        page = officer.get(f"/financial-reports/overdue?contract={world['contract']}&page={number}").get_data(as_text=True)
        seen += [part.split('"')[0] for part in page.split('data-period="')[1:]]
    assert seen == [f"2026-{m:02d}" for m in range(1, 13)]
    assert "pager-notice" in officer.get(f"/financial-reports/overdue?contract={world['contract']}&page=4").get_data(
        as_text=True)


def test_a_resubmitted_report_shows_no_old_decision_and_a_refusal_and_file_types_read_once(app, world, login):
    """After a return and a new submission the detail page shows no current decision (the history
    keeps the return); returning with an empty comment says so once; attachments name their type."""
    report_id = _report(app, world, period="2026-08", submit=True, attach=(PDF, PNG))
    detail = f"/financial-reports/{report_id}"
    finance, manager = login("gx-finance"), login("a-manager", tenant="ganxian")
    empty = support.form_post(finance, f"{detail}/review", {"decision": "return", "comment": "  "}, token_url=detail)
    assert empty.status_code == 422
    assert empty.get_data(as_text=True).count("请写明需要修改的内容。") == 1
    _decide(app, report_id, "return")
    returned = manager.get(detail).get_data(as_text=True)
    assert 'id="review-comment"' in returned and 'id="reviewed-at"' in returned
    _decide(app, report_id, "submit")
    for client in (finance, manager):
        page = client.get(detail).get_data(as_text=True)
        assert 'id="review-comment"' not in page and 'id="reviewed-at"' not in page
        assert "年度报告缺少附件" in page.split('id="history"')[1]  # the return stays in the history
        assert "(PDF)" in page and "(PNG 图片)" in page and "application/pdf" not in page and "image/png" not in page
    _decide(app, report_id, "accept")
    assert 'id="reviewed-at"' in finance.get(detail).get_data(as_text=True)
