"""Small maps drawn as SVG from coordinates, with no tiles (no network at the bureau is assumed):
one visit — the beneficiary's home, the check-in and check-out points and the geofence circle of
rule V02 — and one worker's day — the visits' check-ins numbered in time order and joined, each
home marked. Coordinates are private: only the bureau's visit readers see these maps."""
from datetime import timedelta

from sqlalchemy import select

from portal.core.geo import MapFrame, haversine_m
from portal.core.timeutil import local_midnight_utc
from portal.extensions import db
from portal.tenancy.scope import current_tenant_id
from portal.tenancy.services import settings_for
from portal.visits import reports
from portal.visits.models import Visit

WIDTH, HEIGHT, MARGIN = 480, 330, 28  # the map's box; the legend and scale bar sit below it
LEGEND_HEIGHT = 70
SCALE_BAR_MAX_PX = 140


def geofence_radius_m():
    """The radius V02 judges a check-in by: the bureau's ``geofence_radius_m``."""
    return settings_for(current_tenant_id())["geofence_radius_m"]


def _home(person):
    if person is None or person.lat is None or person.lon is None:
        return None
    return person.lat, person.lon


def _distance(home, point):
    return None if home is None or point is None else round(haversine_m(*home, *point))


def _frame(points):
    frame = MapFrame(points, WIDTH, HEIGHT, MARGIN)
    metres, pixels = frame.scale_bar(SCALE_BAR_MAX_PX)
    return frame, {"metres": metres, "px": pixels}


def visit_map(visit):
    """What the visit's map draws: pixel positions of the home, check-in and check-out (None when
    missing), the geofence circle around the home, the scale bar, distances and what is missing."""
    radius = geofence_radius_m()
    home = _home(visit.beneficiary)
    check_in = (visit.check_in_lat, visit.check_in_lon)
    check_out = None
    if visit.check_out_lat is not None and visit.check_out_lon is not None:
        check_out = (visit.check_out_lat, visit.check_out_lon)
    points = [(*check_in, 0)] + ([(*check_out, 0)] if check_out else []) + ([(*home, radius)] if home else [])
    frame, bar = _frame(points)
    return {"width": WIDTH, "height": HEIGHT, "total_height": HEIGHT + LEGEND_HEIGHT, "bar": bar,
            "radius_m": radius, "radius_px": frame.px(radius), "scale": frame.scale,
            "home": frame.to_px(*home) if home else None, "check_in": frame.to_px(*check_in),
            "check_out": frame.to_px(*check_out) if check_out else None,
            "in_distance": _distance(home, check_in), "out_distance": _distance(home, check_out),
            "missing_home": home is None, "missing_check_out": check_out is None}


def day_visits(worker_user_id, day):
    """One worker's visits checked in on ``day`` (Beijing), in time order."""
    start, end = local_midnight_utc(day), local_midnight_utc(day + timedelta(days=1))
    return db.session.scalars(select(Visit).where(
        Visit.worker_user_id == worker_user_id, Visit.check_in_at >= start, Visit.check_in_at < end)
        .order_by(Visit.check_in_at, Visit.id)).all()


def day_map(visits):
    """The day's map: each visit's check-in numbered in time order (joined by a line), each
    distinct home a marker, the scale bar. Visits without a home still show their check-in."""
    homes = {}
    for visit in visits:
        home = _home(visit.beneficiary)
        if home is not None:
            homes.setdefault(visit.beneficiary_id, home)
    points = [(v.check_in_lat, v.check_in_lon, 0) for v in visits] + [(*h, 0) for h in homes.values()]
    frame, bar = _frame(points)
    stops = []
    for number, visit in enumerate(visits, start=1):
        home = _home(visit.beneficiary)
        stops.append({"number": number, "visit": visit, "at": frame.to_px(visit.check_in_lat, visit.check_in_lon),
                      "distance": _distance(home, (visit.check_in_lat, visit.check_in_lon)),
                      "no_home": home is None})
    return {"width": WIDTH, "height": HEIGHT, "total_height": HEIGHT + LEGEND_HEIGHT, "bar": bar,
            "stops": stops, "homes": [frame.to_px(*h) for h in homes.values()],
            "path": " ".join(f"{s['at'][0]},{s['at'][1]}" for s in stops),
            "worker": reports.worker_name(visits[0]) if visits else "—"}
