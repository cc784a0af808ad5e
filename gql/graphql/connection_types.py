"""The Relay connection of ConnectionInfo and its filter and order arguments."""

from __future__ import annotations

import strawberry

from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.page_info import PageInfo, page_info_of
from gql.graphql.pagination import ConnectionPager
from gql.repository.models import ConnectionFilter, SortOrder

ConnectionInfoOrder = strawberry.enum(
    SortOrder,
    name="ConnectionInfoOrder",
    description="Order of `connectionInfos`. Rows without power sort last in both power "
    "orders; ties are broken by ascending id.",
)


@strawberry.input(description="All given conditions hold together.")
class ConnectionInfoFilter:
    ids: list[int] | None = None
    connection_type_ids: list[int] | None = None
    status_type_ids: list[int] | None = None
    level_ids: list[int] | None = None
    current_type_ids: list[int] | None = None
    charge_point_ids: list[int] | None = None
    min_power_kw: float | None = strawberry.field(
        default=None, description="Inclusive lower bound on the effective `powerKw`."
    )
    max_power_kw: float | None = strawberry.field(
        default=None, description="Inclusive upper bound on the effective `powerKw`."
    )
    is_operational: bool | None = strawberry.field(
        default=None,
        description="Via the status type; connections whose status has no `isOperational` "
        "value (e.g. Unknown) match neither true nor false.",
    )
    is_fast_charge_capable: bool | None = strawberry.field(
        default=None, description="Via the level; connections with no level match neither."
    )

    def to_filter(self) -> ConnectionFilter:
        return ConnectionFilter(
            ids=self.ids,
            connection_type_ids=self.connection_type_ids,
            status_type_ids=self.status_type_ids,
            level_ids=self.level_ids,
            current_type_ids=self.current_type_ids,
            charge_point_ids=self.charge_point_ids,
            min_power_kw=self.min_power_kw,
            max_power_kw=self.max_power_kw,
            is_operational=self.is_operational,
            is_fast_charge_capable=self.is_fast_charge_capable,
        )


@strawberry.type
class ConnectionInfoEdge:
    cursor: str = strawberry.field(description="Opaque; pass to `after` or `before`.")
    node: ConnectionInfo


@strawberry.type(description="A page of connections, paged by keyset cursors.")
class ConnectionInfoConnection:
    _pager: strawberry.Private[ConnectionPager]

    @strawberry.field
    async def edges(self) -> list[ConnectionInfoEdge]:
        page = await self._pager.page()
        return [
            ConnectionInfoEdge(cursor=self._pager.cursor(r), node=ConnectionInfo.from_record(r))
            for r in page.records
        ]

    @strawberry.field
    async def nodes(self) -> list[ConnectionInfo]:
        page = await self._pager.page()
        return [ConnectionInfo.from_record(r) for r in page.records]

    @strawberry.field
    async def page_info(self) -> PageInfo:
        return page_info_of(self._pager, await self._pager.page())

    @strawberry.field(description="Connections matching the filter, on every page.")
    async def total_count(self) -> int:
        return await self._pager.total_count()
