"""The station pages (docs/DOMAIN.md §2.4, §6): setting a station up and changing it (admin and
officers only, each refusal on its field), the list with its filters, a station's month (figures,
short days, postings, check-ins with the flagged ones marked, service logs; never a worker's
position), the compliance page with its chart and Excel copy, and who reaches which."""
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests import station_world as sw
from tests import support

FORM = {"code": "TS-03", "name": "韩坊镇社工站", "kind": "township", "township": "韩坊镇", "address": "韩坊镇人民政府院内",
        "lat": "25.7000", "lon": "115.1000", "radius_m": "", "required_staff": "2", "contract_id": "",
        "active": "y", "opened_on": "2025-01-01"}


@pytest.fixture
def world(app):
    return sw.station_world(app)


def _station(app, code):
    from portal.extensions import db
    from portal.stations.models import Station
    with app.app_context(), sw.scope(app):
        station = db.session.execute(select(Station).where(Station.code == code)).scalar_one_or_none()
        return None if station is None else {k: getattr(station, k) for k in (
            "id", "name", "kind", "township", "lat", "lon", "radius_m", "required_staff", "contract_id", "active")}


def test_an_officer_sets_up_a_station_and_changes_it(app, world, login):
    officer = login("gx-officer")
    form_page = officer.get("/stations/new").get_data(as_text=True)
    assert f'value="{world["contract"]}"' in form_page  # the staffing contract is offered
    made = support.form_post(officer, "/stations/new", {**FORM, "contract_id": str(world["contract"])})
    assert made.status_code == 302
    station = _station(app, "TS-03")
    assert made.headers["Location"].endswith(f"/stations/{station['id']}")
    assert (station["required_staff"], station["radius_m"], station["contract_id"], station["active"]) == \
        (2, None, world["contract"], True)
    assert station["lat"] == pytest.approx(25.7)
    changed = support.form_post(officer, f"/stations/{station['id']}/edit",
                                {**FORM, "required_staff": "1", "radius_m": "150", "name": "韩坊镇社会工作服务站"})
    assert changed.status_code == 302
    assert (_station(app, "TS-03")["required_staff"], _station(app, "TS-03")["radius_m"]) == (1, 150)
    assert _station(app, "TS-03")["contract_id"] is None


@pytest.mark.parametrize("change, field_name", [
    ({"required_staff": "21"}, "required_staff"), ({"required_staff": "0"}, "required_staff"),
    ({"lat": "95"}, "lat"), ({"lat": "north"}, "lat"), ({"code": "TS-01"}, "code"), ({"code": ""}, "code"),
    ({"radius_m": "5"}, "radius_m"), ({"contract_id": "999999"}, "contract_id"), ({"kind": "palace"}, "kind")])
def test_a_refused_station_says_why_on_its_field(app, world, login, change, field_name):
    response = support.form_post(login("gx-officer"), "/stations/new", {**FORM, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field_name}-error"' in page, page[page.find("field-error") - 300:page.find("field-error") + 200]
    assert _station(app, "TS-03") is None


def test_a_contract_not_paid_by_the_station_month_is_not_offered(app, world, login):
    from tests.beneficiary_world import make_contract
    care = make_contract(app, "ganxian", "b-manager")
    page = login("gx-officer").get("/stations/new").get_data(as_text=True)
    assert f'value="{care}"' not in page
    response = support.form_post(login("gx-officer"), "/stations/new", {**FORM, "contract_id": str(care)})
    assert response.status_code == 422 and 'id="contract_id-error"' in response.get_data(as_text=True)


def test_moving_a_staffed_station_to_another_contractor_waits_for_its_postings_to_end(app, world, login):
    from tests.beneficiary_world import make_contract
    other = make_contract(app, "ganxian", "b-manager", items=(("STATION-B", "驻站", "station_month", None, None, False),))
    edit = f"/stations/{world['stations']['TS-01']}/edit"
    values = {**FORM, "code": "TS-01", "name": "梅林镇社工站", "contract_id": str(other)}
    response = support.form_post(login("gx-officer"), edit, values)
    assert response.status_code == 422 and 'id="contract_id-error"' in response.get_data(as_text=True)


def test_only_admin_and_officers_set_stations_up(app, world, login):
    for username in ("gx-supervisor", "gx-finance"):
        assert login(username).get("/stations/new").status_code == 403
    assert login("a-manager", tenant="ganxian").get("/stations/new").status_code == 403
    assert login("gx-admin").get("/stations/new").status_code == 200
    assert login("gx-officer").get(f"/stations/{world['stations']['ZG-01']}/edit").status_code == 404


def test_the_list_filters_and_shows_each_reader_their_stations(app, world, login):
    officer = login("gx-officer")
    page = officer.get("/stations/").get_data(as_text=True)
    assert all(f'id="station-{world["stations"][c]}"' in page for c in ("TS-HUB", "TS-01", "TS-02"))
    assert "章贡区" not in page
    hubs = officer.get("/stations/?kind=hub").get_data(as_text=True)
    assert f'id="station-{world["stations"]["TS-HUB"]}"' in hubs and f'id="station-{world["stations"]["TS-01"]}"' not in hubs
    found = officer.get("/stations/?q=王母渡").get_data(as_text=True)
    assert f'id="station-{world["stations"]["TS-02"]}"' in found and f'id="station-{world["stations"]["TS-01"]}"' not in found
    assert officer.get("/stations/?q=%25_").status_code == 200
    mine = login("a-manager", tenant="ganxian").get("/stations/").get_data(as_text=True)
    assert f'id="station-{world["stations"]["TS-01"]}"' in mine and f'id="station-{world["stations"]["TS-02"]}"' not in mine
    assert login("a-manager", tenant="ganxian").get(f"/stations/{world['stations']['TS-02']}").status_code == 404
    assert login("a-worker1").get("/stations/").status_code == 403


def test_a_stations_month_shows_figures_short_days_and_marks_flagged_check_ins(app, world, login):
    sw.check_in(app, world, "a-worker1", sw.october(9))
    flagged_id, _status = sw.check_in(app, world, "a-worker2", sw.october(9), offset_m=700)
    page = login("gx-supervisor").get(f"/stations/{world['stations']['TS-01']}?month=2025-10").get_data(as_text=True)
    assert '<dd id="staff-days-required">36</dd>' in page and '<dd id="staff-days-present">1</dd>' in page
    assert '<dd id="staff-days-missing">35</dd>' in page and '<dd id="compliance">2.78 %</dd>' in page
    assert "<td>2025-10-09</td><td class=\"num\">1</td><td class=\"num\">2</td>" in page
    assert f'id="checkin-{flagged_id}" class="checkin-flagged"' in page
    assert f'/stations/check-ins/{flagged_id}/decision' in page  # the supervisor decides from here
    assert str(sw.STATION_AT["TS-01"][0] + 700 / 111_320)[:8] not in page  # never the worker's position
    other = login("gx-officer").get(f"/stations/{world['stations']['TS-01']}?month=2025-10").get_data(as_text=True)
    assert f'/stations/check-ins/{flagged_id}/decision' not in other
    bad = login("gx-officer").get(f"/stations/{world['stations']['TS-01']}?month=2025-99")
    assert bad.status_code == 200 and 'id="month-message"' in bad.get_data(as_text=True)


def test_the_compliance_page_chart_and_excel(app, world, login):
    for day in (9, 10):
        sw.check_in(app, world, "a-worker1", sw.october(day))
    officer = login("gx-officer")
    page = officer.get("/stations/compliance?month=2025-10").get_data(as_text=True)
    ts01 = world["stations"]["TS-01"]
    assert f'id="compliance-{ts01}"' in page and 'id="compliance-chart"' in page
    assert f'href="/stations/{ts01}?month=2025-10"' in page
    assert '<td class="num present">2</td>' in page and '<td class="num percent">5.56 %</td>' in page
    assert "<script" not in page.split('id="compliance-chart"')[1].split("</svg>")[0]
    export = officer.get("/stations/compliance.xlsx?month=2025-10")
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(export.data))
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    ts01_row = next(r for r in rows if r[0] == "TS-01")
    assert ts01_row[4:] == [2, 18, 36, 2, 34, "5.56"]
    short = [list(r) for r in book.worksheets[1].iter_rows(values_only=True)]
    assert ["TS-01", "梅林镇社工站", "2025-10-09", 1, 2] in short and len([r for r in short if r[0] == "TS-01"]) == 18
    mine = login("a-manager", tenant="ganxian").get("/stations/compliance?month=2025-10").get_data(as_text=True)
    assert f'id="compliance-{ts01}"' in mine and f'id="compliance-{world["stations"]["TS-02"]}"' not in mine
    assert login("b-manager", tenant="ganxian").get("/stations/compliance").status_code == 200
    assert login("a-worker1").get("/stations/compliance").status_code == 403
    assert login("city-auditor", tenant="ganxian").get("/stations/compliance?month=2025-10").status_code == 200
    assert 'id="month-message"' in officer.get("/stations/compliance?month=2025-13").get_data(as_text=True)


def test_the_navigation_leads_each_role_to_its_station_pages(app, world, login):
    expected = {"gx-officer": ("/stations/", "/stations/compliance"), "gx-admin": ("/stations/", "/stations/compliance"),
                "gx-supervisor": ("/stations/compliance", "/stations/check-ins/flagged"),
                "a-manager": ("/stations/", "/stations/compliance", "/stations/logs"),
                "a-worker1": ("/field/stations/",)}
    for username, paths in expected.items():
        client = login(username, tenant="ganxian") if username == "a-manager" else login(username)
        home = client.get("/", follow_redirects=True).get_data(as_text=True)  # a worker's home is /field/
        for path in paths:
            assert f'href="{path}"' in home, (username, path)
            assert client.get(path).status_code == 200, (username, path)
