"""POST /api/v1/station-checkins (docs/API.md): a field worker checks in at the station they are
posted to that Beijing day; inside the station's geofence counted, outside flagged (not counted
until a supervisor accepts it); idempotent by client id (replay 200, another body or worker 409);
not posted 422; in the future 422; a station of another bureau 404; malformed bodies never 500.
And GET /api/v1/stations?month= in its fixed shape, for the roles docs/API.md names."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.core.months import month_text
from portal.core.timeutil import local_today, utcnow
from tests import station_world as sw

URL = "/api/v1/station-checkins"


@pytest.fixture
def world(app):
    return sw.station_world(app)


def _post(client, headers, payload):
    return client.post(URL, json=payload, headers=headers)


def test_a_check_in_within_the_geofence_is_counted_and_replays_once(app, world, client, api_token):
    headers = api_token("a-worker1")
    payload = sw.body(world, offset_m=50)
    first = _post(client, headers, payload)
    assert first.status_code == 201, first.get_json()
    answer = first.get_json()
    assert answer == {"id": answer["id"], "client_id": payload["client_id"], "station_id": world["stations"]["TS-01"],
                      "day": local_today().isoformat(), "distance_m": answer["distance_m"], "status": "counted",
                      "counted": True}
    assert 45 <= answer["distance_m"] <= 55 and "lat" not in answer
    again = _post(client, headers, payload)
    assert again.status_code == 200 and again.get_json() == answer
    changed = _post(client, headers, {**payload, "accuracy_m": 9})
    assert changed.status_code == 409 and changed.mimetype == "application/problem+json"
    assert "client_id" in changed.get_json()["errors"]
    other_worker = _post(client, api_token("a-worker2"), payload)
    assert other_worker.status_code == 409
    from portal.extensions import db
    from portal.stations.models import StationCheckIn
    with app.app_context(), sw.scope(app):
        stored = db.session.execute(select(StationCheckIn)).scalars().all()
        assert len(stored) == 1 and stored[0].staff_id == world["staff"]["a-worker1"]
        assert stored[0].worker_user_id == sw.user("a-worker1").id and stored[0].device_id == "phone-a1"


def test_outside_the_geofence_is_flagged_and_not_counted_until_accepted(app, world, client, api_token, login):
    headers = api_token("a-worker1")
    yesterday = local_today() - timedelta(days=1)  # the current month counts through yesterday
    response = _post(client, headers, sw.body(world, offset_m=650, when=sw.at(yesterday)))
    assert response.status_code == 201
    answer = response.get_json()
    assert (answer["status"], answer["counted"]) == ("flagged", False) and 640 <= answer["distance_m"] <= 660
    month = month_text(yesterday)
    officer = api_token("gx-officer")

    def present_today():
        items = client.get(f"/api/v1/stations?month={month}", headers=officer).get_json()["items"]
        return next(i for i in items if i["id"] == world["stations"]["TS-01"])["staff_days_present"]
    from portal.extensions import db
    from portal.stations import checkins
    from portal.tenancy.workdays import tenant_calendar
    with app.app_context(), sw.scope(app):
        working_today = tenant_calendar().is_working_day(yesterday)
    assert present_today() == 0
    queue = login("gx-supervisor").get("/stations/check-ins/flagged").get_data(as_text=True)
    assert f'id="checkin-{answer["id"]}"' in queue
    with app.app_context(), sw.scope(app):
        checkins.decide(checkins.checkin_of_bureau(answer["id"]), "accept", "GPS 漂移", sw.user("gx-supervisor"),
                        utcnow())
        db.session.commit()
    assert present_today() == (1 if working_today else 0)
    replay = _post(client, headers, sw.body(world, offset_m=650, when=sw.at(yesterday), client_id=answer["client_id"],
                                           accuracy_m=30))
    assert replay.status_code == 409  # another body under the same id (its time differs)


def test_a_late_upload_or_a_phone_another_worker_used_that_day_is_flagged_with_its_reason(
        app, world, client, api_token, login):
    """Within the geofence but received more than late_upload_hours (72) after its time, or from a
    phone another worker checked in with that day: flagged, not counted, the reason on the
    supervisor's queue and decision page."""
    late = _post(client, api_token("a-worker1"), sw.body(world, when=utcnow() - timedelta(hours=80),
                                                          device_id="phone-late"))
    assert late.status_code == 201 and (late.get_json()["status"], late.get_json()["counted"]) == ("flagged", False)
    on_time = _post(client, api_token("a-worker1"), sw.body(world, when=utcnow() - timedelta(hours=70),
                                                             device_id="phone-late"))
    assert on_time.get_json()["status"] == "counted"
    first = _post(client, api_token("a-worker1"), sw.body(world, device_id="phone-shared"))
    assert first.get_json()["status"] == "counted"
    second = _post(client, api_token("a-worker2"), sw.body(world, device_id="phone-shared"))
    assert (second.get_json()["status"], second.get_json()["counted"]) == ("flagged", False)
    own = _post(client, api_token("a-worker2"), sw.body(world, device_id="phone-a2"))
    assert own.get_json()["status"] == "counted"
    supervisor = login("gx-supervisor")
    queue = supervisor.get("/stations/check-ins/flagged").get_data(as_text=True)
    late_row = queue.split(f'id="checkin-{late.get_json()["id"]}"')[1].split("</tr>")[0]
    shared_row = queue.split(f'id="checkin-{second.get_json()["id"]}"')[1].split("</tr>")[0]
    assert "小时才上传，时限为 72 小时" in late_row and "电子围栏外" not in late_row
    assert "该设备还被其他工作人员用于签到" in shared_row and "上传" not in shared_row
    page = supervisor.get(f'/stations/check-ins/{second.get_json()["id"]}/decision').get_data(as_text=True)
    assert 'id="flag-reasons"' in page and "该设备还被其他工作人员用于签到" in page


def test_the_bureau_geofence_applies_to_a_station_without_its_own_radius(app, world, client, api_token):
    from portal.extensions import db
    from portal.stations.models import Station
    with app.app_context(), sw.scope(app):
        db.session.get(Station, world["stations"]["TS-01"]).radius_m = None  # the bureau's 300 m
        db.session.commit()
    headers = api_token("a-worker1")
    assert _post(client, headers, sw.body(world, offset_m=250)).get_json()["status"] == "counted"
    assert _post(client, headers, sw.body(world, offset_m=350)).get_json()["status"] == "flagged"


def test_not_posted_there_that_day_is_422(app, world, client, api_token):
    for username, station in (("b-worker1", "TS-01"), ("a-worker1", "TS-02"), ("a-worker1", "TS-HUB")):
        response = _post(client, api_token(username), sw.body(world, station))
        assert response.status_code == 422, (username, station)
        assert response.mimetype == "application/problem+json" and "station_id" in response.get_json()["errors"]
    before = _post(client, api_token("a-worker1"), sw.body(world, when=sw.at(sw.POSTED_FROM - timedelta(days=1))))
    assert before.status_code == 422
    from portal.contractors.models import StaffMember
    from portal.extensions import db
    with app.app_context():  # still posted, but off the roster since yesterday
        db.session.get(StaffMember, world["staff"]["a-worker2"]).left_on = local_today() - timedelta(days=1)
        db.session.commit()
    gone = _post(client, api_token("a-worker2"), sw.body(world))
    assert gone.status_code == 422 and "station_id" in gone.get_json()["errors"]


def test_a_time_in_the_future_is_422(app, world, client, api_token):
    response = _post(client, api_token("a-worker1"), sw.body(world, when=utcnow() + timedelta(hours=1)))
    assert response.status_code == 422 and "at" in response.get_json()["errors"]


def test_another_bureaus_station_or_none_is_404(app, world, client, api_token):
    headers = api_token("a-worker1")
    for station_id in (world["stations"]["ZG-01"], 2**31 - 1):
        response = _post(client, headers, sw.body(world, station_id=station_id))
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


@pytest.mark.parametrize("change", [
    {"client_id": "not-a-uuid-but-long-enough-to-pass-1"}, {"lat": 91}, {"lon": "115"}, {"at": "yesterday"},
    {"at": "2026-11-29T08:00:00"}, {"station_id": 0}, {"station_id": "1"}, {"device_id": ""}, {"accuracy_m": -1},
    {"station_id": None}, {"note": "说明" * 251}, {"note": 5}])
def test_malformed_bodies_are_422_problems(app, world, client, api_token, change):
    response = _post(client, api_token("a-worker1"), sw.body(world, **change))
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"


def test_only_field_workers_check_in(app, world, client, api_token):
    for username in ("gx-officer", "a-manager", "gx-supervisor"):
        assert _post(client, api_token(username, tenant="ganxian"), sw.body(world)).status_code == 403
    assert _post(client, {}, sw.body(world)).status_code == 401


def test_the_stations_api_in_its_fixed_shape_for_each_role(app, world, client, api_token):
    month = "2025-10"
    everyone = client.get(f"/api/v1/stations?month={month}", headers=api_token("gx-officer")).get_json()["items"]
    assert [i["name"] for i in everyone] == ["梅林镇社工站", "王母渡镇社工站", "赣县区社会工作服务总站"]  # by code: TS-01, TS-02, TS-HUB
    for item in everyone:
        assert set(item) == {"id", "name", "kind", "required_staff", "staff_days_required", "staff_days_present",
                             "compliance"}
    hub = everyone[2]
    assert (hub["kind"], hub["required_staff"], hub["staff_days_required"]) == ("hub", 5, 5 * 18)
    no_contract = everyone[1]  # no staffing contract: no staff required
    assert (no_contract["staff_days_required"], no_contract["compliance"]) == (0, None)
    for username in ("gx-supervisor", "gx-finance", "gx-admin"):
        response = client.get(f"/api/v1/stations?month={month}", headers=api_token(username))
        assert response.status_code == 200 and len(response.get_json()["items"]) == 3
    auditor = client.get(f"/api/v1/stations?month={month}", headers=api_token("city-auditor", tenant="ganxian"))
    assert auditor.status_code == 200 and len(auditor.get_json()["items"]) == 3
    own = client.get(f"/api/v1/stations?month={month}", headers=api_token("a-manager", tenant="ganxian")).get_json()["items"]
    assert {i["id"] for i in own} == {world["stations"]["TS-01"], world["stations"]["TS-HUB"]}
    assert client.get(f"/api/v1/stations?month={month}", headers=api_token("b-manager", tenant="ganxian")).get_json() == {"items": []}
    assert client.get(f"/api/v1/stations?month={month}", headers=api_token("a-worker1")).status_code == 403
    zhanggong = client.get(f"/api/v1/stations?month={month}", headers=api_token("zg-officer")).get_json()["items"]
    assert [i["name"] for i in zhanggong] == ["章贡区水南街道社工站"]
    for bad in ("", "2025-13", "2025-1", "yesterday"):
        response = client.get(f"/api/v1/stations?month={bad}", headers=api_token("gx-officer"))
        assert response.status_code == 422 and "month" in response.get_json()["errors"], bad
    assert client.get("/api/v1/stations", headers=api_token("gx-officer")).status_code == 422


def test_a_closed_station_is_left_out_and_refuses_check_ins(app, world, client, api_token):
    """Closed, with its postings ended on 30 September 2025: refused check-ins, left out of
    October, still in September (compliance.stations_month: staffed in the month)."""
    from datetime import date

    from portal.extensions import db
    from portal.stations.models import Station, StationPosting
    with app.app_context(), sw.scope(app):
        db.session.get(Station, world["stations"]["TS-01"]).active = False
        for posting in db.session.execute(select(StationPosting).where(
                StationPosting.station_id == world["stations"]["TS-01"])).scalars():
            posting.until_on = date(2025, 9, 30)
        db.session.commit()
    assert _post(client, api_token("a-worker1"), sw.body(world)).status_code == 422
    items = client.get("/api/v1/stations?month=2025-10", headers=api_token("gx-officer")).get_json()["items"]
    assert world["stations"]["TS-01"] not in {i["id"] for i in items}
    items = client.get("/api/v1/stations?month=2025-09", headers=api_token("gx-officer")).get_json()["items"]
    assert world["stations"]["TS-01"] in {i["id"] for i in items}


def test_the_workers_reason_for_a_far_check_in_reaches_the_supervisor_once(app, world, client, api_token, login):
    """The phone warns beyond the geofence and asks why; the reason travels in ``note``, is stored
    stripped, is part of the body (a replay with another note is a 409) and the supervisor reads it
    on the queue and on the decision page. A check-in without a note stores nothing."""
    headers = api_token("a-worker1")
    yesterday = local_today() - timedelta(days=1)
    note = "签到时距服务站约 650 米（范围 200 米），原因：服务站门口无信号"
    payload = sw.body(world, offset_m=650, when=sw.at(yesterday))
    first = _post(client, headers, {**payload, "note": f"  {note} "})
    assert first.status_code == 201, first.get_json()
    answer = first.get_json()
    assert "note" not in answer  # the answer keeps its fixed shape
    assert _post(client, headers, {**payload, "note": f"  {note} "}).status_code == 200
    assert _post(client, headers, {**payload, "note": "另一个原因"}).status_code == 409
    plain = _post(client, headers, sw.body(world, offset_m=20))
    assert plain.status_code == 201
    from portal.extensions import db
    from portal.stations.models import StationCheckIn
    with app.app_context(), sw.scope(app):
        notes = dict(db.session.execute(select(StationCheckIn.id, StationCheckIn.note)).all())
    assert notes == {answer["id"]: note, plain.get_json()["id"]: ""}
    supervisor = login("gx-supervisor")
    queue = supervisor.get("/stations/check-ins/flagged").get_data(as_text=True)
    row = queue.split(f'id="checkin-{answer["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert note in row
    page = supervisor.get(f"/stations/check-ins/{answer['id']}/decision")
    assert page.status_code == 200
    assert f'<dd id="worker-note">{note}</dd>' in page.get_data(as_text=True)
