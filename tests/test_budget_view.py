"""The budget view (docs/DOMAIN.md §8): contracted, settled, paid and remaining per budget line and
contract, checked against a hand calculation on a small fixture."""
from datetime import date

import pytest
from sqlalchemy import select

from tests import contract_world as cw

LINE_FEN = 100_000_000  # 1,000,000.00 yuan budgeted


def _statement(contract_id, month, status, net_fen):
    from portal.billing.models import Statement
    from portal.extensions import db
    db.session.add(Statement(contract_id=contract_id, month=month, number=f"S-{contract_id}-{month}", status=status,
                             gross_fen=net_fen, deductions_fen=0, net_fen=net_fen))


@pytest.fixture
def budget_world(app, demo):
    """One budget line with three contracts:

    - C1 active, 300,000.00 + an amendment of 20,000.00; statements: January paid 10,000.00,
      February approved 25,000.00, March confirmed 9,999.99 (not settled), April draft;
    - C2 completed, 200,000.00; January paid 50,000.00 and February sent 7,000.00;
    - C3 still a draft contract of 100,000.00 (commits nothing).
    """
    from portal.contracts.models import Amendment, Contract
    from portal.extensions import db
    first = cw.awarded(app, amount_fen=30_000_000, line_amount=LINE_FEN)
    second = cw.awarded(app, amount_fen=20_000_000, line_id=first["line"], manager="b-manager")
    third = cw.awarded(app, amount_fen=10_000_000, line_id=first["line"])
    ids = [cw.draft(app, world) for world in (first, second, third)]
    with app.app_context(), cw.scope(app):
        c1, c2 = db.session.get(Contract, ids[0]), db.session.get(Contract, ids[1])
        c1.status, c1.signed_on, c1.activated_on = "active", date(2026, 1, 1), date(2026, 1, 1)
        c2.status, c2.signed_on, c2.completed_on = "completed", date(2026, 1, 1), date(2026, 6, 30)
        db.session.add(Amendment(contract_id=c1.id, number=1, rationale="additional_quantity", description="增加服务量",
                                 added_fen=2_000_000, signed_on=date(2026, 3, 1)))
        _statement(c1.id, "2026-01", "paid", 1_000_000)
        _statement(c1.id, "2026-02", "approved", 2_500_000)
        _statement(c1.id, "2026-03", "confirmed", 999_999)
        _statement(c1.id, "2026-04", "draft", 123_456)
        _statement(c2.id, "2026-01", "paid", 5_000_000)
        _statement(c2.id, "2026-02", "sent", 700_000)
        db.session.commit()
    return {"line": first["line"], "contracts": ids, "year": first["notice_on"].year}


def test_budget_figures_equal_the_hand_calculation(app, budget_world):
    from portal.billing.budget import budget_view
    with app.app_context(), cw.scope(app):
        [line] = budget_view(budget_line_id=budget_world["line"])
        by_id = {item.contract.id: item for item in line.contracts}
        c1, c2, c3 = budget_world["contracts"]
        assert c3 not in by_id  # a draft contract is not contracted money yet
        first, second = by_id[c1], by_id[c2]
        assert (first.contracted_fen, first.settled_fen, first.paid_fen, first.remaining_fen) == (
            32_000_000, 3_500_000, 1_000_000, 28_500_000)
        assert (second.contracted_fen, second.settled_fen, second.paid_fen, second.remaining_fen) == (
            20_000_000, 5_000_000, 5_000_000, 15_000_000)
        assert (line.budget_fen, line.contracted_fen, line.settled_fen, line.paid_fen, line.remaining_fen,
                line.uncontracted_fen) == (LINE_FEN, 52_000_000, 8_500_000, 6_000_000, 43_500_000, 48_000_000)
        assert all(isinstance(v, int) for v in (line.contracted_fen, line.settled_fen, line.paid_fen))


def test_budget_chart_bars_share_one_scale(app, budget_world):
    from portal.billing.budget import BAR_WIDTH, budget_view, line_chart
    with app.app_context(), cw.scope(app):
        [line] = budget_view(budget_line_id=budget_world["line"])
        chart = line_chart(line)
    budget_row, *contract_rows = chart["rows"]
    assert budget_row["track"] == BAR_WIDTH and budget_row["settled"] == BAR_WIDTH * 52 // 100
    first = next(row for row in contract_rows if row["figures"].contract.id == budget_world["contracts"][0])
    assert (first["track"], first["settled"], first["paid"]) == (BAR_WIDTH * 32 // 100, BAR_WIDTH * 35 // 1000,
                                                                  BAR_WIDTH * 10 // 1000)


def test_finance_sees_the_budget_page_with_its_chart_and_table(app, budget_world, login):
    page = login("gx-finance").get(f"/billing/budget?year={budget_world['year']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and 'role="img"' in html
    for figure in ("320,000.00", "35,000.00", "10,000.00", "285,000.00", "520,000.00", "85,000.00", "60,000.00",
                   "435,000.00", "1,000,000.00", "480,000.00"):
        assert figure in html, figure
    assert "9,999.99" not in html  # a confirmed statement is not settled yet


@pytest.mark.parametrize("username, status", [("gx-officer", 200), ("gx-auditor", 200), ("a-manager", 403),
                                              ("gx-supervisor", 403)])
def test_budget_page_is_for_finance_officers_and_auditors(app, budget_world, login, username, status):
    client = login(username, tenant="ganxian") if username in ("a-manager", "gx-auditor") else login(username)
    assert client.get("/billing/budget").status_code == status


def test_another_bureau_sees_none_of_these_lines(app, budget_world, login):
    from portal.tenders.models import BudgetLine
    from portal.extensions import db
    with app.app_context(), cw.scope(app):
        name = db.session.execute(select(BudgetLine.name).where(BudgetLine.id == budget_world["line"])).scalar_one()
    html = login("zg-officer").get("/billing/budget").get_data(as_text=True)
    assert name not in html


def test_finance_publishes_the_budget_execution_summary(app, budget_world, login):
    from portal.disclosures import Disclosure
    from portal.extensions import db
    from tests import support
    finance = login("gx-finance")
    year = budget_world["year"]
    page = finance.get(f"/billing/budget?year={year}").get_data(as_text=True)
    assert f"/billing/budget/publish?year={year}" in page
    response = support.form_post(finance, f"/billing/budget/publish?year={year}", {},
                                 token_url=f"/billing/budget?year={year}")
    assert response.status_code == 302 and "/public/ganxian/notices/" in response.headers["Location"]
    with app.app_context(), cw.scope(app):
        [notice] = db.session.execute(select(Disclosure).where(Disclosure.kind == "budget_execution")).scalars().all()
        [line] = notice.data["lines"]
        assert (line["budget_fen"], line["contracted_fen"], line["settled_fen"], line["paid_fen"],
                line["remaining_fen"]) == (LINE_FEN, 52_000_000, 8_500_000, 6_000_000, 43_500_000)
        assert "预算" in notice.title and "520,000.00" in notice.body and "435,000.00" in notice.body
    public = app.test_client().get(response.headers["Location"]).get_data(as_text=True)
    assert "85,000.00" in public
    # auditors read the budget but do not publish; a supervisor cannot even read it
    auditor = login("gx-auditor", tenant="ganxian")
    assert "/billing/budget/publish" not in auditor.get(f"/billing/budget?year={year}").get_data(as_text=True)
    refused = support.form_post(auditor, f"/billing/budget/publish?year={year}", {}, token_url=f"/billing/budget?year={year}")
    assert refused.status_code == 403


def test_the_summary_is_published_in_chinese_from_an_english_page(app, budget_world, login):
    from portal.disclosures import Disclosure
    from portal.extensions import db
    from tests import support
    finance = login("gx-finance")
    finance.set_cookie("lang", "en")
    year = budget_world["year"]
    assert "Publish the budget execution summary" in finance.get(f"/billing/budget?year={year}").get_data(as_text=True)
    support.form_post(finance, f"/billing/budget/publish?year={year}", {}, token_url=f"/billing/budget?year={year}")
    with app.app_context(), cw.scope(app):
        notice = db.session.execute(select(Disclosure).where(Disclosure.kind == "budget_execution")).scalar_one()
    assert notice.title.startswith(f"{year}年预算执行情况") and "已支付" in notice.body
