"""Distances on the Earth's surface."""
from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_000.0  # mean radius (IUGG)


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres between two WGS-84 points given in degrees."""
    phi1, phi2 = radians(lat1), radians(lat2)
    dphi, dlambda = phi2 - phi1, radians(lon2 - lon1)
    a = sin(dphi / 2) ** 2 + cos(phi1) * cos(phi2) * sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(a)))


# --- a small map drawn from coordinates (no tiles) --------------------------------------------------

METRES_PER_DEGREE = 111_320.0  # one degree of latitude; of longitude, times cos(latitude)
NICE_STEPS = (1, 2, 5)


def local_metres(lat, lon, lat0, lon0):
    """(east, north) in metres of a point from (lat0, lon0): a local equirectangular projection,
    good to well under a metre over the few kilometres of a worker's day."""
    return (lon - lon0) * METRES_PER_DEGREE * cos(radians(lat0)), (lat - lat0) * METRES_PER_DEGREE


def nice_length(limit):
    """The longest 1, 2 or 5 × 10^k metres not longer than ``limit`` (at least 1)."""
    best, power = 1, 1
    while power <= limit:
        for step in NICE_STEPS:
            if step * power <= limit:
                best = step * power
        power *= 10
    return best


class MapFrame:
    """Where points go in an SVG box: the bounding box (in metres) of every point and circle,
    centred in ``width`` × ``height`` less ``margin`` on each side, one scale for both axes
    (pixels per metre), north up. ``min_span_m`` keeps a single point from filling the box."""

    def __init__(self, points, width, height, margin, min_span_m=200.0):
        points = [(lat, lon, radius or 0.0) for lat, lon, radius in points]
        self.width, self.height = width, height
        if not points:
            self.lat0, self.lon0, self.scale, self.centre = 0.0, 0.0, 1.0, (0.0, 0.0)
            return
        self.lat0 = (min(p[0] for p in points) + max(p[0] for p in points)) / 2
        self.lon0 = (min(p[1] for p in points) + max(p[1] for p in points)) / 2
        xs, ys = [], []
        for lat, lon, radius in points:
            x, y = local_metres(lat, lon, self.lat0, self.lon0)
            xs += [x - radius, x + radius]
            ys += [y - radius, y + radius]
        span_x = max(max(xs) - min(xs), min_span_m)
        span_y = max(max(ys) - min(ys), min_span_m)
        self.centre = ((max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2)
        self.scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)

    def to_px(self, lat, lon):
        """(x, y) in the SVG box, rounded to a tenth of a pixel."""
        x, y = local_metres(lat, lon, self.lat0, self.lon0)
        return (round(self.width / 2 + (x - self.centre[0]) * self.scale, 1),
                round(self.height / 2 - (y - self.centre[1]) * self.scale, 1))

    def px(self, metres):
        """A length in metres as pixels at this frame's scale."""
        return round(metres * self.scale, 1)

    def scale_bar(self, max_px):
        """(metres, pixels) of a scale bar of a round length at most ``max_px`` long."""
        metres = nice_length(max_px / self.scale)
        return metres, self.px(metres)
