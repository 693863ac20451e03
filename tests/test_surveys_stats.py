"""Survey statistics (docs/DOMAIN.md §6): per township and category, the families surveyed,
eligible, marginal, not eligible and exits on the signed-off surveys of the period (each family
once, by its latest), and the average per-capita income against the average standard exact to the
fen (rounded half up from integer sums); the page, its Excel copy and the monthly report (page and
Excel) with the re-checks per contractor and the due and overdue counts; the public counts per
township show counts and never a name or an amount."""
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook

from portal.core.months import first_day, month_bounds, month_text, previous_month
from portal.extensions import db
from tests.survey_rows import TODAY, add_survey, at, rows_world, scope, user

LAST_MONTH = previous_month(TODAY)
DAY = LAST_MONTH + timedelta(days=9)  # the 10th of last month


@pytest.fixture
def figures(app, demo):
    """Last month: 梅林镇 dibao — 张秀英 eligible 50,001 (an earlier survey of hers 1 fen, superseded),
    李建国 eligible 50,002, 赵德明 (B) marginal 90,000 under a standard of 80,001; 王母渡镇 tekun —
    王桂兰 exit 200,000, 孙玉珍 not eligible 130,000. Not counted: a survey awaiting review, one
    signed off the month before, one made on the first instant of this month."""
    world = rows_world(app)
    add_survey(app, world, "张秀英", DAY - timedelta(days=5), per_capita=1)
    add_survey(app, world, "张秀英", DAY, per_capita=50_001)
    add_survey(app, world, "李建国", DAY, per_capita=50_002)
    add_survey(app, world, "赵德明", DAY, outcome="marginal", per_capita=90_000, standard=80_001)
    add_survey(app, world, "王桂兰", DAY, outcome="exit", category="tekun", per_capita=200_000)
    add_survey(app, world, "孙玉珍", DAY, outcome="not_eligible", category="tekun", per_capita=130_000)
    add_survey(app, world, "孙玉珍", DAY + timedelta(days=1), status="recorded", per_capita=7)
    add_survey(app, world, "李建国", previous_month(LAST_MONTH), per_capita=3)
    add_survey(app, world, "王桂兰", first_day(TODAY), hour=0, per_capita=5, category="tekun")
    return world


def _rows(app, month=LAST_MONTH):
    from portal.surveys import stats
    with app.app_context(), scope(app):
        return stats.township_rows(*month_bounds(month))


def test_counts_and_averages_per_township_and_category_exact_to_the_fen(app, figures):
    from portal.surveys import stats
    rows = {(r.township, r.category): r for r in _rows(app)}
    assert sorted(rows) == [("梅林镇", "dibao"), ("王母渡镇", "tekun")]
    meilin = rows[("梅林镇", "dibao")]
    assert (meilin.surveyed, meilin.eligible, meilin.marginal, meilin.not_eligible, meilin.exits) == (3, 2, 1, 0, 0)
    # (50,001 + 50,002 + 90,000) / 3 = 63,334.33… → 63,334; standards (80,000 + 80,000 + 80,001) / 3 → 80,000
    assert (meilin.average_income_fen, meilin.average_standard_fen) == (63_334, 80_000)
    wangmu = rows[("王母渡镇", "tekun")]
    assert (wangmu.surveyed, wangmu.eligible, wangmu.marginal, wangmu.not_eligible, wangmu.exits) == (2, 0, 0, 1, 1)
    assert wangmu.average_income_fen == 165_000
    total = stats.combined(list(rows.values()))
    # (50,001 + 50,002 + 90,000 + 200,000 + 130,000) / 5 = 104,000.6 → 104,001
    assert (total.surveyed, total.average_income_fen) == (5, 104_001)
    assert stats.half_up(5, 2) == 3 and stats.half_up(7, 3) == 2 and stats.half_up(3, 2) == 2
    assert stats.half_up(200_003, 2) == 100_002 and stats.half_up(0, 0) == 0
    # this month: only the survey made at its first instant (Beijing midnight)
    assert [(r.township, r.surveyed, r.average_income_fen) for r in _rows(app, first_day(TODAY))] == [("王母渡镇", 1, 5)]


def test_the_stats_page_and_its_excel_copy_carry_the_same_figures(app, figures, login):
    client = login("gx-officer")
    response = client.get(f"/surveys/stats?month={month_text(LAST_MONTH)}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "633.34" in html and "800.00" in html and "1,650.00" in html and "1,040.01" in html
    assert "<svg" in html and "2 / 3" in html  # the bar of 梅林镇: 2 eligible of 3
    assert "张秀英" not in html  # figures, not families
    response = client.get(f"/surveys/stats.xlsx?month={month_text(LAST_MONTH)}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    # money as numbers a spreadsheet can add up, shown with two decimals
    assert rows[2][0] == "梅林镇" and rows[2][2:] == (3, 2, 1, 0, 0, 633.34, 800)
    assert rows[3][0] == "王母渡镇" and rows[3][2:] == (2, 0, 0, 1, 1, 1650, 800)
    assert rows[4][2] == 5 and rows[4][7] == 1040.01
    assert book.worksheets[0].cell(row=3, column=8).number_format == "#,##0.00"
    # a run of months, a bad month, a last month before the first: a page, never an error
    # over both months 王桂兰 counts once, by this month's survey: (50,001 + 50,002 + 90,000 + 5 + 130,000) / 5
    both = client.get(f"/surveys/stats?month={month_text(LAST_MONTH)}&to={month_text(TODAY)}").get_data(as_text=True)
    assert "640.02" in both and "1,040.01" not in both
    for query in ("month=2026-13", "month=x", f"month={month_text(TODAY)}&to={month_text(LAST_MONTH)}"):
        response = client.get(f"/surveys/stats?{query}")
        assert response.status_code == 200 and 'id="period-message"' in response.get_data(as_text=True)
    assert login("a-manager", tenant="ganxian").get("/surveys/stats").status_code == 403
    assert login("a-worker1", tenant="ganxian").get("/surveys/stats.xlsx").status_code == 403
    assert "633.34" not in login("zg-officer").get(f"/surveys/stats?month={month_text(LAST_MONTH)}").get_data(as_text=True)


@pytest.fixture
def report(app, figures):
    """Re-checks done last month: two of A's surveys (one discrepancy), one of B's (none); one of
    A's done this month (not counted); one drawn not done. Plus a family due and one overdue."""
    from portal.surveys.models import HouseholdSurvey, SurveyRecheck, SurveyRecheckDraw
    world = figures
    extra = [add_survey(app, world, "张秀英", DAY - timedelta(days=8)) for _n in range(2)]
    with app.app_context(), scope(app):
        surveys = db.session.query(HouseholdSurvey).order_by(HouseholdSurvey.id).all()
        by_contract = {}
        for s in surveys:
            by_contract.setdefault(s.contract_id, []).append(s)
        draws = {cid: SurveyRecheckDraw(contract_id=cid, month=month_text(LAST_MONTH), seed="s", rate_permille=100)
                 for cid in by_contract}
        db.session.add_all(draws.values())
        # 李建国 due in 3 days, 赵德明 overdue since yesterday (their latest surveys)
        latest = {s.beneficiary_id: s for s in sorted(surveys, key=lambda s: (s.surveyed_at, s.id))
                  if s.status == "signed_off"}
        latest[world["people"]["李建国"]].next_due_on = TODAY + timedelta(days=3)
        latest[world["people"]["赵德明"]].next_due_on = TODAY - timedelta(days=1)
        db.session.flush()
        a, b = world["contracts"]["a"], world["contracts"]["b"]
        a_surveys = by_contract[a]
        checks = [(a_surveys[0], "not_eligible", at(DAY + timedelta(days=3)), True),
                  (a_surveys[1], "eligible", at(DAY + timedelta(days=4)), False),
                  (by_contract[b][0], "marginal", at(DAY + timedelta(days=5)), False),
                  (a_surveys[2], "exit", at(first_day(TODAY), 9), True),
                  (a_surveys[3], None, None, False)]
        for survey, found, when, differs in checks:
            db.session.add(SurveyRecheck(survey_id=survey.id, draw_id=draws[survey.contract_id].id, outcome_found=found,
                                         rechecked_at=when, discrepancy=differs,
                                         checker_user_id=user("gx-supervisor").id if when else None))
        db.session.commit()
    return {**world, "extra": extra}


def test_the_monthly_report_page_and_its_excel_copy(app, report, login):
    client = login("gx-supervisor")
    month = month_text(LAST_MONTH)
    response = client.get(f"/surveys/report?month={month}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert month in html and "633.34" in html and 'id="signatures-heading"' in html
    rechecks = html.split('id="report-rechecks"')[1].split("</table>")[0]
    assert "<td>2</td><td>1</td><td>50.00%</td>" in rechecks      # A: two re-checked, one discrepancy
    assert "<td>1</td><td>0</td><td>0.00%</td>" in rechecks       # B
    assert "<td>3</td><td>1</td><td>33.33%</td>" in rechecks      # the total
    due = html.split('id="report-due"')[1].split("</table>")[0]
    assert "<td>1</td></tr>" in due.split("</tr>", 1)[1] and "<td>1</td>" in due.split("</tr>", 1)[0]
    response = client.get(f"/surveys/report.xlsx?month={month}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    figures = list(book.worksheets[0].iter_rows(values_only=True))
    assert figures[2][2:] == (3, 2, 1, 0, 0, 633.34, 800)
    checks = list(book.worksheets[1].iter_rows(values_only=True))
    assert [r[1:] for r in checks[2:]] == [(2, 1, "50.00"), (1, 0, "0.00"), (3, 1, "33.33")]
    counts = list(book.worksheets[2].iter_rows(values_only=True))
    assert counts[1][1] == 1 and counts[2][1] == 1
    # a bad month: last month, with a message; the report is the bureau's
    response = client.get("/surveys/report?month=2026-1")
    assert response.status_code == 200 and 'id="period-message"' in response.get_data(as_text=True)
    assert login("b-manager", tenant="ganxian").get(f"/surveys/report?month={month}").status_code == 403
    assert login("b-manager", tenant="ganxian").get(f"/surveys/report.xlsx?month={month}").status_code == 403


def test_the_public_page_shows_counts_per_township_and_nothing_of_a_family(app, figures, client):
    response = client.get(f"/public/ganxian/surveys?month={month_text(LAST_MONTH)}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    table = html.split('id="survey-counts"')[1].split("</table>")[0]
    assert "<th scope=\"row\">梅林镇</th><td>3</td><td>2</td><td>1</td><td>0</td></tr>" in table
    assert "<th scope=\"row\">王母渡镇</th><td>2</td><td>0</td><td>0</td><td>1</td></tr>" in table
    for secret in ("张秀英", "李建国", "赵德明", "王桂兰", "孙玉珍", "张*英", "500.01", "50001", "633.34", "1,650.00",
                   "800.00", "2,000.00", "1,300.00"):
        assert secret not in html, secret
    assert "/public/ganxian/surveys" in client.get("/public/ganxian/").get_data(as_text=True)  # in the navigation
    # the year: 王桂兰 once (by this month's survey) and 孙玉珍 when last month is in this year
    year = client.get(f"/public/ganxian/surveys?year={TODAY.year}").get_data(as_text=True)
    expected = 2 if LAST_MONTH.year == TODAY.year else 1
    assert f"<th scope=\"row\">王母渡镇</th><td>{expected}</td>" in year
    # another bureau has none; nonsense is a message, not an error; no such bureau is 404
    assert "梅林镇" not in client.get(f"/public/zhanggong/surveys?month={month_text(LAST_MONTH)}").get_data(as_text=True)
    for query in ("year=abcd", "year=1999", "month=2026-13", f"year={TODAY.year + 1}"):
        response = client.get(f"/public/ganxian/surveys?{query}")
        assert response.status_code == 200 and 'id="period-message"' in response.get_data(as_text=True)
    assert client.get("/public/nobody/surveys").status_code == 404
    etag = client.get(f"/public/ganxian/surveys?month={month_text(LAST_MONTH)}").headers["ETag"]
    assert client.get(f"/public/ganxian/surveys?month={month_text(LAST_MONTH)}",
                      headers={"If-None-Match": etag}).status_code == 304
    add_survey(app, figures, "李建国", LAST_MONTH + timedelta(days=20), outcome="exit")  # the counts change
    response = client.get(f"/public/ganxian/surveys?month={month_text(LAST_MONTH)}", headers={"If-None-Match": etag})
    assert response.status_code == 200


def test_nothing_signed_off_gives_empty_tables(app, demo, login):
    rows_world(app)
    html = login("gx-officer").get("/surveys/stats").get_data(as_text=True)
    assert html.count('<td colspan="9">') == 2 and "<svg" not in html
    assert login("gx-officer").get(f"/surveys/report?month={month_text(date(2026, 1, 1))}").status_code == 200
