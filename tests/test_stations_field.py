"""The station check-in page of the field-worker web app (/field/stations/): it renders for field
workers with their postings of the day and its words in Chinese, for nobody else; the field app's
home links to it only for a worker posted today; the service worker keeps the page and its script
for offline use. The page itself is driven in a browser (tests/browser/test_station_field.py)."""
import json
import re

import pytest

from tests import station_world as sw


@pytest.fixture
def world(app):
    return sw.station_world(app)


def messages_of(page):
    found = re.search(r'<script type="application/json" id="field-messages">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))


def test_the_page_gives_the_workers_postings_and_chinese_words(app, world, login):
    page = login("a-worker1").get("/field/stations/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "js/field-station.js" in html and "js/field-queue.js" in html
    assert 'data-queue-key="field-stations:' in html
    messages = messages_of(html)
    assert [p["station_id"] for p in messages["postings"]] == [world["stations"]["TS-01"]]
    assert messages["postings"][0]["name"] == "梅林镇社工站"
    # the station's place and own radius (a public facility, not a person): the page warns before a
    # check-in beyond its geofence (issue 22); the bureau's radius where the station has none
    shown = messages["postings"][0]
    assert (shown["lat"], shown["lon"], shown["radius_m"]) == (25.88, shown["lon"], sw.RADIUS_M)
    assert isinstance(shown["lon"], float) and messages["geofence_radius_m"] == 300
    assert "位置" in messages["position_denied"]  # the denied-location message is the page's own, in Chinese
    assert re.search(r"[\u4e00-\u9fff]", messages["check_in"]) and re.search(r"[\u4e00-\u9fff]", messages["flagged"])
    other = messages_of(login("b-worker1").get("/field/stations/").get_data(as_text=True))
    assert other["postings"] == []


def test_what_reached_the_server_today_comes_with_the_page(app, world, login):
    from portal.core.timeutil import local_today
    sw.check_in(app, world, "a-worker1", local_today(), hour=0)
    messages = messages_of(login("a-worker1").get("/field/stations/").get_data(as_text=True))
    assert len(messages["sent_today"]) == 1 and messages["sent_today"][0]["status"] in ("counted", "flagged")


def test_only_field_workers_open_it(app, world, login, client):
    assert login("gx-officer").get("/field/stations/").status_code == 403
    assert login("a-manager", tenant="ganxian").get("/field/stations/").status_code == 403
    response = client.get("/field/stations/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_field_home_links_to_the_check_in_only_for_a_worker_posted_today(app, world, login):
    home = login("a-worker1").get("/field/").get_data(as_text=True)
    assert 'id="station-checkin-link"' in home and 'href="/field/stations/"' in home
    other = login("b-worker1").get("/field/")
    assert other.status_code == 200 and 'id="station-checkin-link"' not in other.get_data(as_text=True)


def test_the_service_worker_keeps_the_check_in_page_and_its_script(client):
    script = client.get("/field/sw.js").get_data(as_text=True)
    assert 'SCOPE + "stations/"' in script and '"js/field-station.js"' in script
    assert client.get("/static/js/field-station.js").status_code == 200
