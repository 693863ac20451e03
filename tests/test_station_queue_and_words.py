"""The flagged check-ins for every bureau reader (the auditor read-only) with a status filter, the
decision preview that says when accepting changes nothing, and the station pages' own words (the
tester's walk of issue 19)."""
from datetime import timedelta

import pytest

from portal.core.timeutil import local_today
from tests import station_world as sw
from tests import support


@pytest.fixture
def world(app):
    return sw.station_world(app)


def _decide(client, checkin_id, decision, reason="核实", confirmed=True):
    url = f"/stations/check-ins/{checkin_id}/decision"
    token = support.csrf_token_from(client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "decision": decision, "reason": reason}
    return client.post(url, data={**data, "confirmed": "yes"} if confirmed else data)


def test_the_auditor_reads_the_flagged_check_ins_without_buttons_and_decided_ones_stay_listed(app, world, login):
    accepted, _s = sw.check_in(app, world, "a-worker1", sw.october(9), offset_m=500)
    rejected, _s = sw.check_in(app, world, "a-worker2", sw.october(9), offset_m=700)
    waiting, _s = sw.check_in(app, world, "a-worker1", sw.october(10), offset_m=600)
    supervisor = login("gx-supervisor")
    assert _decide(supervisor, accepted, "accept").status_code == 302
    assert _decide(supervisor, rejected, "reject").status_code == 302
    auditor = login("city-auditor", tenant="ganxian")
    page = auditor.get("/stations/check-ins/flagged")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'id="checkin-{waiting}"' in html and f'id="checkin-{accepted}"' not in html
    assert "/decision" not in html  # read-only: no decision buttons
    assert 'href="/stations/check-ins/flagged"' in auditor.get("/").get_data(as_text=True)
    for status, shown, hidden in (("accepted", accepted, rejected), ("rejected", rejected, accepted)):
        html = auditor.get(f"/stations/check-ins/flagged?status={status}").get_data(as_text=True)
        assert f'id="checkin-{shown}"' in html and f'id="checkin-{hidden}"' not in html
        assert f'id="checkin-{waiting}"' not in html
    everything = auditor.get("/stations/check-ins/flagged?status=all").get_data(as_text=True)
    assert all(f'id="checkin-{i}"' in everything for i in (accepted, rejected, waiting))
    assert "督导已认可（计入）" in everything and "督导已驳回（不计入）" in everything
    assert auditor.get("/stations/check-ins/flagged?status=nonsense").status_code == 200
    assert 'href="/stations/check-ins/' in supervisor.get("/stations/check-ins/flagged").get_data(as_text=True)
    for username in ("a-manager", "a-worker1"):
        assert login(username, tenant="ganxian").get("/stations/check-ins/flagged").status_code == 403


def test_accepting_a_check_in_of_a_day_already_present_says_it_changes_nothing(app, world, login):
    counted, status = sw.check_in(app, world, "a-worker1", sw.october(9), hour=8)
    assert status == "counted"
    flagged, status = sw.check_in(app, world, "a-worker1", sw.october(9), offset_m=500, hour=15)
    assert status == "flagged"
    preview = _decide(login("gx-supervisor"), flagged, "accept", confirmed=False).get_data(as_text=True)
    assert 'id="decision-confirmation"' in preview
    assert "认可不会改变任何结果" in preview and "当天已算在岗" in preview
    other, _s = sw.check_in(app, world, "a-worker2", sw.october(9), offset_m=500)
    fresh = _decide(login("gx-supervisor"), other, "accept", confirmed=False).get_data(as_text=True)
    assert "认可不会改变任何结果" not in fresh


def test_the_station_pages_use_station_words_and_chinese_units(app, world, login):
    field = login("a-worker1", tenant="ganxian").get("/field/stations/").get_data(as_text=True)
    assert "正在加载今日派驻的站点" in field and "正在加载今日服务对象" not in field
    yesterday = local_today() - timedelta(days=1)
    checkin_id, _s = sw.check_in(app, world, "a-worker1", yesterday, offset_m=500, hour=8)
    supervisor = login("gx-supervisor")
    decision = supervisor.get(f"/stations/check-ins/{checkin_id}/decision").get_data(as_text=True)
    assert "±8.0 米" in decision and "m</dd>" not in decision.split('id="accuracy"')[1].split("</dd>")[0] + "</dd>"
    for html in (supervisor.get("/stations/check-ins/flagged").get_data(as_text=True),
                 supervisor.get(f"/stations/{world['stations']['TS-01']}?month={yesterday.isoformat()[:7]}")
                 .get_data(as_text=True)):
        row = html.split(f'id="checkin-{checkin_id}"')[1].split("</tr>")[0]
        assert f"<td>{yesterday.isoformat()}</td><td>08:00</td>" in row
    refused = _decide(supervisor, checkin_id, "", confirmed=False)
    assert refused.status_code == 422 and "请选择认可或驳回。" in refused.get_data(as_text=True)
    assert "accept" not in "请选择认可或驳回。"
