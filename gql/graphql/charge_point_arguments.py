"""The arguments of `chargePoints`: where to look, what to keep, in which order; checked
here, so a bad one is a BAD_USER_INPUT error naming it before any statement runs."""

from __future__ import annotations

import math

import strawberry

from gql.graphql.connection_types import ConnectionInfoFilter
from gql.graphql.errors import UserInputError
from gql.repository.models import GeoBox, GeoRadius, SiteFilter, SiteOrder

ChargePointOrder = strawberry.enum(
    SiteOrder,
    name="ChargePointOrder",
    description="Order of `chargePoints`. DISTANCE (nearest first, ties by ascending id) "
    "needs `near`.",
)


@strawberry.input(
    name="GeoRadius",
    description="Sites within `radiusKm` of a point, by great-circle distance.",
)
class GeoRadiusInput:
    latitude: float = strawberry.field(description="-90 to 90 degrees.")
    longitude: float = strawberry.field(description="-180 to 180 degrees.")
    radius_km: float = strawberry.field(
        description="Above 0, up to the server's maximum (500 km unless configured, "
        "OCM_GQL_MAX_RADIUS_KM)."
    )


@strawberry.input(
    name="GeoBox",
    description="Sites inside a box, edges included (a map view). `west` greater than "
    "`east` is a box crossing the antimeridian.",
)
class GeoBoxInput:
    south: float
    west: float
    north: float
    east: float


@strawberry.input(description="All given conditions hold together.")
class ChargePointFilter:
    ids: list[int] | None = None
    country_ids: list[int] | None = None
    country_codes: list[str] | None = strawberry.field(
        default=None, description="ISO 3166-1 alpha-2 codes, any case (e.g. EE)."
    )
    operator_ids: list[int] | None = None
    usage_type_ids: list[int] | None = None
    status_type_ids: list[int] | None = strawberry.field(
        default=None, description="The site's own status type."
    )
    is_operational: bool | None = strawberry.field(
        default=None,
        description="Via the site's status type; sites whose status has no "
        "`isOperational` value (e.g. Unknown) match neither true nor false.",
    )
    connections: ConnectionInfoFilter | None = strawberry.field(
        default=None,
        description="Keeps a site when at least one of its connections matches (OCM's "
        "meaning); `ChargePoint.connections` still lists all of them unless given a filter.",
    )
    include_unpublished: bool = strawberry.field(
        default=False,
        description="Also sites OCM hides: those not published (submission status) and "
        "those marked removed (status types 200 and 210).",
    )


def site_filter(
    filter: ChargePointFilter | None,
    near: GeoRadiusInput | None,
    within: GeoBoxInput | None,
    *,
    max_radius_km: float,
) -> SiteFilter:
    given = filter or ChargePointFilter()
    return SiteFilter(
        ids=given.ids,
        country_ids=given.country_ids,
        country_codes=None
        if given.country_codes is None
        else [code.upper() for code in given.country_codes],
        operator_ids=given.operator_ids,
        usage_type_ids=given.usage_type_ids,
        status_type_ids=given.status_type_ids,
        is_operational=given.is_operational,
        connections=None if given.connections is None else given.connections.to_filter(),
        include_unpublished=given.include_unpublished,
        near=None if near is None else geo_radius(near, max_radius_km=max_radius_km),
        within=None if within is None else geo_box(within),
    )


def site_order(order: SiteOrder | None, near: GeoRadius | None) -> SiteOrder:
    if order is SiteOrder.DISTANCE and near is None:
        raise UserInputError("`orderBy: DISTANCE` needs `near`.", argument="orderBy")
    return order or SiteOrder.ID_ASC


def geo_radius(near: GeoRadiusInput, *, max_radius_km: float) -> GeoRadius:
    _check_latitude(near.latitude, "near", "latitude")
    _check_longitude(near.longitude, "near", "longitude")
    radius = near.radius_km
    if not (math.isfinite(radius) and 0 < radius <= max_radius_km):
        raise UserInputError(
            f"`near.radiusKm` must be above 0 and at most {max_radius_km:g}, got {radius}.",
            argument="near",
        )
    return GeoRadius(latitude=near.latitude, longitude=near.longitude, radius_km=radius)


def geo_box(within: GeoBoxInput) -> GeoBox:
    _check_latitude(within.south, "within", "south")
    _check_latitude(within.north, "within", "north")
    _check_longitude(within.west, "within", "west")
    _check_longitude(within.east, "within", "east")
    if within.south > within.north:
        raise UserInputError(
            f"`within.south` ({within.south}) must not be north of `within.north` "
            f"({within.north}).",
            argument="within",
        )
    return GeoBox(south=within.south, west=within.west, north=within.north, east=within.east)


def _check_latitude(value: float, argument: str, name: str) -> None:
    if not (math.isfinite(value) and -90 <= value <= 90):
        raise UserInputError(
            f"`{argument}.{name}` must be a latitude from -90 to 90, got {value}.",
            argument=argument,
        )


def _check_longitude(value: float, argument: str, name: str) -> None:
    if not (math.isfinite(value) and -180 <= value <= 180):
        raise UserInputError(
            f"`{argument}.{name}` must be a longitude from -180 to 180, got {value}.",
            argument=argument,
        )
