"""The field-worker web app through a real browser with Playwright's geolocation: a worker checks in
and out at a beneficiary's home and sees the visit verified; a second visit made offline (with a
photo) stays queued in the browser and, once the network is back, reaches the server exactly once."""
import re
import struct
import zlib

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests import beneficiary_world as bw
from tests import contract_world as cw
from tests.browser.test_foundation_browser import press, sign_in

pytestmark = pytest.mark.browser

HOME = {"lat": 25.861, "lon": 115.012}  # bw.register's default home
NEAR_HOME = {"latitude": 25.8612, "longitude": 115.0121, "accuracy": 12}  # about 25 m away
QUICK_VISIT = (("CARE-VISIT", "上门照料护理服务", "visit", 0, 240, False),)  # no minimum, no photo required


def tiny_png(width=8, height=8):
    """A valid RGB PNG, so the browser can decode and re-encode it like a camera photo."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    rows = b"".join(b"\x00" + bytes((200, 40, 40)) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def field_world(app):
    """A's active care contract with a quick CARE-VISIT, a-worker1 on its work list and two
    people at home near the demo coordinates, both assigned to a-worker1."""
    contract = bw.make_contract(app, "ganxian", "a-manager", items=QUICK_VISIT)
    bw.put_on_work_list(app, "ganxian", contract, "a-worker1")
    people = {name: bw.register(app, "ganxian", name, bw.number(seq), **HOME)
              for seq, name in ((21, "刘桂英"), (22, "陈德福"))}
    for person in people.values():
        bw.assign(app, "ganxian", contract, person, "a-worker1")
    return contract, people


def visits_with(app, client_id):
    from portal.extensions import db
    from portal.visits.models import Visit, VisitPhoto
    with app.app_context(), cw.scope(app):
        visits = db.session.execute(select(Visit).where(Visit.client_id == client_id)).scalars().all()
        photos = db.session.execute(select(func.count(VisitPhoto.id))
                                    .where(VisitPhoto.visit_id.in_([v.id for v in visits] or [0]))).scalar_one()
        return [(v.status, v.source, v.check_out_at is not None) for v in visits], photos


def stored_queue(page):
    """What the page keeps in localStorage: (visits still owing the server something, all visits)."""
    return page.evaluate("""() => {
        const key = document.getElementById("main").dataset.queueKey;
        const visits = (JSON.parse(localStorage.getItem(key) || "null") || {visits: []}).visits;
        const owing = visits.filter(v => v.problem || v.id === null || (v.check_out && !v.checkout_sent)
                                         || v.photos.length > 0);
        return [owing.length, visits.length];
    }""")


def test_field_worker_visit_is_verified_and_an_offline_visit_is_sent_exactly_once(app, page, live_server, demo,
                                                                                 run_worker):
    contract, people = field_world(app)
    context = page.context
    context.grant_permissions(["geolocation"], origin=live_server.url)
    context.set_geolocation(NEAR_HOME)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    posted = []
    page.on("request", lambda request: posted.append(request.post_data or "") if (
        request.method == "POST" and request.url.endswith("/api/v1/visits")) else None)

    sign_in(page, "a-worker1")
    expect(page).to_have_url(re.compile(r"/field/$"))  # a field worker's home is the field app (issue 22)
    expect(page.locator("h1")).to_have_text("今日上门服务")
    expect(page.locator('nav a[href="/field/"]')).to_have_count(0)  # the app has its own compact header
    first = page.locator(f"#card-{people['刘桂英']}-{contract}")
    second = page.locator(f"#card-{people['陈德福']}-{contract}")
    expect(first.locator("h2")).to_have_text("刘*英")  # masked names only
    expect(second.locator("h2")).to_have_text("陈*福")
    expect(page.locator("main")).not_to_contain_text("刘桂英")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")

    # 1. Online: check in at the home, check out, and the rules verify the visit.
    first.locator("button.check-in").click()
    row = first.locator(".visit-row")
    expect(row).to_have_attribute("data-state", "sent")
    expect(row.locator(".visit-facts")).to_contain_text("±12")
    first.locator("button.check-out").click()
    expect(row.locator(".visit-times")).to_contain_text("–")  # checked out on the phone…
    expect(row).to_have_attribute("data-state", "sent")  # …and the server has the check-out
    expect(row).not_to_have_attribute("data-status", "")
    run_worker()  # PostgreSQL pass: the comparison job runs on a real RQ worker
    expect(row).to_have_attribute("data-status", "verified", timeout=30_000)
    expect(row.locator(".visit-status")).to_have_text("已核验")
    first_id = row.get_attribute("data-client-id")
    assert visits_with(app, first_id) == ([("verified", "web", True)], 0)

    # 2. Offline: the second visit, with a photo, stays in the browser.
    context.set_offline(True)
    expect(page.locator("#network-state")).to_have_class("network-state is-offline")
    second.locator("button.check-in").click()
    offline_row = second.locator(".visit-row")
    expect(offline_row).to_have_attribute("data-state", "queued")
    second.locator("input.photo-input").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": tiny_png()})
    expect(offline_row.locator(".photo-count")).to_contain_text("1")
    second.locator("button.check-out").click()
    expect(offline_row.locator(".visit-times")).to_contain_text("–")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "1")
    offline_id = offline_row.get_attribute("data-client-id")
    assert stored_queue(page) == [1, 2]
    assert visits_with(app, offline_id) == ([], 0)
    page.screenshot(path=str(_screenshot_path("offline_queue")), full_page=True)

    # 3. Back online: the queue is flushed by the `online` event, and the visit is stored once.
    context.set_offline(False)
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0", timeout=15_000)
    expect(offline_row).to_have_attribute("data-state", "sent")
    run_worker()
    expect(offline_row).to_have_attribute("data-status", "verified", timeout=30_000)
    assert stored_queue(page) == [0, 2]
    assert visits_with(app, offline_id) == ([("verified", "web", True)], 1)
    assert sum(offline_id in body for body in posted) == 1  # one request carried check-in and check-out

    # A reload flushes an empty queue and sends nothing again.
    page.reload()
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    expect(second.locator(".visit-row")).to_have_attribute("data-status", "verified")
    assert sum(offline_id in body for body in posted) == 1
    assert visits_with(app, offline_id)[0] == [("verified", "web", True)]


def _screenshot_path(name):
    from tests.browser.conftest import SCREENSHOTS
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"test_field_app_{name}.png"


def test_field_page_is_for_field_workers_and_works_in_care_mode(app, page, live_server, demo):
    field_world(app)
    sign_in(page, "gx-officer")
    response = page.goto("/field/")
    assert response.status == 403
    page.context.clear_cookies()

    page.context.add_cookies([{"name": "care", "value": "1", "url": live_server.url}])
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, "a-worker1")
    page.goto("/field/")
    expect(page.locator("body")).to_have_class("field-app care-mode")
    button = page.locator("button.check-in").first
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["height"] >= 56 and box["width"] >= 300  # a large touch target across the card
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone


def test_a_queued_visit_the_server_refuses_as_a_conflict_stays_until_the_worker_discards_it(app, page, live_server,
                                                                                           demo, client, api_token):
    contract, people = field_world(app)
    client_id = "6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b"
    check_in = {"at": "2026-11-29T09:00:00+08:00", "lat": HOME["lat"], "lon": HOME["lon"]}
    stored = client.post("/api/v1/visits", headers=api_token("a-worker1"), json={
        "client_id": client_id, "beneficiary_id": people["刘桂英"], "service_item": "CARE-VISIT",
        "device_id": "phone-1", "check_in": check_in})
    assert stored.status_code == 201

    sign_in(page, "a-worker1")
    page.goto("/field/")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    # The same client id with another check-in time, as if a second phone had made it up.
    page.evaluate("""([clientId, beneficiaryId, contractId, lat, lon]) => {
        const key = document.getElementById("main").dataset.queueKey;
        const visit = {client_id: clientId, beneficiary_id: beneficiaryId, contract_id: contractId,
                       service_item: "CARE-VISIT", device_id: "web-test", day: "2026-11-29",
                       check_in: {at: "2026-11-29T01:05:00.000Z", lat: lat, lon: lon}, check_out: null, body: null,
                       id: null, checkout_sent: false, photos: [], photos_sent: 0, problem: null, status: null,
                       exceptions: []};
        localStorage.setItem(key, JSON.stringify({visits: [visit]}));
    }""", [client_id, people["刘桂英"], contract, HOME["lat"], HOME["lon"]])
    page.reload()  # the queue is flushed on page load

    row = page.locator(f'.visit-row[data-client-id="{client_id}"]')
    expect(row).to_have_attribute("data-state", "conflict")
    expect(row.locator(".visit-state")).to_contain_text("冲突")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "1")  # kept for the worker to decide
    page.locator("#send-now").click()
    expect(row).to_have_attribute("data-state", "conflict")
    assert visits_with(app, client_id)[0] == [("pending", "app", False)]  # the stored visit is untouched

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button.discard-button").click()
    expect(row).to_have_count(0)
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    assert stored_queue(page) == [0, 0]


def test_the_page_opens_offline_from_its_service_worker_with_the_saved_assignments(app, page, live_server, demo):
    field_world(app)
    sign_in(page, "a-worker1")
    page.goto("/field/")
    expect(page.locator(".assignment-card")).to_have_count(2)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now under the service worker's control, which keeps the page as it passes
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")

    page.context.set_offline(True)
    page.reload()
    expect(page.locator("h1")).to_have_text("今日上门服务")
    expect(page.locator("#assignments-message")).to_have_text("当前离线：显示本机保存的服务对象。")
    expect(page.locator(".assignment-card h2")).to_have_text(["刘*英", "陈*福"])
    expect(page.locator("button.check-in").first).to_be_enabled()

    # Signing out forgets the offline copy and the saved lists of both field pages (the assessment
    # page's too): the next person sees neither. The queues (unsent work) stay.
    page.context.set_offline(False)
    key = page.locator("main").get_attribute("data-queue-key")  # field:<user id>:<bureau>
    scope = key[len("field:"):]
    page.evaluate("""(scope) => {
        localStorage.setItem("field:" + scope + ":assessment-assignments", "[]");
        localStorage.setItem("field-assessments:" + scope + ":sent-today", "[]");
        localStorage.setItem("field-assessments:" + scope, '{"assessments": []}');
    }""", scope)
    press(page, page.locator("#sign-out-form button"))
    assert page.evaluate("caches.keys()") == []
    assert page.evaluate("Object.keys(localStorage).filter(k => k.endsWith(':assignments'))") == []
    left = page.evaluate("Object.keys(localStorage)")
    assert f"field:{scope}:assessment-assignments" not in left and f"field-assessments:{scope}:sent-today" not in left
    assert f"field-assessments:{scope}" in left
