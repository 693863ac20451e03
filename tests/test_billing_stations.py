"""Station lines of a statement (docs/DOMAIN.md §8, billing/staffing.py): the station-month line
pays the stations a contract staffs; the staffing shortfall is deducted per station as price ×
missing staff-days // required staff-days, with the days behind it on the page, the print view,
the Excel export and the API; a draft goes stale when a counted check-in changes; an approved
statement never changes; a contract without a station-month item has nothing deducted.

April 2026 has 21 working days (Qingming, Monday 6 April, is a holiday). Station T-ST-01 requires
2 staff: 42 staff-days. Worker 1 checks in every working day, worker 2 misses 5 of them (and checks
in on the holiday and a Saturday, which count for nothing): 37 present, 5 missing, a deduction of
200,000 × 5 // 42 = 23,809 fen. Station T-ST-02 requires 1 and has it every day: no deduction."""
import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.core.timeutil import utcnow
from portal.extensions import db
from tests import settlement_world as sw
from tests import staffing_world as st
from tests import support
from tests.beneficiary_world import make_contract, staff_of

pytestmark = pytest.mark.usefixtures("own_queue")

MONTH = "2026-04"
HOLIDAY = date(2026, 4, 6)
SHORT = [date(2026, 4, d) for d in (8, 9, 15, 22, 29)]
STATION_ITEM = ("STATION-MONTH", "乡镇社工站驻站服务", "station_month", None, None, False)
VISIT_ITEM = ("CARE-VISIT", "上门照料护理服务", "visit", 30, 240, True)


def working_days(month=MONTH):
    """The month's working days (the fixture calendar: the national one the bureau uses)."""
    first = date(int(month[:4]), int(month[5:]), 1)
    calendar, days, day = support.fixture_calendar(), [], first
    while day.month == first.month:
        if calendar.is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


@support.once_per_run(on="demo")
def world(app):
    """A's contract with a visit item and a station-month item (200,000 fen, quota 240); stations
    T-ST-01 (2 staff), T-ST-02 (1), T-ST-03 (closed) of it, T-ST-04 of no contract; April's
    postings and check-ins as the module docstring says."""
    from portal.contracts.models import ServiceItem
    contract_id = make_contract(app, "ganxian", "a-manager", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                                items=(VISIT_ITEM, STATION_ITEM))
    with app.app_context(), sw.scope(app):
        item = db.session.execute(select(ServiceItem).where(ServiceItem.contract_id == contract_id,
                                                            ServiceItem.unit == "station_month")).scalar_one()
        item.unit_price_fen, item.quota = st.STATION_PRICE, 240
        item_id = item.id
        db.session.commit()
    staff = {"w1": staff_of(app, "a-worker1"), "w2": staff_of(app, "a-worker2"),
             "w3": st.new_staff(app, "a-manager", "钟小燕", 801, username="t-worker3")}
    stations = {"S1": st.station(app, "T-ST-01", "测试梅林社工站", 2, contract_id),
                "S2": st.station(app, "T-ST-02", "测试王母渡社工站", 1, contract_id),
                "S3": st.station(app, "T-ST-03", "测试已撤站点", 1, contract_id, active=False),
                "S4": st.station(app, "T-ST-04", "测试无合同站点", 1, None)}
    for key in ("w1", "w2"):
        st.post(app, stations["S1"], staff[key], date(2026, 1, 1))
    st.post(app, stations["S2"], staff["w3"], date(2026, 1, 1))
    days = working_days()
    st.check_in(app, stations["S1"], staff["w1"], days)
    st.check_in(app, stations["S1"], staff["w2"], [d for d in days if d not in SHORT] + [HOLIDAY, date(2026, 4, 11)])
    st.check_in(app, stations["S2"], staff["w3"], days)
    return {"contract": contract_id, "station_item": item_id, "staff": staff, "stations": stations}


def lines(app, statement_id, kind=None):
    from portal.billing.models import StatementLine
    with app.app_context(), sw.scope(app):
        stmt = select(StatementLine).where(StatementLine.statement_id == statement_id).order_by(StatementLine.position)
        return [{"kind": line.kind, "item": line.service_item_id, "units": line.units,
                 "verified": line.verified_units, "price": line.unit_price_fen, "amount": line.amount_fen,
                 "details": line.details, "description": line.description}
                for line in db.session.scalars(stmt) if kind is None or line.kind == kind]


def station_line(app, statement_id, w):
    return [line for line in lines(app, statement_id, "service") if line["item"] == w["station_item"]]


def stale(app, statement_id):
    from portal.billing import settlement
    from portal.billing.models import Statement
    with app.app_context(), sw.scope(app):
        return settlement.is_stale(db.session.get(Statement, statement_id))


def test_the_calendar_of_the_month_is_what_the_figures_assume():
    days = working_days()
    assert len(days) == 21 and HOLIDAY not in days and all(d in days for d in SHORT)


def test_the_station_month_line_pays_each_active_station_the_contract_staffs(app, demo):
    w = world(app)
    statement_id = sw.prepare(app, w, MONTH)
    [line] = station_line(app, statement_id, w)
    assert (line["units"], line["verified"], line["price"], line["amount"]) == (2, 2, 200_000, 400_000)
    assert line["details"]["stations"] == [{"id": w["stations"]["S1"], "code": "T-ST-01", "name": "测试梅林社工站"},
                                           {"id": w["stations"]["S2"], "code": "T-ST-02", "name": "测试王母渡社工站"}]
    assert "limited_by" not in line["details"]
    # the visit item is paid by visits as before: none this month
    [visits] = [l for l in lines(app, statement_id, "service") if l["item"] != w["station_item"]]
    assert (visits["units"], visits["amount"]) == (0, 0)
    # the usual limits: a monthly cap of one station
    from portal.contracts.models import ServiceItem
    with app.app_context(), sw.scope(app):
        db.session.get(ServiceItem, w["station_item"]).monthly_cap = 1
        db.session.commit()
    assert stale(app, statement_id)
    statement_id = sw.prepare(app, w, MONTH)
    [line] = station_line(app, statement_id, w)
    assert (line["units"], line["verified"], line["amount"]) == (1, 2, 200_000)
    assert (line["details"]["limited_by"], line["details"]["unpaid_count"]) == ("monthly_cap", 1)


def test_the_staffing_deduction_is_on_the_statement_with_its_days(app, demo, login):
    w = world(app)
    statement_id = sw.prepare(app, w, MONTH)
    [deduction] = lines(app, statement_id, "deduction_staffing")
    assert deduction["amount"] == 200_000 * 5 // 42 == 23_809  # floor of 23,809.52
    # one unit of the whole amount: the row reads 1 × 238.09 × 1 = 238.09 (the formula beside it)
    assert (deduction["units"], deduction["price"], deduction["item"]) == (1, 23_809, w["station_item"])
    assert deduction["description"] == "站点缺岗扣减：T-ST-01 测试梅林社工站"
    assert deduction["details"] == {
        "station_id": w["stations"]["S1"], "station_code": "T-ST-01", "station_name": "测试梅林社工站",
        "required_staff": 2, "staff_days_required": 42, "staff_days_present": 37, "missing": 5,
        "price_fen": 200_000, "short_days": [{"day": d.isoformat(), "present": 1, "required": 2} for d in SHORT]}
    # the holiday is not required (21 days × 2, not 22): nobody's absence on it is short
    assert HOLIDAY.isoformat() not in [d["day"] for d in deduction["details"]["short_days"]]
    assert sw.statement_row(app, statement_id) == ("draft", 400_000, 23_809, 400_000 - 23_809)

    officer = login("gx-officer")
    html = officer.get(f"/billing/{statement_id}").get_data(as_text=True)
    assert "站点缺岗扣减：T-ST-01 测试梅林社工站" in html and "缺岗日" in html
    assert "应配人员 2 名；应到人天 42，实到 37，缺岗 5。" in html
    assert "站点月单价 2,000.00 元 × 缺岗人天 5 ÷ 应到人天 42，按分向下取整" in html
    for day in SHORT:
        assert f'<tr data-day="{day.isoformat()}"><td>{day.isoformat()}</td><td>1</td><td>2</td></tr>' in html
    assert "本月驻站站点：测试梅林社工站、测试王母渡社工站" in html
    printed = officer.get(f"/billing/{statement_id}/print").get_data(as_text=True)
    assert "缺岗日" in printed and f'data-day="{SHORT[0].isoformat()}"' in printed and "应到人数" in printed

    book = load_workbook(io.BytesIO(officer.get(f"/billing/{statement_id}.xlsx").data))
    sheet = book["站点"]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    while any(row and row[-1] is None for row in rows):  # rows come padded to the widest one
        rows = [row[:-1] if row and row[-1] is None else row for row in rows]
    assert rows[0] == ["行", "站点", "应配人员", "应到人天", "实到人天", "缺岗人天", "站点月单价（元）", "金额（元）"]
    assert rows[1][1:6] == ["T-ST-01 测试梅林社工站", 2, 42, 37, 5] and float(rows[1][7]) == 238.09
    assert rows[3] == ["行", "站点", "日期", "在岗人数", "应到人数"]
    assert [r[2:5] for r in rows[4:9]] == [[d.isoformat(), 1, 2] for d in SHORT]
    assert ["T-ST-01 测试梅林社工站", "T-ST-02 测试王母渡社工站"] == [r[1] for r in rows[11:13]]

    # the deduction's row reads true everywhere: count 1 × 238.09 × 1 = −238.09; Excel leaves its verified units blank
    for page in (html, printed):
        row = page.split('class="staffing-shortfall"')[1].split("</div>")[1].split("</tr>")[0]
        assert "<td class=\"num\">1</td><td class=\"num\">238.09</td><td class=\"num\">1</td>" in row and "-238.09" in row.replace("−", "-")
    statement = [list(r) for r in book["结算单"].iter_rows(values_only=True)]
    [staffing] = [r for r in statement if r[2] == "站点缺岗扣减：T-ST-01 测试梅林社工站"]
    assert staffing[4] is None and (staffing[7], float(staffing[8]), staffing[9]) == (1, 238.09, 1)
    assert float(staffing[10]) == -238.09
    # no count of visits and violations under the station lines
    summaries = [part.split("</summary>")[0] for part in html.split('id="entries-heading"')[1].split("<summary>")[1:]]
    station_summaries = [text for text in summaries if "站点" in text or "STATION" in text]
    assert len(station_summaries) == 2 and not any("走访" in text for text in station_summaries)

    body = login("gx-finance").get(f"/api/v1/settlements/{statement_id}").get_json()
    [api_line] = [line for line in body["deductions"] if line["kind"] == "deduction_staffing"]
    assert api_line["amount_fen"] == 23_809 and api_line["staffing"]["missing"] == 5
    assert [d["day"] for d in api_line["staffing"]["short_days"]] == [d.isoformat() for d in SHORT]
    [paying] = [line for line in body["lines"] if line.get("station_ids")]
    assert paying["station_ids"] == [w["stations"]["S1"], w["stations"]["S2"]]


def test_full_staffing_gives_no_deduction_line(app, demo):
    w = world(app)
    st.check_in(app, w["stations"]["S1"], w["staff"]["w2"], SHORT)
    statement_id = sw.prepare(app, w, MONTH)
    assert lines(app, statement_id, "deduction_staffing") == []
    assert sw.statement_row(app, statement_id) == ("draft", 400_000, 0, 400_000)


def test_a_draft_goes_stale_when_a_counted_check_in_changes(app, demo):
    from portal.billing import workflow
    from portal.billing.models import Statement
    w = world(app)
    statement_id = sw.prepare(app, w, MONTH, by="gx-officer")
    assert not stale(app, statement_id)
    # a flagged check-in on a short day counts for nothing: the draft stands
    flagged = st.check_in(app, w["stations"]["S1"], w["staff"]["w2"], SHORT[:1], status="flagged")
    assert not stale(app, statement_id)
    # a supervisor accepts it: one staff-day more, the draft is stale and cannot be sent
    st.set_status(app, flagged, "accepted")
    assert stale(app, statement_id)
    with app.app_context(), sw.scope(app):
        with pytest.raises(workflow.StaleStatement):
            workflow.send_to_contractor(db.session.get(Statement, statement_id), sw.user("gx-officer"))
        db.session.rollback()
    statement_id = sw.prepare(app, w, MONTH, by="gx-officer")
    [deduction] = lines(app, statement_id, "deduction_staffing")
    assert deduction["amount"] == 200_000 * 4 // 42 and deduction["details"]["missing"] == 4
    assert not stale(app, statement_id)
    # one short day traded for another: the same amount, other days behind it — stale all the same
    st.set_status(app, st.checkins_of(app, w["staff"]["w1"], date(2026, 4, 1)), "rejected")
    st.check_in(app, w["stations"]["S1"], w["staff"]["w2"], SHORT[1:2], status="accepted")
    assert stale(app, statement_id)
    statement_id = sw.prepare(app, w, MONTH, by="gx-officer")
    [deduction] = lines(app, statement_id, "deduction_staffing")
    assert deduction["amount"] == 200_000 * 4 // 42 and deduction["details"]["missing"] == 4
    assert [d["day"] for d in deduction["details"]["short_days"]] == ["2026-04-01"] + [d.isoformat() for d in SHORT[2:]]


def test_an_approved_statement_never_changes_and_no_later_month_deducts_it_again(app, demo):
    from portal.billing.models import Statement
    w = world(app)
    sw.finance_colleague(app)
    approved_id = sw.approved(app, w, MONTH)
    before = lines(app, approved_id)
    assert sw.statement_row(app, approved_id) == ("approved", 400_000, 23_809, 376_191)
    # presence corrected afterwards: the approved statement stays as it was
    st.check_in(app, w["stations"]["S1"], w["staff"]["w2"], SHORT, status="accepted")
    assert sw.prepare(app, w, MONTH) == approved_id
    assert lines(app, approved_id) == before
    assert sw.statement_row(app, approved_id) == ("approved", 400_000, 23_809, 376_191)
    # May deducts May's shortfall only (nobody checked in in May): no April day behind it
    may_id = sw.prepare(app, w, "2026-05")
    may = lines(app, may_id, "deduction_staffing")
    days = [d["day"] for line in may for d in line["details"]["short_days"]]
    assert days and all(day.startswith("2026-05") for day in days)
    assert {line["details"]["station_code"] for line in may} == {"T-ST-01", "T-ST-02"}
    with app.app_context(), sw.scope(app):
        assert db.session.get(Statement, approved_id).status == "approved"


def test_one_statement_per_contract_and_month_so_a_shortfall_is_deducted_once(app, demo):
    """billing/staffing.py rests "deducted once" on one statement per contract and month: the
    database refuses a second one, and preparing again recomputes the same statement."""
    from portal.billing.models import Statement
    w = world(app)
    constraints = {tuple(sorted(c.name for c in constraint.columns))
                   for constraint in Statement.__table__.constraints if constraint.__class__.__name__ == "UniqueConstraint"}
    assert ("contract_id", "month") in constraints
    first = sw.prepare(app, w, MONTH)
    assert sw.prepare(app, w, MONTH) == first
    assert len(lines(app, first, "deduction_staffing")) == 1
    with app.app_context(), sw.scope(app):
        original = db.session.get(Statement, first)
        db.session.add(Statement(contract_id=w["contract"], month=MONTH, number=f"{original.number}-2", status="draft",
                                 tenant_id=original.tenant_id, computed_at=utcnow()))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        assert len(db.session.scalars(select(Statement).where(Statement.contract_id == w["contract"],
                                                              Statement.month == MONTH)).all()) == 1


def test_a_contract_with_no_station_month_item_has_no_station_lines(app, demo):
    w = world(app)
    other = make_contract(app, "ganxian", "a-manager", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                          items=(VISIT_ITEM,))
    st.station(app, "T-ST-05", "测试无站点服务项站点", 2, other)  # staffed by nobody at all
    statement_id = sw.prepare(app, {**w, "contract": other}, MONTH)
    assert [line["kind"] for line in lines(app, statement_id)] == ["service"]
    assert sw.statement_row(app, statement_id) == ("draft", 0, 0, 0)


def test_a_station_the_monthly_cap_leaves_unpaid_is_not_deducted_from(app, demo):
    """billing/staffing.py: only a station the station-month line pays is deducted from. T-ST-02
    is short two days; with a monthly cap of one station only T-ST-01 (first by code) is paid,
    and only T-ST-01's shortfall is deducted."""
    from portal.contracts.models import ServiceItem
    w = world(app)
    short = [d for d in working_days() if d not in SHORT][:2]
    st.set_status(app, [i for day in short for i in st.checkins_of(app, w["staff"]["w3"], day)], "rejected")
    statement_id = sw.prepare(app, w, MONTH)
    assert {line["details"]["station_code"] for line in lines(app, statement_id, "deduction_staffing")} == \
        {"T-ST-01", "T-ST-02"}
    with app.app_context(), sw.scope(app):
        db.session.get(ServiceItem, w["station_item"]).monthly_cap = 1
        db.session.commit()
    statement_id = sw.prepare(app, w, MONTH)
    [line] = station_line(app, statement_id, w)
    assert (line["units"], line["verified"], line["details"]["unpaid_count"]) == (1, 2, 1)
    [deduction] = lines(app, statement_id, "deduction_staffing")
    assert (deduction["details"]["station_code"], deduction["amount"]) == ("T-ST-01", 23_809)
    assert sw.statement_row(app, statement_id) == ("draft", 200_000, 23_809, 200_000 - 23_809)
