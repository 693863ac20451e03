"""Target-group service logs (docs/DOMAIN.md §2.4, §6): recorded by the station's contractor's
manager and its field workers posted there that day (one of the eight target groups, a service,
people ≥ 1, volunteers ≥ 0, counts only), counted per station and group for the month on a page
and in Excel, read by whoever may read the station."""
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from portal.core.months import month_text
from portal.core.timeutil import local_today
from tests import station_world as sw
from tests import support


@pytest.fixture
def world(app):
    return sw.station_world(app)


def _log(client, world, station="TS-01", fields=None, **values):
    data = {"station": str(world["stations"][station]), "day": local_today().isoformat(), "target_group": "tekun",
            "service": "政策宣传与走访慰问", "people": "12", "volunteers": "3", **values, **(fields or {})}
    return support.form_post(client, "/stations/logs/new", data)


def test_logs_are_counted_per_station_and_group(app, world, login):
    manager = login("a-manager", tenant="ganxian")
    worker = login("a-worker1")
    assert _log(manager, world).status_code == 302
    assert _log(worker, world, target_group="tekun", people="5", volunteers="0").status_code == 302
    assert _log(worker, world, target_group="orphan", people="2", volunteers="1", service="课业辅导").status_code == 302
    assert _log(manager, world, station="TS-HUB", target_group="disabled", people="7").status_code == 302
    month = month_text(local_today())
    page = login("gx-officer").get(f"/stations/logs?month={month}").get_data(as_text=True)
    row = page.split(f'id="counts-{world["stations"]["TS-01"]}"')[1].split("</tr>")[0]
    assert '<td class="num" data-group="tekun">17</td>' in row and '<td class="num" data-group="orphan">2</td>' in row
    assert '<td class="num people">19</td>' in row and '<td class="num volunteers">4</td>' in row
    assert '<td class="num logs">3</td>' in row
    total = page.split('id="counts-total"')[1].split("</tr>")[0]
    assert '<td class="num" data-group="disabled">7</td>' in total
    assert "特困人员" in page and "孤儿" in page  # the beneficiaries' own words for the groups
    export = login("gx-officer").get(f"/stations/logs.xlsx?month={month}")
    book = load_workbook(io.BytesIO(export.data))
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    ts01 = next(r for r in rows if r[0] == "TS-01")
    assert ts01[2:] == [0, 17, 0, 0, 2, 0, 0, 0, 19, 4, 3]  # the eight groups in the order of CATEGORIES
    detail = [list(r) for r in book.worksheets[1].iter_rows(values_only=True)]
    assert ["TS-01", "梅林镇社工站", "孤儿", 1, 2, 1] in detail
    earlier = month_text((local_today().replace(day=1) - timedelta(days=1)))
    assert 'id="counts-total"' not in login("gx-officer").get(f"/stations/logs?month={earlier}").get_data(as_text=True)


def test_who_records_logs_where(app, world, login):
    # a worker not posted to the station that day, and another contractor's people, are refused
    worker = login("a-worker1")
    assert _log(worker, world, station="TS-HUB").status_code == 422
    assert _log(worker, world, day=(sw.POSTED_FROM - timedelta(days=1)).isoformat()).status_code == 422
    assert _log(worker, world, day=(local_today() + timedelta(days=1)).isoformat()).status_code == 422
    other = login("b-worker1")
    page = other.get("/stations/logs/new")
    assert page.status_code == 200 and 'id="no-station"' in page.get_data(as_text=True)
    assert _log(login("b-manager", tenant="ganxian"), world).status_code == 422
    assert login("gx-officer").get("/stations/logs/new").status_code == 403


@pytest.mark.parametrize("change, field_name", [
    ({"people": "0"}, "people"), ({"volunteers": "-1"}, "volunteers"), ({"target_group": "royalty"}, "target_group"),
    ({"service": ""}, "service"), ({"people": "many"}, "people"), ({"station": "999999"}, "station")])
def test_a_refused_log_says_why_on_its_field(app, world, login, change, field_name):
    response = _log(login("a-manager", tenant="ganxian"), world, fields=change)
    assert response.status_code == 422
    assert f'id="{field_name}-error"' in response.get_data(as_text=True)


def test_each_reader_sees_the_logs_of_their_stations(app, world, login):
    _log(login("a-manager", tenant="ganxian"), world)
    month = month_text(local_today())
    for username, sees in (("gx-supervisor", True), ("a-worker1", True), ("b-manager", False),
                           ("a-worker2", True), ("b-worker1", False)):
        client = login(username, tenant="ganxian") if username.endswith("manager") else login(username)
        page = client.get(f"/stations/logs?month={month}")
        assert page.status_code == 200
        assert (f'id="counts-{world["stations"]["TS-01"]}"' in page.get_data(as_text=True)) is sees, username
