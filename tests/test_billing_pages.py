"""The settlement pages (docs/DOMAIN.md §8): the statement list and its filters, a statement with its
lines, deductions, the visits behind them and its history, the workflow steps as confirmed forms,
"prepare a month" with its job, the Excel export and the print page — and who may see what."""
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.billing.models import Statement
from portal.extensions import db
from tests import settlement_world as sw
from tests import support

MONTH = "2026-10"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def october(app, demo):
    """Contractor A's care contract with 20 verified visits in October (8,000 fen each), one visit
    a spot check did not confirm and one subcontracting violation: gross 160,000, deductions
    16,000 + 50,000, net 94,000 fen."""
    world = sw.care_contract(app)
    world["paid"] = sw.add_visits(app, world, MONTH, 20)
    world["rejected"] = sw.add_visits(app, world, MONTH, 1, hour=16, first_day=10)
    sw.not_confirmed(app, world, world["rejected"], MONTH)
    world["violation"] = sw.violation(app, world, date(2026, 10, 5))
    return world


def _sent(app, world, preparer="gx-officer"):
    """The October statement prepared and sent by ``preparer``; returns its id."""
    from portal.billing import workflow
    statement_id = sw.prepare(app, world, MONTH, by=preparer)
    with app.app_context(), sw.scope(app):
        workflow.send_to_contractor(db.session.get(Statement, statement_id), sw.user(preparer))
        db.session.commit()
    return statement_id


def _confirmed(app, world, preparer="gx-officer"):
    from portal.billing import workflow
    statement_id = _sent(app, world, preparer)
    with app.app_context(), sw.scope(app):
        workflow.confirm(db.session.get(Statement, statement_id), sw.user("a-manager"))
        db.session.commit()
    return statement_id




def _post(client, url, data=None):
    return support.form_post(client, url, data or {})


# --- prepare ---------------------------------------------------------------------------------------

def test_an_officer_prepares_the_month_and_follows_the_job_to_the_draft(app, october, login, run_worker):
    officer = login("gx-officer")
    response = support.form_post(officer, "/billing/prepare", {"month": MONTH, "contract_id": "0"},
                                 token_url="/billing/")
    assert response.status_code == 302 and "/billing/jobs/" in response.headers["Location"]
    run_worker()
    job = officer.get(response.headers["Location"])
    assert job.status_code == 200 and 'id="job-status"' in job.get_data(as_text=True)
    assert "Refresh" not in job.headers  # finished: the page stops refreshing itself
    with app.app_context(), sw.scope(app):
        statement = db.session.execute(select(Statement)).scalar_one()
        assert (statement.status, statement.month, statement.net_fen) == ("draft", MONTH, 94_000)
        assert statement.prepared_by_id == sw.user("gx-officer").id
    listing = officer.get(f"/billing/?month={MONTH}").get_data(as_text=True)
    assert statement.number in listing and "940.00" in listing


@pytest.mark.parametrize("month", ["2026-13", "oct", "", "2099-01"])
def test_prepare_refuses_a_bad_or_future_month_on_the_form(app, october, login, month):
    officer = login("gx-officer")
    response = support.form_post(officer, "/billing/prepare", {"month": month, "contract_id": "0"},
                                 token_url="/billing/")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="field-error"' in html and 'id="month-error"' in html
    with app.app_context(), sw.scope(app):
        assert db.session.execute(select(Statement)).first() is None


def test_the_contractor_manager_and_the_auditor_cannot_prepare(app, october, login):
    for client in (login("a-manager", tenant="ganxian"), login("gx-auditor", tenant="ganxian")):
        assert 'id="prepare-form"' not in client.get("/billing/").get_data(as_text=True)
        assert client.post("/billing/prepare", data={"month": MONTH}).status_code in (400, 403)


# --- the list ----------------------------------------------------------------------------------------

def test_the_list_filters_by_contract_month_and_status(app, october, login):
    other = sw.care_contract(app)
    sw.add_visits(app, other, "2026-09", 3)
    first = sw.prepare(app, october, MONTH, by="gx-officer")
    second = sw.prepare(app, other, "2026-09", by="gx-officer")
    numbers = {}
    with app.app_context(), sw.scope(app):
        for statement_id in (first, second):
            numbers[statement_id] = db.session.get(Statement, statement_id).number
    finance = login("gx-finance")
    everything = finance.get("/billing/").get_data(as_text=True)
    assert numbers[first] in everything and numbers[second] in everything
    by_month = finance.get(f"/billing/?month={MONTH}").get_data(as_text=True)
    assert numbers[first] in by_month and numbers[second] not in by_month
    by_contract = finance.get(f"/billing/?contract={other['contract']}").get_data(as_text=True)
    assert numbers[second] in by_contract and numbers[first] not in by_contract
    assert numbers[first] not in finance.get("/billing/?status=approved").get_data(as_text=True)
    bad = finance.get("/billing/?month=last-month&page=abc&contract=x")
    assert bad.status_code == 200 and 'id="month-error"' in bad.get_data(as_text=True)


def test_the_contractor_manager_lists_only_their_own_statements_from_sent_on(app, october, login):
    draft = sw.prepare(app, october, MONTH, by="gx-officer")
    b_world = sw.care_contract(app, manager="b-manager")
    sw.add_visits(app, b_world, MONTH, 2)
    b_sent = _sent(app, b_world)
    with app.app_context(), sw.scope(app):
        numbers = {i: db.session.get(Statement, i).number for i in (draft, b_sent)}
    a_list = login("a-manager", tenant="ganxian").get("/billing/").get_data(as_text=True)
    assert numbers[draft] not in a_list and numbers[b_sent] not in a_list
    b_list = login("b-manager", tenant="ganxian").get("/billing/").get_data(as_text=True)
    assert numbers[b_sent] in b_list


# --- the statement page ------------------------------------------------------------------------------

def test_the_statement_page_shows_lines_deductions_entries_and_history(app, october, login):
    statement_id = _sent(app, october)
    html = login("gx-finance").get(f"/billing/{statement_id}").get_data(as_text=True)
    assert 'id="statement-lines"' in html and 'id="statement-deductions"' in html
    assert "1,600.00" in html and "-160.00" in html and "-500.00" in html and "940.00" in html
    assert "<details" in html and "20 " in html  # the 20 visits paid, collapsed with their count
    assert str(october["paid"][0]) in html and str(october["violation"]) in html
    assert "张*丰" in html and "张三丰" not in html and "13979700001" not in html
    history = html[html.index('id="statement-history"'):]
    assert history.count("<tr>") >= 3  # header, prepared, sent
    assert "/billing/%d/approve" % statement_id not in html  # not confirmed yet


def test_the_print_page_renders_without_navigation(app, october, login):
    statement_id = _sent(app, october)
    for client in (login("gx-officer"), login("a-manager", tenant="ganxian")):
        page = client.get(f"/billing/{statement_id}/print")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert 'class="site-nav"' not in html and "<form" not in html
        assert "940.00" in html and 'id="statement-history"' in html and 'id="statement-lines"' in html
        assert "玖佰肆拾元整" in html and 'id="amount-in-words"' in html  # net 940.00 yuan in capitals
        assert 'id="signatures"' in html and html.count('class="seal-box"') == 2
        assert '<td class="num">1,600.00</td>' in html  # right-aligned, thousands separated


# --- the Excel export --------------------------------------------------------------------------------

def _padded(row, width):
    """A read-only sheet drops a row's empty trailing cells: put them back."""
    return tuple(row) + (None,) * (width - len(row))


def test_the_excel_export_has_the_lines_and_the_visits_behind_them_and_no_personal_data(app, october, login):
    from portal.beneficiaries.models import Beneficiary
    from portal.core.crypto import decrypt
    statement_id = _sent(app, october)
    with app.app_context(), sw.scope(app):
        person = db.session.get(Beneficiary, october["person"])
        secrets = [person.name, decrypt(person.id_number_encrypted), person.phone, person.address,
                   str(person.lat), str(person.lon)]
    response = login("gx-finance").get(f"/billing/{statement_id}.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    lines_sheet, visits_sheet = book.worksheets
    lines = [_padded(row, 12) for row in lines_sheet.iter_rows(values_only=True)]
    kinds = [row[1] for row in lines if row[0] in (1, 2, 3)]
    assert len(kinds) == 3  # the service line and two deductions
    amounts = [row[10] for row in lines if row[0] in (1, 2, 3)]
    assert [Decimal(str(a)) for a in amounts] == [Decimal("1600.00"), Decimal("-160.00"), Decimal("-500.00")]
    totals = [Decimal(str(row[10])) for row in lines if row[0] is None and row[1] and row[10] is not None]
    assert totals == [Decimal("1600.00"), Decimal("-660.00"), Decimal("940.00")]  # gross, deductions, net
    visits = [_padded(row, 10) for row in visits_sheet.iter_rows(min_row=2, values_only=True)]
    visit_ids = [row[2] for row in visits if row[2] is not None]
    assert sorted(visit_ids) == sorted(october["paid"] + october["rejected"])
    assert [row[9] for row in visits if row[9] is not None] == [october["violation"]]
    first = next(row for row in visits if row[2] == october["paid"][0])
    assert first[4] == "2026-10-01 09:00:00" and first[7] == "张*丰"  # Beijing time, masked name
    cells = " ".join(str(v) for sheet in (lines, visits) for row in sheet for v in row if v is not None)
    for secret in secrets:
        assert secret not in cells, secret
    assert not re.search(r"\d{17}[\dX]", cells)


# --- who may see what --------------------------------------------------------------------------------

def test_b_s_manager_gets_404_on_a_s_statement_page_export_print_and_steps(app, october, login):
    statement_id = _sent(app, october)
    a_manager = login("a-manager", tenant="ganxian")
    assert a_manager.get(f"/billing/{statement_id}").status_code == 200
    assert a_manager.get(f"/billing/{statement_id}.xlsx").status_code == 200
    b_manager = login("b-manager", tenant="ganxian")
    for url in (f"/billing/{statement_id}", f"/billing/{statement_id}.xlsx", f"/billing/{statement_id}/print",
                f"/billing/{statement_id}/confirm"):
        assert b_manager.get(url).status_code == 404, url
    assert login("zg-officer").get(f"/billing/{statement_id}").status_code == 404  # another bureau


def test_a_draft_stays_internal(app, october, login):
    statement_id = sw.prepare(app, october, MONTH, by="gx-officer")
    assert login("a-manager", tenant="ganxian").get(f"/billing/{statement_id}").status_code == 404
    assert login("gx-auditor", tenant="ganxian").get(f"/billing/{statement_id}").status_code == 200


def test_the_auditor_reads_but_takes_no_step(app, october, login):
    statement_id = _confirmed(app, october)
    auditor = login("gx-auditor", tenant="ganxian")
    html = auditor.get(f"/billing/{statement_id}").get_data(as_text=True)
    assert "/approve" not in html and "/send" not in html
    assert auditor.get(f"/billing/{statement_id}/approve").status_code == 403


# --- the workflow through the pages -----------------------------------------------------------------

def test_the_whole_workflow_through_the_pages(app, october, login):
    statement_id = sw.prepare(app, october, MONTH, by="gx-officer")
    officer, manager, finance = login("gx-officer"), login("a-manager", tenant="ganxian"), login("gx-finance")
    assert _post(officer, f"/billing/{statement_id}/send").status_code == 302
    assert _post(manager, f"/billing/{statement_id}/confirm").status_code == 302
    assert _post(finance, f"/billing/{statement_id}/approve").status_code == 302
    assert sw.statement_row(app, statement_id)[0] == "approved"
    bad = _post(finance, f"/billing/{statement_id}/pay", {"paid_on": "", "reference": ""})
    assert bad.status_code == 422 and bad.get_data(as_text=True).count('class="field-error"') >= 2
    paid = _post(finance, f"/billing/{statement_id}/pay", {"paid_on": "2026-11-20", "reference": "GK-2026-1120"})
    assert paid.status_code == 302
    assert sw.statement_row(app, statement_id) == ("paid", 160_000, 66_000, 94_000)
    html = finance.get(f"/billing/{statement_id}").get_data(as_text=True)
    history = html[html.index('id="statement-history"'):]
    assert history.count("<tr>") == 6 and "GK-2026-1120" in history  # header + five steps


def test_the_preparer_approving_is_refused_with_a_form_error_and_nothing_changes(app, october, login):
    statement_id = _confirmed(app, october, preparer="gx-finance")
    response = _post(login("gx-finance"), f"/billing/{statement_id}/approve")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    message = support.zh(app, "The person who prepared or sent a statement cannot approve it.")
    assert 'lang="zh-CN"' in html and 'id="refusal"' in html and message in html
    assert sw.statement_row(app, statement_id) == ("confirmed", 160_000, 66_000, 94_000)
    with app.app_context(), sw.scope(app):
        assert db.session.get(Statement, statement_id).approved_by_id is None


def test_a_dispute_needs_a_reason_and_a_line_then_the_bureau_reworks_it(app, october, login):
    statement_id = _sent(app, october)
    manager = login("a-manager", tenant="ganxian")
    empty = _post(manager, f"/billing/{statement_id}/dispute", {"reason": ""})
    assert empty.status_code == 422 and empty.get_data(as_text=True).count('class="field-error"') >= 2
    assert sw.statement_row(app, statement_id)[0] == "sent"
    with app.app_context(), sw.scope(app):
        line_id = db.session.get(Statement, statement_id).lines[1].id
    disputed = _post(manager, f"/billing/{statement_id}/dispute", {"reason": "回访时老人外出", "line_ids": str(line_id)})
    assert disputed.status_code == 302 and sw.statement_row(app, statement_id)[0] == "disputed"
    page = login("gx-officer").get(f"/billing/{statement_id}").get_data(as_text=True)
    assert "回访时老人外出" in page and f"/billing/{statement_id}/rework" in page
    assert _post(login("gx-officer"), f"/billing/{statement_id}/rework").status_code == 302
    assert sw.statement_row(app, statement_id)[0] == "draft"


def test_an_adjustment_line_through_the_page(app, october, login):
    statement_id = sw.prepare(app, october, MONTH, by="gx-officer")
    officer = login("gx-officer")
    zero = _post(officer, f"/billing/{statement_id}/adjustment", {"amount": "0", "reason": "更正"})
    assert zero.status_code == 422
    bad = _post(officer, f"/billing/{statement_id}/adjustment", {"amount": "12.345", "reason": "更正"})
    assert bad.status_code == 422
    added = _post(officer, f"/billing/{statement_id}/adjustment", {"amount": "-12.50", "reason": "九月多付一次"})
    assert added.status_code == 302
    assert sw.statement_row(app, statement_id) == ("draft", 160_000, 67_250, 92_750)
    page = officer.get(f"/billing/{statement_id}").get_data(as_text=True)
    assert "九月多付一次" in page
    remove = re.search(r'action="(/billing/%d/adjustment/\d+/remove)"' % statement_id, page).group(1)
    token = support.csrf_token_from(page)
    assert officer.post(remove, data={"csrf_token": token}).status_code == 302
    assert sw.statement_row(app, statement_id) == ("draft", 160_000, 66_000, 94_000)
    assert officer.post(remove, data={"csrf_token": token}).status_code == 404  # already gone
