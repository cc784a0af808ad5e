"""The root Query type."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.connection_types import (
    ConnectionInfoConnection,
    ConnectionInfoFilter,
    ConnectionInfoOrder,
)
from gql.graphql.pagination import ConnectionPager, PageArguments
from gql.graphql.reference_types import ConnectionType, LevelType, StatusType, SupplyType
from gql.repository.models import ConnectionFilter, ReferenceKind, SortOrder

if TYPE_CHECKING:
    from gql.graphql.context import Context


@strawberry.type
class Query:
    @strawberry.field(description="One connection by its OCM id; null when there is none.")
    async def connection_info(self, info: strawberry.Info, id: int) -> ConnectionInfo | None:
        context: Context = info.context
        return await context.loaders.connection_info.load(id)

    @strawberry.field(description="Connections, filtered, ordered and paged by cursor.")
    def connection_infos(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: ConnectionInfoFilter | None = None,
        order_by: ConnectionInfoOrder | None = None,  # type: ignore[valid-type]
    ) -> ConnectionInfoConnection:
        context: Context = info.context
        settings = context.settings
        pager = ConnectionPager(
            context.repository,
            filter.to_filter() if filter is not None else ConnectionFilter(),
            order_by or SortOrder.ID_ASC,
            PageArguments(first=first, after=after, last=last, before=before),
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
        )
        return ConnectionInfoConnection(_pager=pager)

    @strawberry.field
    async def connection_type(self, info: strawberry.Info, id: int) -> ConnectionType | None:
        context: Context = info.context
        return await context.loaders.connection_type.load(id)

    @strawberry.field
    async def status_type(self, info: strawberry.Info, id: int) -> StatusType | None:
        context: Context = info.context
        return await context.loaders.status_type.load(id)

    @strawberry.field(description="One level (OCM's charger type) by id.")
    async def level(self, info: strawberry.Info, id: int) -> LevelType | None:
        context: Context = info.context
        return await context.loaders.level.load(id)

    @strawberry.field(description="One supply type (OCM's current type) by id.")
    async def current_type(self, info: strawberry.Info, id: int) -> SupplyType | None:
        context: Context = info.context
        return await context.loaders.current_type.load(id)

    @strawberry.field(description="Every connection type, by id.")
    async def connection_types(self, info: strawberry.Info) -> list[ConnectionType]:
        context: Context = info.context
        table = await context.references.table(ReferenceKind.CONNECTION_TYPE)
        return [ConnectionType.from_record(r) for r in table.values()]  # type: ignore[arg-type]

    @strawberry.field(description="Every status type, by id.")
    async def status_types(self, info: strawberry.Info) -> list[StatusType]:
        context: Context = info.context
        table = await context.references.table(ReferenceKind.STATUS_TYPE)
        return [StatusType.from_record(r) for r in table.values()]  # type: ignore[arg-type]

    @strawberry.field(description="Every level (OCM's charger types), by id.")
    async def levels(self, info: strawberry.Info) -> list[LevelType]:
        context: Context = info.context
        table = await context.references.table(ReferenceKind.LEVEL)
        return [LevelType.from_record(r) for r in table.values()]  # type: ignore[arg-type]

    @strawberry.field(description="Every supply type (OCM's current types), by id.")
    async def current_types(self, info: strawberry.Info) -> list[SupplyType]:
        context: Context = info.context
        table = await context.references.table(ReferenceKind.SUPPLY_TYPE)
        return [SupplyType.from_record(r) for r in table.values()]  # type: ignore[arg-type]
