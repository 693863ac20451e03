"""The small maps of a visit and of a worker's day (issue 22, item 7): drawn as SVG from
coordinates with no tiles and no external resource; the geofence circle at the scale of the scale
bar; far-apart points inside the box; what is missing said in words; bureau readers only."""
import re

import pytest

from portal.core.geo import MapFrame, haversine_m, nice_length
from portal.extensions import db
from tests.beneficiary_world import care_world
from tests.visit_world import DAY, HOME, at, record, scope, update_visit

pytestmark = pytest.mark.usefixtures("own_queue")


@pytest.fixture
def world(app, demo):
    return care_world(app)


def _svg(html, css_class):
    match = re.search(rf'<svg class="{css_class}".*?</svg>', html, re.S)
    assert match, f"no {css_class} in the page"
    return match.group(0)


def _number(svg, pattern):
    return float(re.search(pattern, svg).group(1))


def _points(svg):
    """Every x/y a marker of the map uses (circle centres, rectangle corners, polygon points)."""
    body = " ".join(re.findall(r'<(?:rect|circle|polygon|polyline) class="map-(?:home|check-in|check-out|route)"[^>]*>',
                               svg.split('<g class="map-legend"')[0]))
    xs = [float(v) for v in re.findall(r'\b(?:cx|x)="(-?[\d.]+)"', body)]
    ys = [float(v) for v in re.findall(r'\b(?:cy|y)="(-?[\d.]+)"', body)]
    for pair in re.findall(r'points="([^"]+)"', body):
        for point in pair.split():
            x, y = point.split(",")
            xs.append(float(x))
            ys.append(float(y))
    return xs, ys


def _radius_setting(app):
    from portal.tenancy.scope import current_tenant_id
    from portal.tenancy.services import settings_for
    with app.app_context(), scope(app):
        return settings_for(current_tenant_id())["geofence_radius_m"]


def test_nice_lengths_and_a_frame_that_holds_its_points():
    assert [nice_length(v) for v in (0.5, 7, 140, 260, 999, 1000, 4999)] == [1, 5, 100, 200, 500, 1000, 2000]
    frame = MapFrame([(25.0, 115.0, 300), (25.5, 115.5, 0)], 480, 330, 28)
    for lat, lon in ((25.0, 115.0), (25.5, 115.5)):
        x, y = frame.to_px(lat, lon)
        assert 28 - 0.2 <= x <= 452.2 and 28 - 0.2 <= y <= 302.2
    north = frame.to_px(25.5, 115.0)
    south = frame.to_px(25.0, 115.0)
    assert north[1] < south[1]  # north is up
    # one scale for both axes: 1 km east and 1 km north are the same length on the map
    east_km = 1000 / (111_320 * 0.9063)
    assert abs((frame.to_px(25.0, 115.0 + east_km)[0] - south[0]) - (south[1] - frame.to_px(25.0 + 1000 / 111_320, 115.0)[1])) < 1


def test_the_visit_map_shows_home_check_in_check_out_and_the_geofence_to_scale(app, login, world):
    visit_id = record(app, world["people"]["刘桂英"], start=at(DAY, 8))
    # checked in about 620 m north-east of the home, checked out 150 m east of it
    update_visit(app, visit_id, check_in_lat=HOME[0] + 0.004, check_in_lon=HOME[1] + 0.004,
                 check_out_lat=HOME[0], check_out_lon=HOME[1] + 0.0015)
    html = login("gx-supervisor").get(f"/supervision/visits/{visit_id}").get_data(as_text=True)
    svg = _svg(html, "visit-map")
    for marker in ("map-home", "map-check-in", "map-check-out", "map-geofence", "map-scale-bar", "map-north"):
        assert f'class="{marker}"' in svg
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    radius_m = _radius_setting(app)
    bar_m = _number(svg, r'data-metres="([\d.]+)"')
    bar_px = _number(svg, r'data-px="([\d.]+)"')
    geofence = re.search(r'<circle class="map-geofence"[^>]*>', svg).group(0)
    assert _number(geofence, r'data-radius-m="([\d.]+)"') == radius_m
    assert abs(_number(geofence, r'\br="([\d.]+)"') - radius_m * bar_px / bar_m) < 0.3
    # the circle is centred on the home marker
    home = re.search(r'<rect class="map-home" x="([\d.]+)" y="([\d.]+)"', svg)
    assert abs(float(home.group(1)) + 7 - _number(geofence, r'cx="([\d.]+)"')) < 0.2
    distance = round(haversine_m(*HOME, HOME[0] + 0.004, HOME[1] + 0.004))
    assert f"签到点距家 {distance} 米" in html and "地理围栏半径" in html and "北" in svg
    assert "http" not in svg and "href" not in svg and "url(" not in svg and "<image" not in svg


def test_far_apart_points_still_fit_the_box(app, login, world):
    visit_id = record(app, world["people"]["陈德福"], start=at(DAY, 13))
    update_visit(app, visit_id, check_in_lat=HOME[0] + 0.45, check_in_lon=HOME[1] - 0.6,  # ~80 km away
                 check_out_lat=HOME[0] - 0.3, check_out_lon=HOME[1] + 0.5)
    svg = _svg(login("gx-supervisor").get(f"/supervision/visits/{visit_id}").get_data(as_text=True), "visit-map")
    width, height = 480, 330
    xs, ys = _points(svg)
    assert xs and all(0 <= x <= width for x in xs) and all(0 <= y <= height for y in ys)
    geofence = re.search(r'<circle class="map-geofence"[^>]*>', svg).group(0)
    cx, cy, r = (_number(geofence, rf'\b{name}="([\d.]+)"') for name in ("cx", "cy", "r"))
    assert 0 <= cx - r and cx + r <= width and 0 <= cy - r and cy + r <= height


def test_a_visit_without_check_out_or_home_coordinates_says_what_is_missing(app, login, world):
    from portal.beneficiaries.models import Beneficiary
    person = world["people"]["黄秀兰"]
    open_visit = record(app, person, username="a-worker2", device="p2", start=at(DAY, 15), check_out=False)
    html = login("gx-supervisor").get(f"/supervision/visits/{open_visit}").get_data(as_text=True)
    svg = _svg(html, "visit-map")
    assert "map-check-out" not in svg and "map-home" in svg and "本次服务没有签退记录" in html
    with app.app_context(), scope(app):
        db.session.get(Beneficiary, person).lat = None
        db.session.commit()
    try:
        page = login("gx-supervisor").get(f"/supervision/visits/{open_visit}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        svg = _svg(html, "visit-map")
        assert "map-home" not in svg and "map-geofence" not in svg and "map-check-in" in svg
        assert "没有家庭住址坐标" in html
        day = login("gx-supervisor").get(f"/supervision/visits/day-map?day={DAY.isoformat()}&worker=" +
                                         re.search(r'worker=(\d+)', html).group(1))
        assert day.status_code == 200 and "家无坐标" in day.get_data(as_text=True)
    finally:
        with app.app_context(), scope(app):
            db.session.get(Beneficiary, person).lat = HOME[0]
            db.session.commit()


def test_the_day_map_numbers_a_workers_visits_in_time_order(app, login, world):
    people = world["people"]
    later = record(app, people["陈德福"], start=at(DAY, 16))
    earlier = record(app, people["刘桂英"], start=at(DAY, 11))
    update_visit(app, later, check_in_lat=HOME[0] + 0.01, check_in_lon=HOME[1] + 0.01)
    supervisor = login("gx-supervisor")
    timeline = supervisor.get(f"/supervision/visits/timeline?day={DAY.isoformat()}").get_data(as_text=True)
    link = re.search(r'href="(/supervision/visits/day-map\?[^"]+)"', timeline).group(1).replace("&amp;", "&")
    page = supervisor.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    svg = _svg(html, "day-map")
    assert 'class="map-route"' in svg and 'role="img"' in svg and "http" not in svg
    numbers = re.findall(r'font-weight="700"[^>]*>(\d+)</text>', svg)
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)] and len(numbers) >= 2
    rows = re.findall(r'/supervision/visits/(\d+)"', html.split("<table>")[1])
    assert rows.index(str(earlier)) < rows.index(str(later))


def test_only_bureau_readers_see_the_maps(app, login, world):
    visit_id = record(app, world["people"]["刘桂英"], start=at(DAY, 18))
    assert login("b-manager", tenant="ganxian").get(f"/supervision/visits/{visit_id}").status_code == 404
    assert login("zg-officer").get(f"/supervision/visits/{visit_id}").status_code == 404
    own = login("a-manager", tenant="ganxian").get(f"/supervision/visits/{visit_id}")
    assert own.status_code == 200 and "visit-map" not in own.get_data(as_text=True)
    assert login("a-manager", tenant="ganxian").get("/supervision/visits/day-map").status_code in (403, 404)
    other = login("zg-officer").get(f"/supervision/visits/day-map?day={DAY.isoformat()}&worker=1")
    assert other.status_code == 200 and "day-map\"" not in other.get_data(as_text=True)
