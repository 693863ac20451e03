"""Recording visits through the JSON API (docs/API.md, issue 5): idempotent uploads by client
id, batches that keep the good items, check-out, photos judged by content and stripped of their
location, who may read which visit, and corrections that only shorten a visit."""
import io
import struct
import uuid
import zlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.core.timeutil import to_local, utcnow
from portal.extensions import db
from portal.tenancy.scope import tenant_scope
from portal.visits.models import Visit, VisitCorrection, VisitPhoto
from tests.beneficiary_world import care_world
from tests import support

PROBLEM = "application/problem+json"
HOME = (25.861, 115.012)  # where care_world's people live


@pytest.fixture
def world(app, demo):
    return care_world(app)


@pytest.fixture
def worker(api_token):
    """worker("a-worker1") -> the headers of a ganxian bearer token for that user."""
    return lambda username="a-worker1": api_token(username, tenant="ganxian")


def iso(moment):
    return to_local(moment).isoformat()


def visit_body(person, *, start=None, minutes=60, closed=True, **overrides):
    start = start or utcnow() - timedelta(hours=3)
    body = {"client_id": str(uuid.uuid4()), "beneficiary_id": person, "service_item": "CARE-VISIT",
            "device_id": "phone-a1", "check_in": {"at": iso(start), "lat": HOME[0], "lon": HOME[1], "accuracy_m": 8},
            "services": ["bathing", "cleaning"], "notes": "一切正常"}
    if closed:
        body["check_out"] = {"at": iso(start + timedelta(minutes=minutes)), "lat": HOME[0], "lon": HOME[1]}
    body.update(overrides)
    return body


def count_visits(app, demo):
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        return db.session.execute(select(func.count(Visit.id))).scalar_one()


def post_visit(client, headers, body, **kwargs):
    return client.post("/api/v1/visits", json=body, headers=headers, **kwargs)


def recorded(client, headers, body):
    response = post_visit(client, headers, body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# --- idempotent uploads ---------------------------------------------------------------------------

def test_replay_of_the_same_body_returns_200_with_the_same_visit(app, demo, world, client, worker):
    headers, body = worker(), visit_body(world["people"]["刘桂英"])
    first = post_visit(client, headers, body)
    assert first.status_code == 201, first.get_json()
    assert first.headers["Location"].endswith(f"/api/v1/visits/{first.get_json()['id']}")
    again = post_visit(client, headers, dict(reversed(list(body.items()))))  # key order does not matter
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    assert count_visits(app, demo) == 1
    shown = first.get_json()
    assert shown["client_id"] == body["client_id"] and shown["service_item"] == "CARE-VISIT"
    assert shown["beneficiary"] == {"id": world["people"]["刘桂英"], "display_name": "刘*英"}
    assert shown["recorded_live"] is True and shown["photos"] == []
    assert shown["status"] in ("pending", "verified", "exception")


def test_same_client_id_with_a_different_body_is_409(app, demo, world, client, worker):
    headers, body = worker(), visit_body(world["people"]["刘桂英"])
    recorded(client, headers, body)
    changed = {**body, "notes": "改过的备注"}
    response = post_visit(client, headers, changed)
    assert response.status_code == 409 and response.mimetype == PROBLEM
    # Another worker reusing the id is refused too, even with the very same body.
    assert post_visit(client, worker("a-worker2"), body).status_code == 409
    assert count_visits(app, demo) == 1


def test_a_race_on_the_client_id_ends_in_200_or_409_not_500(app, demo, world, monkeypatch):
    """Two uploads of one client id at once: nothing reads the id before the insert, whose
    ``ON CONFLICT DO NOTHING`` finds it taken (on PostgreSQL after waiting for the other upload's
    commit); the loser then reads the stored visit and answers like a replay, or 409."""
    from portal.accounts.models import User
    from portal.visits import recording
    body = visit_body(world["people"]["刘桂英"])
    with app.test_request_context(), tenant_scope(demo.tenant_id("ganxian")):
        user = db.session.execute(select(User).where(User.username == "a-worker1")).scalar_one()
        first, created = recording.record_visit(body, user, utcnow())
        assert created
        real_lookup = recording._by_client_id
        calls = []

        def after_the_insert(client_id):
            calls.append(client_id)
            return real_lookup(client_id)

        monkeypatch.setattr(recording, "_by_client_id", after_the_insert)
        again, created = recording.record_visit(body, user, utcnow())
        assert (again.id, created) == (first.id, False)
        assert calls == [first.client_id]  # one read, once the insert found the id taken
        with pytest.raises(recording.Conflict):
            recording.record_visit({**body, "notes": "不同"}, user, utcnow())
        # the id taken but its visit gone (deleted by the time it is read): a Conflict, not a 500
        monkeypatch.setattr(recording, "_by_client_id", lambda client_id: None)
        with pytest.raises(recording.Conflict):
            recording.record_visit(body, user, utcnow())
        db.session.rollback()


# --- what the worker may record -------------------------------------------------------------------

def test_b_worker_cannot_record_a_visit_for_contractor_a_beneficiary(app, demo, world, client, worker):
    response = post_visit(client, worker("b-worker1"), visit_body(world["people"]["刘桂英"]))
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert count_visits(app, demo) == 0
    # B's own person is fine for B's own item; A's item code is not in B's contract.
    own = visit_body(world["people"]["钟长生"], service_item="ADL-ASSESS")
    assert post_visit(client, worker("b-worker1"), own).status_code == 201
    wrong_item = visit_body(world["people"]["钟长生"], service_item="CARE-VISIT")
    response = post_visit(client, worker("b-worker1"), wrong_item)
    assert response.status_code == 422 and "service_item" in response.get_json()["errors"]


@pytest.mark.parametrize("change, field", [
    ({"check_in": {"at": "2026-11-29T09:30:00", "lat": 25.86, "lon": 115.01}}, "check_in.at"),
    ({"check_in": {"at": "yesterday", "lat": 25.86, "lon": 115.01}}, "check_in.at"),
    ({"check_in": {"at": "2026-11-29T09:30:00+08:00", "lat": 95.0, "lon": 115.01}}, "check_in.lat"),
    ({"check_in": {"at": "2026-11-29T09:30:00+08:00", "lat": 25.86, "lon": -181}}, "check_in.lon"),
    ({"check_out": {"at": "2026-11-29T10:30:00", "lat": 25.86, "lon": 115.01}}, "check_out.at"),
    ({"client_id": "not-a-uuid-but-long-enough-to-pass-0000"}, "client_id"),
    ({"beneficiary_id": 99999999999999999999}, "beneficiary_id"),
])
def test_times_without_offset_and_coordinates_out_of_range_are_422(app, demo, world, client, worker, change, field):
    response = post_visit(client, worker(), visit_body(world["people"]["刘桂英"], **change))
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == PROBLEM and field in response.get_json()["errors"]
    assert count_visits(app, demo) == 0


def test_an_id_written_with_a_fraction_is_422(app, demo, world, client, worker):
    """1.0 is an "integer" to JSON Schema 2020-12; the API takes whole numbers only (api/body.py)."""
    body = visit_body(world["people"]["刘桂英"])
    body["beneficiary_id"] = float(body["beneficiary_id"])
    response = post_visit(client, worker(), body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["errors"]["beneficiary_id"] == ["请填写整数。"]
    assert count_visits(app, demo) == 0


def test_nan_coordinates_are_422(app, demo, world, client, worker):
    body = visit_body(world["people"]["刘桂英"])
    raw = client.application.json.dumps(body).replace(str(HOME[0]), "NaN", 1)
    response = client.post("/api/v1/visits", data=raw, content_type="application/json", headers=worker())
    assert response.status_code == 422


def test_a_future_check_in_is_stored_and_flagged_v08(app, demo, world, client, worker):
    start = utcnow() + timedelta(days=2)
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"], start=start))
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        visit = db.session.get(Visit, shown["id"])
        assert visit.check_in_at > utcnow() + timedelta(days=1)
    assert "V08" in {e["code"] for e in shown["exceptions"]}


def test_a_visit_from_the_field_web_app_is_marked_web(app, demo, world, client, worker):
    shown = recorded(client, {**worker(), "X-Visit-Source": "web"}, visit_body(world["people"]["刘桂英"]))
    assert shown["source"] == "web" and shown["recorded_live"] is True
    assert recorded(client, worker(), visit_body(world["people"]["陈德福"]))["source"] == "app"


# --- batches ----------------------------------------------------------------------------------

def test_a_batch_with_one_bad_item_stores_the_others(app, demo, world, client, worker):
    people = world["people"]
    good = visit_body(people["刘桂英"])
    items = [good,
             visit_body(people["陈德福"], check_in={"at": "2026-11-29T09:30:00", "lat": 25.86, "lon": 115.01}),
             visit_body(people["钟长生"]),  # B's person: not found for A's worker
             {**good, "notes": "changed"},  # the first item's client id with another body
             good,  # a faithful replay inside the batch
             "not an object",
             visit_body(people["陈德福"], notes="nul\u0000byte"),
             visit_body(people["陈德福"], start=utcnow() - timedelta(hours=8))]
    response = client.post("/api/v1/visits:batch", json={"visits": items}, headers=worker())
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert [r["index"] for r in results] == list(range(len(items)))
    assert [r["status"] for r in results] == [201, 422, 404, 409, 200, 422, 422, 201]
    assert results[4]["visit"]["id"] == results[0]["visit"]["id"]
    assert results[1]["problem"]["status"] == 422 and "check_in.at" in results[1]["problem"]["errors"]
    assert count_visits(app, demo) == 2


def test_a_batch_over_500_items_is_422(app, demo, world, client, worker):
    items = [visit_body(world["people"]["刘桂英"]) for _ in range(501)]
    response = client.post("/api/v1/visits:batch", json={"visits": items}, headers=worker())
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert count_visits(app, demo) == 0


# --- check-out --------------------------------------------------------------------------------

def test_check_out_is_recorded_once_and_only_by_the_visits_worker(app, demo, world, client, worker):
    start = utcnow() - timedelta(hours=2)
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"], start=start, closed=False))
    assert shown["check_out"] is None and shown["status"] == "pending"
    url = f"/api/v1/visits/{shown['id']}/check-out"
    out = {"at": iso(start + timedelta(minutes=45)), "lat": HOME[0], "lon": HOME[1]}
    assert client.post(url, json=out, headers=worker("a-worker2")).status_code == 404
    first = client.post(url, json=out, headers=worker())
    assert first.status_code == 200 and first.get_json()["check_out"]["lat"] == HOME[0]
    assert client.post(url, json=out, headers=worker()).status_code == 200  # identical replay
    later = {**out, "at": iso(start + timedelta(minutes=50))}
    assert client.post(url, json=later, headers=worker()).status_code == 409
    assert client.post(url, json={**out, "at": "2026-01-01T10:00:00"}, headers=worker()).status_code == 422


def test_the_same_services_in_another_order_at_the_check_out_are_the_same(app, demo, world, client, worker):
    start = utcnow() - timedelta(hours=2)
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"], start=start, closed=False))
    url = f"/api/v1/visits/{shown['id']}/check-out"
    out = {"at": iso(start + timedelta(minutes=45)), "lat": HOME[0], "lon": HOME[1], "services": ["cleaning", "bathing"]}
    first = client.post(url, json=out, headers=worker())
    assert first.status_code == 200 and sorted(first.get_json()["services"]) == ["bathing", "cleaning"]
    assert client.post(url, json={**out, "services": ["bathing", "cleaning"]}, headers=worker()).status_code == 200
    assert client.post(url, json={**out, "services": ["bathing"]}, headers=worker()).status_code == 409


def test_a_check_out_before_the_check_in_is_accepted(app, demo, world, client, worker):
    start = utcnow() - timedelta(hours=2)
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"], start=start, closed=False))
    out = {"at": iso(start - timedelta(minutes=10)), "lat": HOME[0], "lon": HOME[1]}
    response = client.post(f"/api/v1/visits/{shown['id']}/check-out", json=out, headers=worker())
    assert response.status_code == 200
    assert "V08" in {e["code"] for e in response.get_json()["exceptions"]}


def test_a_check_out_note_is_added_to_the_notes_once_and_shown_to_the_supervisor(app, demo, world, client, worker,
                                                                                   login):
    """Issue 22: the field app sends why the worker checked out before the item's minimum (V03) as
    the check-out's optional ``note``; it joins the visit's notes (where the check-in's reason, V02,
    already is), a replay adds nothing, and the supervisor reads both on the visit and its exception."""
    start = utcnow() - timedelta(hours=2)
    far = visit_body(world["people"]["刘桂英"], start=start, closed=False, notes="签到时距住址约 1.2 公里，原因：住院",
                     check_in={"at": iso(start), "lat": HOME[0] + 0.0108, "lon": HOME[1]})
    shown = recorded(client, worker(), far)
    url = f"/api/v1/visits/{shown['id']}/check-out"
    out = {"at": iso(start + timedelta(minutes=5)), "lat": HOME[0], "lon": HOME[1], "note": "服务 5 分钟即签退，原因：送医"}
    assert client.post(url, json={**out, "note": 12}, headers=worker()).status_code == 422  # a note is text
    first = client.post(url, json=out, headers=worker())
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["notes"] == "签到时距住址约 1.2 公里，原因：住院\n服务 5 分钟即签退，原因：送医"
    assert {"V02", "V03"} <= {e["code"] for e in first.get_json()["exceptions"]}
    again = client.post(url, json=out, headers=worker())
    assert again.status_code == 200 and again.get_json()["notes"] == first.get_json()["notes"]
    without = {k: v for k, v in out.items() if k != "note"}  # an older phone: no note, still the same check-out
    assert client.post(url, json=without, headers=worker()).get_json()["notes"] == first.get_json()["notes"]
    supervisor = login("gx-supervisor")
    page = supervisor.get(f"/supervision/visits/{shown['id']}").get_data(as_text=True)
    assert "原因：住院" in page and "原因：送医" in page and 'id="visit-notes"' in page
    v03 = next(e["id"] for e in first.get_json()["exceptions"] if e["code"] == "V03")
    assert "原因：送医" in supervisor.get(f"/supervision/exceptions/{v03}").get_data(as_text=True)


def test_a_check_out_without_a_note_leaves_the_notes_alone(app, demo, world, client, worker):
    start = utcnow() - timedelta(hours=2)
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"], start=start, closed=False))
    out = {"at": iso(start + timedelta(minutes=45)), "lat": HOME[0], "lon": HOME[1], "note": "  "}
    response = client.post(f"/api/v1/visits/{shown['id']}/check-out", json=out, headers=worker())
    assert response.status_code == 200 and response.get_json()["notes"] == "一切正常"


# --- photos -----------------------------------------------------------------------------------

def _segment(marker, payload):
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def gps_exif():
    """A big-endian TIFF block whose GPS IFD says 25°51'36" N."""
    gps_ifd_at, rationals_at = 26, 56
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8)
    tiff += struct.pack(">H", 1) + struct.pack(">HHII", 0x8825, 4, 1, gps_ifd_at) + struct.pack(">I", 0)
    tiff += struct.pack(">H", 2) + struct.pack(">HHI", 0x0001, 2, 2) + b"N\x00\x00\x00"
    tiff += struct.pack(">HHII", 0x0002, 5, 3, rationals_at) + struct.pack(">I", 0)
    assert len(tiff) == rationals_at
    return tiff + struct.pack(">6I", 25, 1, 51, 1, 3600, 100)


def tiny_jpeg(with_metadata=True):
    """A real 8×8 grey baseline JPEG (one-code Huffman tables), optionally carrying Exif GPS, XMP,
    IPTC and a comment."""
    parts = [b"\xff\xd8", _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")]
    if with_metadata:
        parts += [_segment(0xE1, b"Exif\x00\x00" + gps_exif()),
                  _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta exif:GPSLatitude='25,51.6N'/>"),
                  _segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x00"),
                  _segment(0xFE, b"taken at 25.86N 115.01E")]
    parts += [_segment(0xDB, b"\x00" + b"\x01" * 64),
              _segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00"),
              _segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"),
              _segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00"),
              _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"), b"\x3f", b"\xff\xd9"]
    return b"".join(parts)


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png(with_metadata=True):
    parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))]
    if with_metadata:
        parts += [_chunk(b"eXIf", gps_exif()), _chunk(b"tEXt", b"Comment\x00at 25.86N 115.01E"),
                  _chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta/>"),
                  _chunk(b"zTXt", b"Raw\x00\x00" + zlib.compress(b"GPS"))]
    parts += [_chunk(b"IDAT", zlib.compress(b"\x00\xff")), _chunk(b"IEND", b"")]
    return b"".join(parts)


def test_imagemeta_drops_exif_xmp_iptc_and_png_text_but_keeps_the_image():
    from portal.files.imagemeta import BadImage, strip_jpeg, strip_png
    assert strip_jpeg(tiny_jpeg()) == tiny_jpeg(with_metadata=False)
    assert strip_png(tiny_png()) == tiny_png(with_metadata=False)
    assert strip_jpeg(tiny_jpeg(with_metadata=False)) == tiny_jpeg(with_metadata=False)
    # A multi-picture index and the second image phones append after EOI (with its own Exif) go too.
    clean = tiny_jpeg(with_metadata=False)
    mpf = clean[:2] + _segment(0xE2, b"MPF\x00MM\x00\x2a") + clean[2:]
    assert strip_jpeg(mpf + tiny_jpeg()) == clean
    # Stuffed bytes and restart markers inside the scan are image data, kept as they are.
    scan_at = clean.rindex(b"\x3f\xff\xd9")
    busy = clean[:scan_at] + b"\x3f\xff\x00\xff\xd0\x3f" + clean[scan_at + 1:]
    assert strip_jpeg(busy) == busy
    for broken in (tiny_jpeg()[:40], b"\xff\xd8\xff\xe1\xff\xff", b"\xff\xd8\x00\x00"):
        with pytest.raises(BadImage):
            strip_jpeg(broken)
    with pytest.raises(BadImage):
        strip_png(tiny_png()[:-12])  # no IEND


def _upload(client, headers, visit_id, data, name="photo.jpg"):
    return client.post(f"/api/v1/visits/{visit_id}/photos", headers=headers,
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_gps_metadata_is_stripped_before_the_photo_is_stored(app, demo, world, client, worker):
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"]))
    response = _upload(client, worker(), shown["id"], tiny_jpeg())
    assert response.status_code == 201, response.get_data(as_text=True)
    photo_id = response.get_json()["id"]
    assert response.get_json()["visit"]["photos"] == [photo_id]
    served = client.get(f"/api/v1/visits/{shown['id']}/photos/{photo_id}", headers=worker())
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "no-store" in served.headers["Cache-Control"]
    data = served.get_data()
    assert data == tiny_jpeg(with_metadata=False)
    for leak in (b"Exif", gps_exif(), b"GPSLatitude", b"8BIM", b"25.86N"):
        assert leak not in data
    # The same photo again is not stored twice; a PNG loses its text and Exif chunks too.
    assert _upload(client, worker(), shown["id"], tiny_jpeg()).status_code == 200
    png = _upload(client, worker(), shown["id"], tiny_png(), name="photo.png")
    assert png.status_code == 201
    served = client.get(f"/api/v1/visits/{shown['id']}/photos/{png.get_json()['id']}", headers=worker())
    assert served.get_data() == tiny_png(with_metadata=False)
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert db.session.execute(select(func.count(VisitPhoto.id))).scalar_one() == 2


def test_a_text_file_named_jpg_is_415_and_a_large_photo_413(app, demo, world, client, worker):
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"]))
    response = _upload(client, worker(), shown["id"], b"just some text, honestly a JPEG", name="photo.jpg")
    assert response.status_code == 415 and response.mimetype == PROBLEM
    big = b"\xff\xd8\xff\xe0" + b"\x00" * (5 * 1024 * 1024)
    assert _upload(client, worker(), shown["id"], big).status_code == 413
    assert _upload(client, worker(), shown["id"], tiny_jpeg()[:60]).status_code == 422  # damaged
    json_instead = client.post(f"/api/v1/visits/{shown['id']}/photos", json={"file": "x"}, headers=worker())
    assert json_instead.status_code == 415
    # Only the visit's own worker adds photos.
    assert _upload(client, worker("a-worker2"), shown["id"], tiny_jpeg()).status_code == 404
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        assert db.session.execute(select(VisitPhoto)).first() is None


def test_photos_are_served_only_to_those_allowed(app, demo, world, client, worker, api_token):
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"]))
    photo = _upload(client, worker(), shown["id"], tiny_jpeg()).get_json()["id"]
    url = f"/api/v1/visits/{shown['id']}/photos/{photo}"
    for username, status in (("a-manager", 200), ("gx-supervisor", 200), ("gx-auditor", 200),
                             ("a-worker2", 404), ("b-manager", 404), ("b-worker1", 404)):
        assert client.get(url, headers=api_token(username, tenant="ganxian")).status_code == status, username
    assert client.get(url, headers=api_token("zg-officer")).status_code == 404
    assert client.get(url).status_code == 401
    assert client.get(f"/api/v1/visits/{shown['id']}/photos/{photo + 1}", headers=worker()).status_code == 404


# --- who reads which visit ------------------------------------------------------------------------

def test_a_ganxian_visit_read_by_a_zhanggong_user_is_404(app, demo, world, client, worker, api_token):
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"]))
    url = f"/api/v1/visits/{shown['id']}"
    for headers in (api_token("zg-officer"), api_token("zg-worker1"), api_token("city-auditor", tenant="zhanggong")):
        response = client.get(url, headers=headers)
        assert response.status_code == 404 and response.mimetype == PROBLEM
        assert client.get("/api/v1/visits", headers=headers).get_json()["items"] == []
    assert client.get(url, headers=api_token("city-auditor", tenant="ganxian")).status_code == 200


def test_workers_see_their_own_managers_their_contractors_and_the_bureau_all(app, demo, world, client, worker,
                                                                           api_token):
    people = world["people"]
    mine = recorded(client, worker(), visit_body(people["刘桂英"]))
    colleague = recorded(client, worker("a-worker2"), visit_body(people["黄秀兰"], device_id="phone-a2"))
    other = recorded(client, worker("b-worker1"), visit_body(people["钟长生"], service_item="ADL-ASSESS",
                                                             device_id="phone-b1"))

    def listed(username):
        response = client.get("/api/v1/visits", headers=api_token(username, tenant="ganxian"))
        assert response.status_code == 200
        return {v["id"] for v in response.get_json()["items"]}

    assert listed("a-worker1") == {mine["id"]}
    assert listed("a-worker2") == {colleague["id"]}
    assert listed("a-manager") == {mine["id"], colleague["id"]}
    assert listed("b-manager") == {other["id"]}
    for role_user in ("gx-admin", "gx-officer", "gx-supervisor", "gx-finance", "gx-auditor"):
        assert listed(role_user) == {mine["id"], colleague["id"], other["id"]}, role_user
    for username, status in (("a-worker1", 200), ("a-worker2", 404), ("a-manager", 200), ("b-manager", 404),
                             ("b-worker1", 404), ("gx-finance", 200)):
        response = client.get(f"/api/v1/visits/{mine['id']}", headers=api_token(username, tenant="ganxian"))
        assert response.status_code == status, username
    body = client.get(f"/api/v1/visits/{mine['id']}", headers=api_token("a-manager", tenant="ganxian")).get_json()
    assert body["beneficiary"]["display_name"] == "刘*英"
    assert "刘桂英" not in client.get(f"/api/v1/visits/{mine['id']}", headers=worker()).get_data(as_text=True)
    assert client.get("/api/v1/visits/99999999999999999999", headers=worker()).status_code == 404


def test_the_list_pages_by_50_and_filters_by_month_and_status(app, demo, world, client, worker, api_token):
    person, now = world["people"]["刘桂英"], utcnow()
    items = [visit_body(person, start=now - timedelta(hours=3 + i)) for i in range(52)]
    old = to_local(now - timedelta(days=70))
    items.append(visit_body(person, start=old.astimezone(now.tzinfo)))
    response = client.post("/api/v1/visits:batch", json={"visits": items}, headers=worker())
    assert [r["status"] for r in response.get_json()["results"]] == [201] * 53
    headers = api_token("gx-supervisor")
    month = to_local(now - timedelta(hours=3)).strftime("%Y-%m")
    first = client.get(f"/api/v1/visits?month={month}", headers=headers).get_json()
    page_two = client.get(first["next"], headers=headers).get_json() if first["next"] else {"items": []}
    in_month = {v["id"] for v in first["items"]} | {v["id"] for v in page_two["items"]}
    assert len(first["items"]) == 50 and first["per_page"] == 50
    assert f"month={month}" in first["next"] and page_two["next"] is None
    assert len(in_month) == first["total"] and first["total"] in range(1, 53)
    everything = client.get("/api/v1/visits", headers=headers).get_json()
    assert everything["total"] == 53
    old_month = client.get(f"/api/v1/visits?month={old.strftime('%Y-%m')}", headers=headers).get_json()
    assert items[-1]["client_id"] in {v["client_id"] for v in old_month["items"]}
    statuses = {v["status"] for v in everything["items"]}
    for status in statuses:
        filtered = client.get(f"/api/v1/visits?status={status}", headers=headers).get_json()
        assert filtered["items"] and {v["status"] for v in filtered["items"]} == {status}
    for bad in ("month=2026-13", "month=yesterday", "status=lost"):
        response = client.get(f"/api/v1/visits?{bad}", headers=headers)
        assert response.status_code == 422 and response.mimetype == PROBLEM


# --- corrections ----------------------------------------------------------------------------------

def test_corrections_only_shorten_and_never_touch_the_raw_record(app, demo, world, client, worker, api_token):
    start = utcnow() - timedelta(hours=4)
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"], start=start, minutes=120))
    url = f"/api/v1/visits/{shown['id']}/corrections"
    longer = {"check_out_at": iso(start + timedelta(minutes=150)), "reason_code": "forgot_check_out"}
    earlier = {"check_in_at": iso(start - timedelta(minutes=5)), "reason_code": "device_clock"}
    inverted = {"check_in_at": iso(start + timedelta(minutes=90)), "check_out_at": iso(start + timedelta(minutes=60)),
                "reason_code": "other"}
    supervisor = api_token("gx-supervisor")
    for refused in (longer, earlier, inverted):
        response = client.post(url, json=refused, headers=supervisor)
        assert response.status_code == 422 and response.mimetype == PROBLEM, refused
    assert client.post(url, json={"check_out_at": iso(start + timedelta(minutes=60)), "reason_code": "nonsense"},
                       headers=supervisor).status_code == 422
    # Only supervisors and the contractor's own manager correct.
    shorter = {"check_out_at": iso(start + timedelta(minutes=90)), "reason_code": "left_early", "note": "家属证实"}
    assert client.post(url, json=shorter, headers=api_token("b-manager", tenant="ganxian")).status_code == 404
    assert client.post(url, json=shorter, headers=worker()).status_code == 403
    assert client.post(url, json=shorter, headers=api_token("gx-officer")).status_code == 403
    response = client.post(url, json=shorter, headers=api_token("a-manager", tenant="ganxian"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["adjusted_check_out"] == iso(start + timedelta(minutes=90))
    assert body["adjusted_check_in"] == shown["check_in"]["at"]
    assert body["check_out"] == shown["check_out"] and body["check_in"] == shown["check_in"]  # raw unchanged
    assert body["recorded_live"] is False
    # A later correction may shorten further, never lengthen back past the one in force.
    back = {"check_out_at": iso(start + timedelta(minutes=100)), "reason_code": "other"}
    assert client.post(url, json=back, headers=supervisor).status_code == 422
    further = {"check_in_at": iso(start + timedelta(minutes=10)), "reason_code": "checked_in_early"}
    assert client.post(url, json=further, headers=supervisor).status_code == 201
    with app.app_context(), tenant_scope(demo.tenant_id("ganxian")):
        visit = db.session.get(Visit, shown["id"])
        assert abs(visit.check_out_at - (start + timedelta(minutes=120))) < timedelta(seconds=1)
        assert abs(visit.check_in_at - start) < timedelta(seconds=1)
        corrections = db.session.execute(select(VisitCorrection).order_by(VisitCorrection.id)).scalars().all()
        assert [c.reason_code for c in corrections] == ["left_early", "checked_in_early"]
        assert corrections[0].note == "家属证实"
        assert corrections[1].adjusted_check_out_at == corrections[0].adjusted_check_out_at


def test_a_visit_without_check_out_cannot_be_corrected(app, demo, world, client, worker, api_token):
    shown = recorded(client, worker(), visit_body(world["people"]["刘桂英"], closed=False))
    response = client.post(f"/api/v1/visits/{shown['id']}/corrections",
                           json={"check_in_at": iso(utcnow()), "reason_code": "other"},
                           headers=api_token("gx-supervisor"))
    assert response.status_code == 422


# --- the request path answers what it wrote (intake.py) -------------------------------------------

def test_a_new_visit_is_answered_as_get_reads_it_and_audited_with_every_column(app, demo, world, client,
                                                                             worker):
    """POST answers a new visit from the values it wrote (no ORM load): the answer must be what GET
    reads back — status, exceptions raised by the single-visit rules (V02 far from home, V03 too
    short, V08 in the future), distance, times — and the
    insert is audited with every column, the coordinates and notes redacted."""
    from portal.audit.models import AuditEntry
    person = world["people"]["刘桂英"]
    far = {"at": iso(utcnow() - timedelta(hours=3)), "lat": HOME[0] + 0.05, "lon": HOME[1], "accuracy_m": 8}
    bodies = [("a-worker1", visit_body(person)),
              ("a-worker1", visit_body(person, closed=False)),
              ("a-worker1", visit_body(person, minutes=2, check_in=far)),
              ("a-worker1", visit_body(person, start=utcnow() + timedelta(hours=2))),
              ("a-worker2", visit_body(world["people"]["黄秀兰"], device_id="phone-a1"))]
    for username, body in bodies:
        headers = worker(username)
        answer = post_visit(client, headers, body)
        assert answer.status_code == 201, answer.get_data(as_text=True)
        created = answer.get_json()
        again = client.get(f"/api/v1/visits/{created['id']}", headers=headers)
        assert again.status_code == 200 and again.get_json() == created
        assert answer.headers["Location"].endswith(f"/api/v1/visits/{created['id']}")
        codes = {e["code"] for e in created["exceptions"]}
        if body["check_in"]["lat"] != HOME[0]:
            assert {"V02", "V03"} <= codes and created["distance_from_home_m"] > 5000
        if "check_out" not in body:
            assert created["status"] == "pending" and not codes
        with support.as_platform(app):
            after = db.session.execute(select(AuditEntry.after).where(
                AuditEntry.object_type == "Visit", AuditEntry.object_id == str(created["id"]),
                AuditEntry.action == "insert")).scalar_one()
            exceptions = db.session.scalars(select(AuditEntry.object_id).where(
                AuditEntry.object_type == "VisitException", AuditEntry.action == "insert")).all()
        assert set(after) == {c.key for c in Visit.__table__.columns}
        assert after["check_in_lat"] == after["notes"] == "[redacted]"
        assert after["client_id"] == body["client_id"] and after["status"] == created["status"]
        assert {str(e["id"]) for e in created["exceptions"]} <= set(exceptions)
        # the same body again: 200 with the stored visit, as GET reads it
        replay = post_visit(client, headers, body)
        assert replay.status_code == 200 and replay.get_json() == created
