"""Great-circle distances and the boxes that bound a radius: every point within the
radius lies in a box, at the poles and across the antimeridian too."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gql.domain.geo import (
    EARTH_RADIUS_KM,
    LatLonBox,
    haversine_km,
    radius_boxes,
    split_at_antimeridian,
)
from tests.hypothesis_runs import reproducible


def _destination(
    latitude: float, longitude: float, bearing_degrees: float, distance_km: float
) -> tuple[float, float]:
    """The point ``distance_km`` from the start along ``bearing`` (the direct geodesic
    problem on the sphere), longitude wrapped into -180..180."""
    angle = distance_km / EARTH_RADIUS_KM
    phi1 = math.radians(latitude)
    theta = math.radians(bearing_degrees)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(angle) + math.cos(phi1) * math.sin(angle) * math.cos(theta)
    )
    lambda2 = math.radians(longitude) + math.atan2(
        math.sin(theta) * math.sin(angle) * math.cos(phi1),
        math.cos(angle) - math.sin(phi1) * math.sin(phi2),
    )
    wrapped = (math.degrees(lambda2) + 180) % 360 - 180
    return math.degrees(phi2), wrapped


def _in_some_box(boxes: list[LatLonBox], latitude: float, longitude: float) -> bool:
    return any(b.south <= latitude <= b.north and b.west <= longitude <= b.east for b in boxes)


def test_known_distances() -> None:
    # A degree of a meridian is a 360th of the circumference.
    assert haversine_km(10, 20, 11, 20) == pytest.approx(2 * math.pi * EARTH_RADIUS_KM / 360)
    # A quarter of the equator, and half of it across the antimeridian.
    assert haversine_km(0, 0, 0, 90) == pytest.approx(math.pi * EARTH_RADIUS_KM / 2)
    assert haversine_km(0, 170, 0, -170) == pytest.approx(haversine_km(0, 0, 0, 20))
    # Antipodes: rounding must not push asin past its domain.
    assert haversine_km(45, 10, -45, -170) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km(59.437, 24.7536, 59.437, 24.7536) == 0


def test_a_small_radius_is_one_box_around_the_centre() -> None:
    (box,) = radius_boxes(59.437, 24.7536, 10)
    assert box.south < 59.437 < box.north
    assert box.west < 24.7536 < box.east
    # 10 km is 0.09 degrees of latitude; the longitude spread is wider by 1/cos(latitude).
    assert box.north - 59.437 == pytest.approx(0.0899, abs=1e-4)
    assert box.east - 24.7536 == pytest.approx(0.0899 / math.cos(math.radians(59.437)), rel=1e-3)


def test_a_radius_across_the_antimeridian_is_two_boxes() -> None:
    boxes = radius_boxes(-17.0, 179.95, 20)
    assert len(boxes) == 2
    east_part, west_part = boxes
    assert east_part.east == 180
    assert west_part.west == -180
    assert east_part.west < 179.95
    assert -180 < west_part.east < -179.7


def test_a_radius_reaching_a_pole_takes_every_longitude() -> None:
    (box,) = radius_boxes(89.95, 10, 20)
    assert (box.west, box.east, box.north) == (-180, 180, 90)
    assert box.south == pytest.approx(89.95 - 0.18, abs=1e-3)
    (south_pole,) = radius_boxes(-90, 0, 1)
    assert (south_pole.south, south_pole.west, south_pole.east) == (-90, -180, 180)


def test_a_map_view_across_the_antimeridian_is_two_boxes() -> None:
    assert split_at_antimeridian(-20, 170, -10, -170) == [
        LatLonBox(-20, 170, -10, 180),
        LatLonBox(-20, -180, -10, -170),
    ]
    assert split_at_antimeridian(-20, 10, -10, 20) == [LatLonBox(-20, 10, -10, 20)]


@reproducible(examples=400, seed_text=None)
@given(
    latitude=st.floats(-90, 90),
    longitude=st.floats(-180, 180),
    radius_km=st.floats(0.001, 3000),
    bearing=st.floats(0, 360),
    fraction=st.floats(0, 1),
)
def test_every_point_within_the_radius_lies_in_a_box(
    latitude: float, longitude: float, radius_km: float, bearing: float, fraction: float
) -> None:
    point = _destination(latitude, longitude, bearing, radius_km * fraction)
    boxes = radius_boxes(latitude, longitude, radius_km)
    assert all(-90 <= b.south <= b.north <= 90 and -180 <= b.west <= b.east <= 180 for b in boxes)
    if haversine_km(latitude, longitude, *point) <= radius_km:
        assert _in_some_box(boxes, *point), (boxes, point)
