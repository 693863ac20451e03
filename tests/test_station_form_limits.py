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
