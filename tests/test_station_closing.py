"""A station closed today (docs/DOMAIN.md §6 "Stations and training", §8; stations/compliance.py,
stations/stations.py): closing it through the form ends its postings today, and the months it
was staffed stay as they were — last month's draft, recomputed, still pays the station and
deducts its shortfall; the compliance page and GET /api/v1/stations still show it for last month;
this month counts its days up to today only.

Station T-CL-01 requires 2 staff; a-worker1 checks in every working day of last month, a-worker2
every one but the first two."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.core.months import first_day, month_text
from portal.core.timeutil import local_today
from portal.extensions import db
from tests import settlement_world as sw
from tests import staffing_world as st
from tests import support
from tests.beneficiary_world import make_contract, staff_of
from tests.test_billing_stations import STATION_ITEM, working_days

pytestmark = pytest.mark.usefixtures("own_queue")

FORM = {"code": "T-CL-01", "name": "测试撤站站点", "kind": "township", "township": "梅林镇", "address": "梅林镇政府院内",
        "lat": "25.861", "lon": "115.012", "radius_m": "", "required_staff": "2", "opened_on": "2024-01-01"}


def last_month():
    return month_text(first_day(local_today()) - timedelta(days=1))


@support.once_per_run(on="demo")
def world(app):
    from portal.contracts.models import ServiceItem
    today = local_today()
    contract_id = make_contract(app, "ganxian", "a-manager", starts_on=date(today.year - 1, 1, 1),
                                ends_on=date(today.year + 1, 12, 31), items=(STATION_ITEM,))
    with app.app_context(), sw.scope(app):
        item = db.session.execute(select(ServiceItem).where(ServiceItem.contract_id == contract_id)).scalar_one()
        item.unit_price_fen, item.quota = st.STATION_PRICE, 240
        item_id = item.id
        db.session.commit()
    station = st.station(app, "T-CL-01", "测试撤站站点", 2, contract_id)
    workers = [staff_of(app, "a-worker1"), staff_of(app, "a-worker2")]
    for worker in workers:
        st.post(app, station, worker, date(today.year - 1, 1, 1))
    days = working_days(last_month())
    st.check_in(app, station, workers[0], days)
    st.check_in(app, station, workers[1], days[2:])
    return {"contract": contract_id, "item": item_id, "station": station, "days": len(days)}


def _lines(app, statement_id):
    from portal.billing.models import StatementLine
    with app.app_context(), sw.scope(app):
        return [(line.kind, line.units, line.amount_fen, line.details)
                for line in db.session.scalars(select(StatementLine).where(StatementLine.statement_id == statement_id)
                                               .order_by(StatementLine.position))]


def _postings(app, w):
    from portal.stations.models import StationPosting
    with app.app_context(), sw.scope(app):
        return [p.until_on for p in db.session.scalars(select(StationPosting).where(
            StationPosting.station_id == w["station"]))]


def test_a_station_closed_today_is_still_paid_and_deducted_for_last_month(app, demo, login, client, api_token):
    w = world(app)
    month = last_month()
    required = 2 * w["days"]
    expected = [("service", 1, st.STATION_PRICE),
                ("deduction_staffing", 1, st.STATION_PRICE * 2 // required)]
    draft = sw.prepare(app, w, month)
    assert [line[:3] for line in _lines(app, draft)] == expected

    officer = login("gx-officer")
    closed = support.form_post(officer, f"/stations/{w['station']}/edit", {**FORM, "contract_id": str(w["contract"])})
    assert closed.status_code == 302
    assert _postings(app, w) == [local_today(), local_today()]

    assert sw.prepare(app, w, month) == draft  # recomputed: the same lines
    lines = _lines(app, draft)
    assert [line[:3] for line in lines] == expected
    assert [s["id"] for s in lines[0][3]["stations"]] == [w["station"]]
    assert sw.statement_row(app, draft)[1:] == (st.STATION_PRICE, expected[1][2], st.STATION_PRICE - expected[1][2])

    # the compliance page and the API still show it for last month
    page = officer.get(f"/stations/compliance?month={month}").get_data(as_text=True)
    assert "测试撤站站点" in page
    items = client.get(f"/api/v1/stations?month={month}", headers=api_token("gx-officer")).get_json()["items"]
    [item] = [i for i in items if i["id"] == w["station"]]
    assert (item["staff_days_required"], item["staff_days_present"]) == (required, required - 2)


def test_a_closed_station_counts_no_day_after_its_last_posting(app, demo):
    from portal.stations import stations
    from portal.stations.compliance import stations_month
    from portal.stations.models import Station
    w = world(app)
    today = local_today()
    with app.app_context(), sw.scope(app):
        station = db.session.get(Station, w["station"])
        values = {key: getattr(station, key) for key in stations.FIELDS}
        stations.save_station(station, {**values, "active": False})
        db.session.commit()
    with app.app_context(), sw.scope(app):
        [row] = [r for r in stations_month(first_day(today)) if r.station.id == w["station"]]
        assert all(day <= today for day in row.days)
        last = [r for r in stations_month(date.fromisoformat(last_month() + "-01")) if r.station.id == w["station"]]
        assert len(last) == 1 and len(last[0].days) == w["days"]
        next_month = first_day(first_day(today) + timedelta(days=31))
        assert stations_month(next_month, contract_id=w["contract"], through=next_month) == [], \
            "a closed station has no later month"
