"""`chargePoints`: the Relay connection of sites, found by place, distance and map area."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from gql.graphql.charge_point import ChargePoint
from gql.graphql.charge_point_arguments import (
    ChargePointFilter,
    ChargePointOrder,
    GeoBoxInput,
    GeoRadiusInput,
    site_filter,
    site_order,
)
from gql.graphql.pagination import PageArguments, SitePager, SiteRows
from gql.graphql.relay import KeysetConnection
from gql.repository.models import SiteHit

if TYPE_CHECKING:
    from gql.graphql.context import Context


@strawberry.type(description="A page of charge points, paged by keyset cursors.")
class ChargePointConnection(KeysetConnection[ChargePoint]):
    @classmethod
    def node_of(cls, row: SiteHit) -> ChargePoint:
        return ChargePoint.from_record(row.site, row.distance_km)


def charge_points(
    info: strawberry.Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: ChargePointFilter | None = None,
    near: GeoRadiusInput | None = None,
    within: GeoBoxInput | None = None,
    order_by: ChargePointOrder | None = None,  # type: ignore[valid-type]
) -> ChargePointConnection:
    context: Context = info.context
    settings = context.settings
    sites = site_filter(filter, near, within, max_radius_km=settings.max_radius_km)
    order = site_order(order_by, sites.near)
    pager = SitePager(
        SiteRows(context.repository, sites, order),
        PageArguments(first=first, after=after, last=last, before=before),
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
    )
    return ChargePointConnection(_pager=pager)
