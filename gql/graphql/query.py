"""The root Query type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.dataloader import DataLoader

from gql.graphql.charge_point import ChargePoint
from gql.graphql.charge_points import ChargePointConnection, charge_points
from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.connection_types import (
    ConnectionInfoConnection,
    ConnectionInfoFilter,
    ConnectionInfoOrder,
)
from gql.graphql.history import ConnectionInfoChangeConnection, connection_info_history
from gql.graphql.loaders import Loaders
from gql.graphql.pagination import ConnectionPager, ConnectionRows, PageArguments
from gql.graphql.reference_types import (
    ConnectionType,
    Country,
    LevelType,
    Operator,
    StatusType,
    SupplyType,
    UsageType,
)
from gql.repository.models import ConnectionFilter, ReferenceKind, SortOrder

if TYPE_CHECKING:
    from gql.graphql.context import Context


def _by_id(
    loader: Callable[[Loaders], DataLoader[int, Any]],
) -> Callable[..., Awaitable[Any]]:
    async def resolve(info: strawberry.Info, id: int) -> Any:
        context: Context = info.context
        return await loader(context.loaders).load(id)

    return resolve


def _every(kind: ReferenceKind, graphql_type: Any) -> Callable[..., Awaitable[list[Any]]]:
    async def resolve(info: strawberry.Info) -> list[Any]:
        context: Context = info.context
        table = await context.references.table(kind)
        return [graphql_type.from_record(record) for record in table.values()]

    return resolve


def _connection_infos(
    info: strawberry.Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: ConnectionInfoFilter | None = None,
    order_by: ConnectionInfoOrder | None = None,  # type: ignore[valid-type]
) -> ConnectionInfoConnection:
    return connection_infos(
        info.context,
        PageArguments(first=first, after=after, last=last, before=before),
        filter.to_filter() if filter is not None else ConnectionFilter(),
        order_by or SortOrder.ID_ASC,
    )


def connection_infos(
    context: Context, arguments: PageArguments, filter: ConnectionFilter, order: SortOrder
) -> ConnectionInfoConnection:
    settings = context.settings
    pager = ConnectionPager(
        ConnectionRows(context.repository, filter, order),
        arguments,
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
    )
    return ConnectionInfoConnection(_pager=pager)


@strawberry.type
class Query:
    connection_info: ConnectionInfo | None = strawberry.field(
        resolver=_by_id(lambda loaders: loaders.connection_info),
        graphql_type=ConnectionInfo | None,
        description="One connection by its OCM id; null when there is none.",
    )
    connection_infos: ConnectionInfoConnection = strawberry.field(
        resolver=_connection_infos,
        description="Connections, filtered, ordered and paged by cursor.",
    )
    connection_info_history: ConnectionInfoChangeConnection = strawberry.field(
        resolver=connection_info_history,
        description="The change log of one connection, newest first; it outlives the "
        "connection's deletion.",
    )
    charge_point: ChargePoint | None = strawberry.field(
        resolver=_by_id(lambda loaders: loaders.charge_point),
        graphql_type=ChargePoint | None,
        description="One site by its OCM id, whatever its visibility (as a connection "
        "names it); null when there is none.",
    )
    charge_points: ChargePointConnection = strawberry.field(
        resolver=charge_points,
        description="Sites near a point (`near`), in a map area (`within`), filtered, "
        "ordered and paged by cursor. Sites OCM hides are left out unless "
        "`filter.includeUnpublished`.",
    )
    connection_type: ConnectionType | None = strawberry.field(
        resolver=_by_id(lambda loaders: loaders.connection_type),
        graphql_type=ConnectionType | None,
    )
    status_type: StatusType | None = strawberry.field(
        resolver=_by_id(lambda loaders: loaders.status_type),
        graphql_type=StatusType | None,
    )
    level: LevelType | None = strawberry.field(
        resolver=_by_id(lambda loaders: loaders.level),
        graphql_type=LevelType | None,
        description="One level (OCM's charger type) by id.",
    )
    current_type: SupplyType | None = strawberry.field(
        resolver=_by_id(lambda loaders: loaders.current_type),
        graphql_type=SupplyType | None,
        description="One supply type (OCM's current type) by id.",
    )
    connection_types: list[ConnectionType] = strawberry.field(
        resolver=_every(ReferenceKind.CONNECTION_TYPE, ConnectionType),
        graphql_type=list[ConnectionType],
        description="Every connection type, by id.",
    )
    status_types: list[StatusType] = strawberry.field(
        resolver=_every(ReferenceKind.STATUS_TYPE, StatusType),
        graphql_type=list[StatusType],
        description="Every status type, by id.",
    )
    levels: list[LevelType] = strawberry.field(
        resolver=_every(ReferenceKind.LEVEL, LevelType),
        graphql_type=list[LevelType],
        description="Every level (OCM's charger types), by id.",
    )
    current_types: list[SupplyType] = strawberry.field(
        resolver=_every(ReferenceKind.SUPPLY_TYPE, SupplyType),
        graphql_type=list[SupplyType],
        description="Every supply type (OCM's current types), by id.",
    )
    operator: Operator | None = strawberry.field(
        resolver=_by_id(lambda loaders: loaders.operator),
        graphql_type=Operator | None,
    )
    usage_type: UsageType | None = strawberry.field(
        resolver=_by_id(lambda loaders: loaders.usage_type),
        graphql_type=UsageType | None,
    )
    country: Country | None = strawberry.field(
        resolver=_by_id(lambda loaders: loaders.country),
        graphql_type=Country | None,
    )
    operators: list[Operator] = strawberry.field(
        resolver=_every(ReferenceKind.OPERATOR, Operator),
        graphql_type=list[Operator],
        description="Every operator, by id.",
    )
    usage_types: list[UsageType] = strawberry.field(
        resolver=_every(ReferenceKind.USAGE_TYPE, UsageType),
        graphql_type=list[UsageType],
        description="Every usage type, by id.",
    )
    countries: list[Country] = strawberry.field(
        resolver=_every(ReferenceKind.COUNTRY, Country),
        graphql_type=list[Country],
        description="Every country, by id.",
    )
