"""A station given to another staffing contract (docs/DOMAIN.md §6 "Stations and training", §8;
stations/compliance.py, stations/stations.py, billing/staffing.py): presence counts only for the
station's own contractor's roster members, the contract does not change while a month of counted
presence under it waits for an approved statement, and a station-month paid on one contract's
statement is not paid again on another's for the same month.

Station T-MV-01 (1 staff) is staffed by A's contract X in April 2026: a-worker1 posted there until
30 April and checked in every working day (21). X's April statement pays it. Contract Y is B's."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.extensions import db
from tests import settlement_world as sw
from tests import staffing_world as st
from tests import support
from tests.beneficiary_world import make_contract, staff_of
from tests.test_billing_stations import STATION_ITEM, working_days

pytestmark = pytest.mark.usefixtures("own_queue")

MONTH = "2026-04"
FORM = {"code": "T-MV-01", "name": "测试换合同站点", "kind": "township", "township": "梅林镇", "address": "梅林镇政府院内",
        "lat": "25.861", "lon": "115.012", "radius_m": "", "required_staff": "1", "active": "y", "opened_on": "2024-01-01"}


def _contract(app, manager):
    from portal.contracts.models import ServiceItem
    contract_id = make_contract(app, "ganxian", manager, starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
                                items=(STATION_ITEM,))
    with app.app_context(), sw.scope(app):
        item = db.session.execute(select(ServiceItem).where(ServiceItem.contract_id == contract_id)).scalar_one()
        item.unit_price_fen, item.quota = st.STATION_PRICE, 240
        db.session.commit()
        return contract_id, item.id


@support.once_per_run(on="demo")
def world(app):
    x, x_item = _contract(app, "a-manager")
    y, y_item = _contract(app, "b-manager")
    station = st.station(app, "T-MV-01", "测试换合同站点", 1, x)
    worker = staff_of(app, "a-worker1")
    st.post(app, station, worker, date(2026, 1, 1), date(2026, 4, 30))
    st.check_in(app, station, worker, working_days())
    return {"x": x, "x_item": x_item, "y": y, "y_item": y_item, "station": station, "worker": worker}


def _station_line(app, statement_id, item_id):
    from portal.billing.models import StatementLine
    with app.app_context(), sw.scope(app):
        [line] = db.session.scalars(select(StatementLine).where(StatementLine.statement_id == statement_id,
                                                                StatementLine.service_item_id == item_id,
                                                                StatementLine.kind == "service")).all()
        return {"units": line.units, "verified": line.verified_units, "amount": line.amount_fen,
                "details": line.details}


def _number(app, statement_id):
    from portal.billing.models import Statement
    with app.app_context(), sw.scope(app):
        return db.session.get(Statement, statement_id).number


def _move(client, w, contract):
    return support.form_post(client, f"/stations/{w['station']}/edit", {**FORM, "contract_id": str(contract)})


def _station_contract(app, w):
    from portal.stations.models import Station
    with app.app_context(), sw.scope(app):
        return db.session.get(Station, w["station"]).contract_id


def test_a_station_month_paid_on_one_contract_is_not_paid_again_on_another(app, demo, login):
    w = world(app)
    officer = login("gx-officer")
    # April's presence counts for X and no approved statement settles it: the contract stays
    refused = _move(officer, w, w["y"])
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="contract_id-error"' in page and "2026-04" in page and "尚未列入已审核的结算单" in page
    assert _station_contract(app, w) == w["x"]

    sw.finance_colleague(app)
    x_april = sw.approved(app, {"contract": w["x"]}, MONTH)
    paid = _station_line(app, x_april, w["x_item"])
    assert (paid["units"], paid["amount"]) == (1, st.STATION_PRICE)
    assert [s["id"] for s in paid["details"]["stations"]] == [w["station"]]

    # April settled: the station goes to Y
    assert _move(officer, w, w["y"]).status_code == 302
    assert _station_contract(app, w) == w["y"]

    # Y's April statement does not pay the station-month X was paid for, and says why
    y_april = sw.prepare(app, {"contract": w["y"]}, MONTH)
    line = _station_line(app, y_april, w["y_item"])
    assert (line["units"], line["verified"], line["amount"]) == (0, 0, 0)
    assert line["details"]["stations"] == []
    [left_out] = line["details"]["paid_elsewhere"]
    assert (left_out["id"], left_out["code"], left_out["statement"]) == (w["station"], "T-MV-01",
                                                                         _number(app, x_april))
    html = login("gx-officer").get(f"/billing/{y_april}").get_data(as_text=True)
    assert f'class="line-paid-elsewhere" data-station="{w["station"]}"' in html and "未计入：T-MV-01 测试换合同站点" in html


def test_presence_counts_only_for_the_stations_own_contractor(app, demo):
    """A's worker checked in all April while the station was X's; once the station is Y's (B's),
    that presence is not B's: April shows nobody present under Y."""
    from portal.stations.compliance import station_month
    from portal.stations.models import Station
    w = world(app)
    with app.app_context(), sw.scope(app):
        station = db.session.get(Station, w["station"])
        assert station_month(station, date(2026, 4, 1)).staff_days_present == 21
        station.contract_id = w["y"]
        db.session.commit()
    with app.app_context(), sw.scope(app):
        row = station_month(db.session.get(Station, w["station"]), date(2026, 4, 1))
        assert (row.staff_days_required, row.staff_days_present) == (21, 0)
