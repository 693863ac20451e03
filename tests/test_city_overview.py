"""The city's view (issue 20 part 5): the districts granted to an auditor side by side for a year,
the drill-down, the Excel export and GET /api/v1/city/overview. Figures are checked against a
small world built here for a year of its own (2031) and against the demo's history counted
directly, tenant by tenant; districts not granted never appear; never a person's identity."""
from datetime import date, datetime, timedelta, timezone
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests import support

YEAR = 2031


def _build(app):
    """Each demo bureau gets a budget line of 2031 and a disclosure published late; ganxian two
    quarterly scorecards of A's contract; a third bureau, granted to nobody, the same rows."""
    from portal.contracts.models import Contract
    from portal.disclosures import Disclosure
    from portal.extensions import db
    from portal.scorecards.models import Scorecard
    from portal.tenancy.models import Tenant
    from portal.tenancy.scope import tenant_scope
    from portal.tenders.models import BudgetLine
    with app.app_context():
        other = Tenant(code="ruijin", name="瑞金市民政局", region="", settings={})
        db.session.add(other)
        db.session.flush()
        world = support.World(app)
        amounts = {"ganxian": 1_000_000, "zhanggong": 400_000, "ruijin": 900_000}
        for code, amount in amounts.items():
            tenant_id = other.id if code == "ruijin" else world.tenant_id(code)
            with tenant_scope(tenant_id):
                db.session.add(BudgetLine(year=YEAR, name=f"城市测试 {code}", fund_source="本级", amount_fen=amount))
                db.session.add(Disclosure(kind="notice", title=f"迟发 {code}", body="-", due_on=date(YEAR, 3, 2),
                                          published_at=datetime(YEAR, 3, 10, 2, tzinfo=timezone.utc)))
                db.session.add(Disclosure(kind="notice", title=f"按时 {code}", body="-", due_on=date(YEAR, 3, 2),
                                          published_at=datetime(YEAR, 3, 1, 2, tzinfo=timezone.utc)))
                db.session.flush()
        with tenant_scope(world.tenant_id("ganxian")):
            contract = db.session.execute(select(Contract).order_by(Contract.id)).scalars().first()
            for quarter, score in (("2031-Q1", 8725), ("2031-Q2", 9000)):
                db.session.add(Scorecard(contract_id=contract.id, quarter=quarter, period_start=date(YEAR, 1, 1),
                                         period_end=date(YEAR, 3, 31), score_centi=score))
            db.session.flush()
            _feedback_items()
        db.session.commit()


def _feedback_items():
    """ganxian's public feedback due in 2031: one answered at 23:30 on its due day (Beijing; 15:30
    UTC), one answered at 00:30 the next day (still the due day in UTC), one unanswered due 2 March;
    not due in 2031: one due 31 December 2030 and one due 1 January 2032."""
    from portal.extensions import db
    from portal.feedback.models import FeedbackItem
    local = timezone(timedelta(hours=8))
    rows = ((date(YEAR, 5, 6), datetime(YEAR, 5, 6, 23, 30, tzinfo=local)),
            (date(YEAR, 5, 6), datetime(YEAR, 5, 7, 0, 30, tzinfo=local)),
            (date(YEAR, 3, 2), None), (date(YEAR - 1, 12, 31), None), (date(YEAR + 1, 1, 1), None))
    for n, (due, answered) in enumerate(rows):
        db.session.add(FeedbackItem(tracking_number=f"FKCITY{n:06d}", topic="service", text="意见",
                                    received_at=datetime(YEAR - 1, 12, 1, tzinfo=timezone.utc), due_on=due,
                                    status="answered" if answered else "received", answered_at=answered,
                                    answer="已处理。" if answered else ""))
    db.session.flush()


@pytest.fixture
def world(app):
    support.seed_demo(app, history=True)
    support.built_once(app, "city", _build, on="history")
    return support.World(app)


def _api(client, api_token, username, year=YEAR, tenant=None):
    headers = api_token(username, tenant=tenant)
    return client.get("/api/v1/city/overview", query_string={"year": year}, headers=headers)


@pytest.mark.parametrize("acting", ["ganxian", "zhanggong"])
def test_city_auditor_sees_both_districts_with_the_figures_of_the_year(client, world, api_token, acting):
    response = _api(client, api_token, "city-auditor", tenant=acting)
    assert response.status_code == 200, response.get_data(as_text=True)
    items = {item["tenant"]: item for item in response.get_json()["items"]}
    assert set(items) == {"ganxian", "zhanggong"}
    gx, zg = items["ganxian"], items["zhanggong"]
    assert gx["budget_fen"] == 1_000_000 and zg["budget_fen"] == 400_000
    assert gx["disclosures_late"] == 1 and zg["disclosures_late"] == 1
    assert gx["scorecards"] == 2 and gx["average_score"] in (88.62, 88.63)  # 88.625 as a JSON number
    assert zg["scorecards"] == 0 and zg["average_score"] is None
    assert gx["budget_execution"] == 0 and zg["confirmation_rate"] is None
    assert gx["visits"] == 0 and gx["exception_rate"] is None
    # feedback due in 2031: 3, of which 2 answered (1 by its due day in Beijing) and 1 not yet due:
    # the rate counts only the 2 already judged
    assert (gx["feedback_due"], gx["feedback_counted"], gx["feedback_on_time"]) == (3, 2, 1)
    assert gx["feedback_on_time_rate"] == 0.5
    assert gx["feedback_overdue"] == 0 and zg["feedback_due"] == 0 and zg["feedback_on_time_rate"] is None


def test_feedback_overdue_now_counts_the_year_s_unanswered_items_past_their_due_day(app, world):
    from portal.city.figures import district_figures
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    with app.app_context():
        tenant = db.session.get(Tenant, world.tenant_id("ganxian"))
        assert district_figures(tenant, YEAR, today=date(YEAR, 3, 2)).feedback_overdue == 0  # due today: not yet
        assert district_figures(tenant, YEAR, today=date(YEAR, 3, 3)).feedback_overdue == 1
        late = district_figures(tenant, YEAR + 1, today=date(YEAR + 1, 1, 2))
        assert (late.feedback_due, late.feedback_overdue, late.feedback_on_time_rate) == (1, 1, 0)


def test_the_on_time_rate_counts_an_unanswered_item_only_once_past_its_due_day(app, world):
    """The unanswered item due 2 March: on its due day it is neither on time nor late (2 answered
    judged, 1 on time); the next day it counts as late."""
    from fractions import Fraction

    from portal.city.figures import district_figures
    from portal.extensions import db
    from portal.tenancy.models import Tenant
    with app.app_context():
        tenant = db.session.get(Tenant, world.tenant_id("ganxian"))
        due_day = district_figures(tenant, YEAR, today=date(YEAR, 3, 2))
        assert (due_day.feedback_due, due_day.feedback_counted, due_day.feedback_on_time) == (3, 2, 1)
        assert due_day.feedback_on_time_rate == Fraction(1, 2)
        next_day = district_figures(tenant, YEAR, today=date(YEAR, 3, 3))
        assert (next_day.feedback_counted, next_day.feedback_on_time_rate) == (3, Fraction(1, 3))
        before = district_figures(tenant, YEAR, today=date(YEAR, 1, 1))  # answered items count whenever due
        assert (before.feedback_counted, before.feedback_on_time_rate) == (2, Fraction(1, 2))


def test_the_page_shows_the_exact_score_and_no_district_not_granted(world, login):
    html = login("city-auditor", tenant="ganxian").get(f"/city/?year={YEAR}").get_data(as_text=True)
    assert "88.63" in html  # (8725 + 9000) / 2 hundredths, rounded half up
    assert "赣县" in html and "章贡" in html and "瑞金" not in html
    assert login("city-auditor", tenant="ganxian").get(f"/city/ruijin?year={YEAR}").status_code == 404


def _demo_year():
    from portal.core.timeutil import local_today
    today = local_today()
    return today.year if today.month > 1 else today.year - 1


def test_demo_history_counted_as_each_district_directly(app, world, client, api_token):
    """The demo's visits, spot checks and statements of the year, counted here straight from the
    tables per tenant, match the API's figures."""
    from portal.billing.models import Statement
    from portal.extensions import db
    from portal.spotchecks.models import SpotCheck
    from portal.visits.models import Visit
    year = _demo_year()
    items = {i["tenant"]: i for i in _api(client, api_token, "city-auditor", year=year,
                                          tenant="zhanggong").get_json()["items"]}
    with support.as_platform(app):
        for code in ("ganxian", "zhanggong"):
            tid = world.tenant_id(code)
            visits = [v for v in db.session.execute(select(Visit).where(Visit.tenant_id == tid)).scalars()
                      if _local_year(v.check_in_at) == year]
            assert items[code]["visits"] == len(visits)
            assert items[code]["visits_verified"] == sum(v.status == "verified" for v in visits)
            assert items[code]["visits_exception"] == sum(v.status == "exception" for v in visits)
            checks = [c for c in db.session.execute(select(SpotCheck).where(SpotCheck.tenant_id == tid)).scalars()
                      if c.outcome and c.completed_at and _local_year(c.completed_at) == year]
            assert items[code]["spot_checks"] == len(checks)
            paid = db.session.execute(select(func.coalesce(func.sum(Statement.net_fen), 0)).where(
                Statement.tenant_id == tid, Statement.status == "paid",
                Statement.month.like(f"{year}-%"))).scalar_one()
            assert items[code]["paid_fen"] == paid
        assert items["ganxian"]["visits"] > 0  # the demo's month of visits is counted
        if items["ganxian"]["visits"]:
            assert items["ganxian"]["exception_rate"] == round(
                items["ganxian"]["visits_exception"] / items["ganxian"]["visits"], 4)


def _local_year(moment):
    from portal.core.timeutil import to_local
    return to_local(moment).year


def test_gx_auditor_sees_only_ganxian(world, client, api_token, login):
    items = _api(client, api_token, "gx-auditor").get_json()["items"]
    assert [item["tenant"] for item in items] == ["ganxian"]
    browser = login("gx-auditor")
    html = browser.get(f"/city/?year={YEAR}").get_data(as_text=True)
    assert "章贡" not in html and "瑞金" not in html
    assert browser.get(f"/city/zhanggong?year={YEAR}").status_code == 404
    assert browser.get(f"/city/ganxian?year={YEAR}").status_code == 200
    book = load_workbook(BytesIO(browser.get(f"/city/overview.xlsx?year={YEAR}").data))
    cells = " ".join(str(c.value) for row in book.active.iter_rows() for c in row)
    assert "赣县" in cells and "章贡" not in cells and "瑞金" not in cells


def test_excel_has_money_as_numbers(world, login):
    from decimal import Decimal
    book = load_workbook(BytesIO(login("city-auditor", tenant="ganxian").get(f"/city/overview.xlsx?year={YEAR}").data))
    rows = {row[0].value: [c.value for c in row[1:]] for row in book.active.iter_rows()}
    budget = rows["本年度预算项目金额（元）"]
    assert [Decimal(str(v)) for v in budget] == [Decimal("10000"), Decimal("4000")]
    assert rows["公众意见按时答复（比率）"] == ["50.00 %", "—"] and rows["本年度到期的公众意见"] == [3, 0]


@pytest.mark.parametrize("year", ["", "abc", "1999", "2100", "20311", "-2031", "2031.0", "null"])
def test_bad_or_missing_year_is_422_on_the_api(world, client, api_token, year):
    query = {} if year == "" else {"year": year}
    response = client.get("/api/v1/city/overview", query_string=query,
                          headers=api_token("city-auditor", tenant="ganxian"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "year" in response.get_json()["errors"]


@pytest.mark.parametrize("year", ["abc", "1999", "2100"])
def test_bad_year_on_the_pages_is_404(world, login, year):
    browser = login("city-auditor", tenant="ganxian")
    for path in ("/city/", "/city/overview.xlsx", "/city/ganxian"):
        assert browser.get(path, query_string={"year": year}).status_code == 404


@pytest.mark.parametrize("username", ["gx-officer", "gx-supervisor", "gx-finance", "gx-admin", "a-manager"])
def test_non_auditors_are_refused(world, client, api_token, login, username):
    tenant = "ganxian" if username == "a-manager" else None
    assert _api(client, api_token, username, tenant=tenant).status_code == 403
    browser = login(username)
    for path in ("/city/", "/city/overview.xlsx", "/city/ganxian"):
        assert browser.get(path, query_string={"year": YEAR}).status_code == 403


def test_no_beneficiary_identity_anywhere(app, world, client, api_token, login):
    from portal.beneficiaries.models import Beneficiary
    from portal.extensions import db
    year = _demo_year()
    with support.as_platform(app):
        people = db.session.execute(select(Beneficiary)).scalars().all()
        secrets = [p.name for p in people] + [p.phone for p in people if p.phone]
    assert secrets
    browser = login("city-auditor", tenant="ganxian")
    texts = [browser.get(f"/city/?year={year}").get_data(as_text=True),
             browser.get(f"/city/ganxian?year={year}").get_data(as_text=True),
             _api(client, api_token, "city-auditor", year=year, tenant="ganxian").get_data(as_text=True)]
    book = load_workbook(BytesIO(browser.get(f"/city/overview.xlsx?year={year}").data))
    texts.append(" ".join(str(c.value) for row in book.active.iter_rows() for c in row))
    for text in texts:
        assert not [secret for secret in secrets if secret and secret in text]


def test_auditor_finds_the_page_and_it_covers_both_whatever_bureau_the_session_acts_for(world, login):
    browser = login("city-auditor", tenant="zhanggong")
    assert 'href="/city/"' in browser.get("/").get_data(as_text=True)
    html = browser.get(f"/city/?year={YEAR}").get_data(as_text=True)
    assert 'data-tenant="ganxian"' in html and 'data-tenant="zhanggong"' in html
    assert "<svg" in html and "10,000.00" in html and "4,000.00" in html
    drill = browser.get(f"/city/ganxian?year={YEAR}").get_data(as_text=True)
    assert "10,000.00" in drill and "88.63" in drill
    assert browser.get("/city/ganxian").status_code == 200  # this year by default
