"""What the station, training and service-log forms refuse (the tester's walk of issue 19): a
contract id that is none of those listed, a station code differing only in case, a second active
district hub; training days out of range and a year out of range; a service log before the
station opened."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.core.timeutil import local_today
from tests import station_world as sw
from tests import support

FORM = {"code": "TS-NEW", "name": "新站", "kind": "township", "township": "韩坊镇", "address": "", "lat": "25.7",
        "lon": "115.1", "radius_m": "", "required_staff": "1", "contract_id": "", "active": "y",
        "opened_on": "2025-01-01"}


@pytest.fixture
def world(app):
    return sw.station_world(app)


def _codes(app):
    from portal.extensions import db
    from portal.stations.models import Station
    with app.app_context(), sw.scope(app):
        return set(db.session.scalars(select(Station.code)))


@pytest.mark.parametrize("contract_id", ["abc", "99999999999999999999", "0", "-1"])
def test_a_contract_not_listed_is_refused_on_the_form(app, world, login, contract_id):
    response = support.form_post(login("gx-officer"), "/stations/new", {**FORM, "contract_id": contract_id})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="contract_id-error"' in html and "请从所列合同中选择" in html
    assert "TS-NEW" not in _codes(app)


def test_codes_are_unique_without_regard_to_case_and_a_bureau_has_one_active_hub(app, world, login):
    officer = login("gx-officer")
    same = support.form_post(officer, "/stations/new", {**FORM, "code": "ts-01"})
    assert same.status_code == 422 and 'id="code-error"' in same.get_data(as_text=True)
    hub = support.form_post(officer, "/stations/new", {**FORM, "kind": "hub"})
    assert hub.status_code == 422 and 'id="kind-error"' in hub.get_data(as_text=True)
    assert "区总站" in hub.get_data(as_text=True)
    closed_hub = support.form_post(officer, "/stations/new", {**FORM, "kind": "hub", "active": ""})
    assert closed_hub.status_code == 302  # a closed one is no second active hub
    assert {"ts-01", "TS-NEW"} & _codes(app) == {"TS-NEW"}


def test_training_days_and_years_out_of_range_are_refused(app, world, login):
    officer = login("gx-officer")
    form = {"topic": "范围测试", "mode": "online", "trainer": "赵老师", "hours": "2", "contract_id": "",
            "station_id": "", "notes": ""}
    for held_on in ("9999-12-31", "1900-01-01", (local_today() + timedelta(days=400)).isoformat()):
        refused = support.form_post(officer, "/training/new", {**form, "held_on": held_on})
        assert refused.status_code == 422, held_on
        assert 'id="held_on-error"' in refused.get_data(as_text=True) and "之间的日期" in refused.get_data(as_text=True)
    assert support.form_post(officer, "/training/new", {**form, "held_on": local_today().isoformat()}).status_code == 302
    page = officer.get("/training/?year=9999").get_data(as_text=True)
    assert "请填写 2000 至 2099 之间的年份" in page and "请按 YYYY 格式填写年份" not in page
    assert "请按 YYYY 格式填写年份" in officer.get("/training/?year=20x6").get_data(as_text=True)


def test_a_service_log_before_the_station_opened_is_refused(app, world, login):
    from portal.extensions import db
    from portal.stations.models import Station
    with app.app_context(), sw.scope(app):
        db.session.get(Station, world["stations"]["TS-01"]).opened_on = date(2025, 6, 1)
        db.session.commit()
    manager = login("a-manager", tenant="ganxian")
    page = manager.get("/stations/logs/new").get_data(as_text=True)
    token = support.csrf_token_from(page)
    data = {"csrf_token": token, "station": str(world["stations"]["TS-01"]), "target_group": "dibao",
            "service": "政策宣讲", "people": "3", "volunteers": "0"}
    for day in ("1900-01-01", "2025-05-30"):
        refused = manager.post("/stations/logs/new", data={**data, "day": day})
        assert refused.status_code == 422 and "本站点于 2025-06-01 启用" in refused.get_data(as_text=True), day
    assert manager.post("/stations/logs/new", data={**data, "day": "2025-06-02"}).status_code == 302
