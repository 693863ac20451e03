"""What a station's month counts, by date (the tester's walk of issue 19): the current month
through yesterday only (today is not over); no day before the station opened; no staff required
of a station without a staffing contract; the required staff in force on each day, so a change
never rewrites a settled month."""
from datetime import date, timedelta

import pytest

from portal.core.months import first_day
from portal.core.timeutil import local_today
from tests import station_world as sw


@pytest.fixture
def world(app):
    return sw.station_world(app)


class EveryDay:
    """A calendar on which every day is a working day."""

    def is_working_day(self, day):
        return True


def _station(code, world):
    from portal.extensions import db
    from portal.stations.models import Station
    return db.session.get(Station, world["stations"][code])


def test_the_current_month_counts_through_yesterday_not_today(app, world):
    from portal.stations.compliance import station_month, stations_month
    today = local_today()
    with app.app_context(), sw.scope(app):
        for row in (station_month(_station("TS-01", world), first_day(today), calendar=EveryDay()),
                    next(r for r in stations_month(first_day(today), calendar=EveryDay())
                         if r.station.code == "TS-01")):
            assert today not in row.days
            expected = [first_day(today) + timedelta(days=n) for n in range(today.day - 1)]
            assert row.days == expected


def test_no_day_before_the_station_opened_counts(app, world, login, client, api_token):
    from portal.extensions import db
    with app.app_context(), sw.scope(app):
        _station("TS-01", world).opened_on = date(2025, 10, 15)
        db.session.commit()
    sw.check_in(app, world, "a-worker1", sw.october(14))  # posted, but before the station opened
    items = client.get("/api/v1/stations?month=2025-10", headers=api_token("gx-officer")).get_json()["items"]
    [item] = [i for i in items if i["id"] == world["stations"]["TS-01"]]
    later = [d for d in sw.OCTOBER_WORKING_DAYS if d >= 15]
    assert (item["staff_days_required"], item["staff_days_present"]) == (2 * len(later), 0)
    page = login("gx-officer").get(f"/stations/{world['stations']['TS-01']}?month=2025-10").get_data(as_text=True)
    assert '<dd id="working-days">%d</dd>' % len(later) in page and '<dd id="opened-on">2025-10-15</dd>' in page


def test_a_station_without_a_staffing_contract_requires_no_staff(app, world, login):
    from portal.stations.compliance import stations_month
    with app.app_context(), sw.scope(app):
        [row] = [r for r in stations_month(sw.OCTOBER) if r.station.code == "TS-02"]
        assert (row.days, row.staff_days_required, row.staff_days_missing, row.compliance) == ([], 0, 0, None)
    officer = login("gx-officer")
    page = officer.get("/stations/compliance?month=2025-10").get_data(as_text=True)
    row = page.split(f'id="compliance-{world["stations"]["TS-02"]}"')[1].split("</tr>")[0]
    assert "无驻站合同" in row and "0 %" not in row and "0.0 %" not in row
    station_page = officer.get(f"/stations/{world['stations']['TS-02']}?month=2025-10").get_data(as_text=True)
    assert 'id="no-contract"' in station_page


def test_a_new_station_opens_today_by_default_and_its_opening_day_is_checked(app, world, login):
    from portal.extensions import db
    from portal.stations.models import Station
    from sqlalchemy import select
    from tests import support
    officer = login("gx-officer")
    assert f'value="{local_today().isoformat()}"' in officer.get("/stations/new").get_data(as_text=True)
    form = {"code": "TS-OPEN", "name": "开站测试站", "kind": "township", "township": "韩坊镇", "address": "",
            "lat": "25.7", "lon": "115.1", "radius_m": "", "required_staff": "1", "contract_id": "", "active": "y",
            "opened_on": "1999-12-31"}
    refused = support.form_post(officer, "/stations/new", form)
    assert refused.status_code == 422 and 'id="opened_on-error"' in refused.get_data(as_text=True)
    assert support.form_post(officer, "/stations/new", {**form, "opened_on": "2025-03-01"}).status_code == 302
    with app.app_context(), sw.scope(app):
        made = db.session.execute(select(Station).where(Station.code == "TS-OPEN")).scalar_one()
        assert made.opened_on == date(2025, 3, 1)
        db.session.add(Station(code="TS-DEF", name="默认", kind="township", lat=25.7, lon=115.1, required_staff=1))
        db.session.commit()
        assert db.session.execute(select(Station.opened_on).where(Station.code == "TS-DEF")).scalar() == local_today()


def test_a_change_of_required_staff_takes_effect_from_its_day_and_never_rewrites_a_sent_month(app, world, login,
                                                                                             client, api_token):
    from portal.stations.compliance import stations_month
    from tests import support
    from tests.test_station_settled_months import _sent
    _sent(app, world)  # October 2025's statement is sent with 2 staff required
    officer = login("gx-officer")
    station_id = world["stations"]["TS-01"]
    form = {"code": "TS-01", "name": "梅林镇社工站", "kind": "township", "township": "梅林镇", "address": "",
            "lat": "25.88", "lon": "115.04", "radius_m": "200", "required_staff": "3",
            "contract_id": str(world["contract"]), "active": "y", "opened_on": "2025-01-01"}
    assert 'name="required_from"' in officer.get(f"/stations/{station_id}/edit").get_data(as_text=True)
    refused = support.form_post(officer, f"/stations/{station_id}/edit", {**form, "required_from": "2025-10-20"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'id="required_from-error"' in page and "2025-10 的结算单已送出" in page
    done = support.form_post(officer, f"/stations/{station_id}/edit", {**form, "required_from": "2025-11-03"})
    assert done.status_code == 302
    with app.app_context(), sw.scope(app):
        assert _station("TS-01", world).required_staff == 3
        october, = [r for r in stations_month(sw.OCTOBER, calendar=EveryDay()) if r.station.code == "TS-01"]
        assert october.staff_days_required == 2 * 31 and october.required_staff == 2
        november, = [r for r in stations_month(date(2025, 11, 1), calendar=EveryDay()) if r.station.code == "TS-01"]
        assert november.staff_days_required == 2 * 2 + 3 * 28 and november.required_staff == 3
        short = {d["day"]: d["required"] for d in november.short_days}
        assert (short["2025-11-02"], short["2025-11-03"]) == (2, 3)
    items = client.get("/api/v1/stations?month=2025-10", headers=api_token("gx-officer")).get_json()["items"]
    [item] = [i for i in items if i["id"] == station_id]
    assert (item["required_staff"], item["staff_days_required"]) == (2, 2 * 18)
    items = client.get("/api/v1/stations?month=2025-11", headers=api_token("gx-officer")).get_json()["items"]
    [item] = [i for i in items if i["id"] == station_id]
    assert item["required_staff"] == 3
