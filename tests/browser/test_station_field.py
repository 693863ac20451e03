"""The station check-in of the field-worker web app through a real browser, on a phone viewport
(docs/DOMAIN.md §6 "Stations and training"): a worker posted to a station finds the check-in from
the field home, checks in offline at the station; it waits on the phone and, once the network is
back, reaches the server exactly once and the card says it counted. A check-in 600 m away is said
to be outside the geofence with its distance; with location access denied the page says so in
Chinese and nothing is queued."""
import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from tests import station_world as sw
from tests.browser.test_foundation_browser import press, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def stored_with(app, client_id):
    from portal.stations.models import StationCheckIn
    with app.app_context(), sw.scope(app):
        return [(c.status, c.staff_id, c.device_id.startswith("web-"))
                for c in db.session.execute(select(StationCheckIn).where(StationCheckIn.client_id == client_id))
                .scalars()]


def at_station(page, live_server, metres_north=0):
    lat, lon = sw.STATION_AT["TS-01"]
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": lat + metres_north / 111_320, "longitude": lon, "accuracy": 8})


def test_an_offline_check_in_is_sent_once_and_says_it_counted(app, page, live_server):
    world = sw.station_world(app)
    posted = []
    page.on("request", lambda request: posted.append(request.post_data or "") if (
        request.method == "POST" and request.url.endswith("/api/v1/station-checkins")) else None)
    page.set_viewport_size(PHONE)
    at_station(page, live_server)
    sign_in(page, "a-worker1")
    page.goto("/field/")
    press(page, page.locator("#station-checkin-link"))
    expect(page.locator("h1")).to_have_text("站点签到")
    card = page.locator(f"#station-{world['stations']['TS-01']}")
    expect(card.locator("h2")).to_have_text("梅林镇社工站")

    page.context.set_offline(True)
    expect(page.locator("#network-state")).to_have_class("network-state is-offline")
    card.locator("button.station-check-in").click()
    row = card.locator(".checkin-row")
    expect(row).to_have_attribute("data-state", "queued")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "1")
    client_id = row.get_attribute("data-client-id")
    assert stored_with(app, client_id) == [] and posted == []

    page.context.set_offline(False)
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0", timeout=15_000)
    expect(row).to_have_attribute("data-state", "sent")
    expect(row).to_have_attribute("data-status", "counted")
    expect(row.locator(".checkin-result")).to_contain_text("已计入")
    assert stored_with(app, client_id) == [("counted", world["staff"]["a-worker1"], True)]
    assert sum(client_id in body for body in posted) == 1

    # A reload sends nothing again and keeps the answer on the card.
    page.reload()
    expect(card.locator(".checkin-row")).to_have_attribute("data-status", "counted")
    page.wait_for_load_state("networkidle")
    assert sum(client_id in body for body in posted) == 1 and len(stored_with(app, client_id)) == 1


def test_outside_the_geofence_the_distance_is_said_and_a_denied_location_in_chinese(app, page, live_server):
    world = sw.station_world(app)
    page.set_viewport_size(PHONE)
    sign_in(page, "a-worker1")
    page.goto("/field/stations/")
    card = page.locator(f"#station-{world['stations']['TS-01']}")
    # no location access: the page's own words, and nothing queued
    card.locator("button.station-check-in").click()
    expect(card.locator(".card-message")).to_contain_text("位置")
    expect(page.locator("#queue-count")).to_have_attribute("data-count", "0")
    expect(card.locator(".checkin-row")).to_have_count(0)

    at_station(page, live_server, metres_north=600)
    card.locator("button.station-check-in").click()
    # said before anything is kept or sent (issue 22): the distance and the station's range;
    # cancelling records nothing, going on records the flagged check-in
    dialog = page.locator("#warning-dialog")
    expect(dialog.locator("#warning-text")).to_contain_text(  # the station's own radius, not the bureau's 300 m
        re.compile(rf"距服务站约 (59\d|60\d) 米，超出其 {sw.RADIUS_M} 米范围"))
    dialog.locator("#warning-cancel").click()
    expect(card.locator(".card-message")).to_have_text("已取消，未作任何记录。")
    expect(card.locator(".checkin-row")).to_have_count(0)
    card.locator("button.station-check-in").click()
    dialog.locator("#warning-proceed").click()  # no reason given: asked for one, nothing kept
    expect(dialog.locator("#warning-problem")).not_to_be_empty()
    expect(card.locator(".checkin-row")).to_have_count(0)
    dialog.locator("#warning-other").fill("服务站门口定位不准")
    dialog.locator("#warning-proceed").click()
    row = card.locator(".checkin-row")
    expect(row).to_have_attribute("data-status", "flagged", timeout=15_000)
    distance = int(row.get_attribute("data-distance"))
    assert 590 <= distance <= 610
    with app.app_context(), sw.scope(app):  # the reason went with the check-in, for the supervisor
        from portal.stations.models import StationCheckIn
        notes = [c.note for c in db.session.execute(select(StationCheckIn)).scalars()]
    assert len(notes) == 1 and "服务站门口定位不准" in notes[0] and f"范围 {sw.RADIUS_M} 米" in notes[0]
    expect(row.locator(".checkin-result")).to_contain_text(f"{distance} 米")
    expect(row.locator(".checkin-result")).to_contain_text("电子围栏外")
    # a second check-in the same day asks first
    page.once("dialog", lambda dialog: dialog.accept())
    at_station(page, live_server)
    card.locator("button.station-check-in").click()
    expect(card.locator(".checkin-row[data-status='counted']")).to_have_count(1, timeout=15_000)
