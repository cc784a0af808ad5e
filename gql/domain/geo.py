"""Distances on the earth and the boxes that bound them: the exact distance a radius
search keeps sites by, and the latitude/longitude boxes a spatial index is asked for
first (a superset of the sites within the radius).

Angles are degrees; longitudes run from -180 to 180.
"""

from __future__ import annotations

import math
from typing import Final, NamedTuple

# The mean earth radius (IUGG), the sphere great-circle distances are measured on.
EARTH_RADIUS_KM: Final = 6371.0088

# Boxes are widened by this many degrees (about 0.1 mm), so a site exactly on a radius
# is never cut by the rounding of the box's own arithmetic; the exact distance decides.
_BOX_MARGIN_DEGREES: Final = 1e-9


class LatLonBox(NamedTuple):
    """A box that does not cross the antimeridian: ``west <= east``, edges included."""

    south: float
    west: float
    north: float
    east: float


def haversine_km(latitude1: float, longitude1: float, latitude2: float, longitude2: float) -> float:
    """The great-circle distance between two points, by the haversine formula (exact on
    the sphere, and well conditioned for short distances)."""
    phi1 = math.radians(latitude1)
    phi2 = math.radians(latitude2)
    half_chord = (
        math.sin(math.radians(latitude2 - latitude1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(longitude2 - longitude1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(half_chord)))


def radius_boxes(latitude: float, longitude: float, radius_km: float) -> list[LatLonBox]:
    """Boxes (one, or two across the antimeridian) holding every point within
    ``radius_km`` of the centre.

    The latitude span is the radius's angle either side. The longitude span is the
    widest a circle of that angle reaches (asin(sin r / cos latitude), J. P. Matuschek,
    "Finding Points Within a Distance of a Latitude/Longitude Using Bounding
    Coordinates"); when the circle reaches a pole every longitude is in it.
    """
    angle = math.degrees(radius_km / EARTH_RADIUS_KM) + _BOX_MARGIN_DEGREES
    south = latitude - angle
    north = latitude + angle
    if south <= -90 or north >= 90:
        return [LatLonBox(max(south, -90.0), -180.0, min(north, 90.0), 180.0)]
    spread = (
        math.degrees(
            math.asin(min(1.0, math.sin(math.radians(angle)) / math.cos(math.radians(latitude))))
        )
        + _BOX_MARGIN_DEGREES
    )
    return split_at_antimeridian(south, longitude - spread, north, longitude + spread)


def split_at_antimeridian(south: float, west: float, north: float, east: float) -> list[LatLonBox]:
    """The box from ``west`` eastwards to ``east`` as boxes within -180..180: ``west >
    east`` crosses the antimeridian (a map view), and so does an edge past +-180 (a
    radius box); the part beyond it is wrapped round."""
    if west > east:
        return [LatLonBox(south, west, north, 180.0), LatLonBox(south, -180.0, north, east)]
    if east - west >= 360:
        return [LatLonBox(south, -180.0, north, 180.0)]
    if west < -180:
        return [LatLonBox(south, west + 360, north, 180.0), LatLonBox(south, -180.0, north, east)]
    if east > 180:
        return [LatLonBox(south, west, north, 180.0), LatLonBox(south, -180.0, north, east - 360)]
    return [LatLonBox(south, west, north, east)]
