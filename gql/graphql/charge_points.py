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
from gql.graphql.page_info import PageInfo, page_info_of
from gql.graphql.pagination import PageArguments, SitePager, SiteRows
from gql.repository.models import SiteHit

if TYPE_CHECKING:
    from gql.graphql.context import Context


def _node(hit: SiteHit) -> ChargePoint:
    return ChargePoint.from_record(hit.site, hit.distance_km)


@strawberry.type
class ChargePointEdge:
    cursor: str = strawberry.field(description="Opaque; pass to `after` or `before`.")
    node: ChargePoint


@strawberry.type(description="A page of charge points, paged by keyset cursors.")
class ChargePointConnection:
    _pager: strawberry.Private[SitePager]

    @strawberry.field
    async def edges(self) -> list[ChargePointEdge]:
        page = await self._pager.page()
        return [ChargePointEdge(cursor=self._pager.cursor(h), node=_node(h)) for h in page.records]

    @strawberry.field
    async def nodes(self) -> list[ChargePoint]:
        page = await self._pager.page()
        return [_node(hit) for hit in page.records]

    @strawberry.field
    async def page_info(self) -> PageInfo:
        return page_info_of(self._pager, await self._pager.page())

    @strawberry.field(description="Charge points matching the arguments, on every page.")
    async def total_count(self) -> int:
        return await self._pager.total_count()


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
