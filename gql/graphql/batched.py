"""Fields the fast executor reads for a whole level of objects at once.

Each gives, for a list of parents, what the field's own resolver gives for each one: the
relations of ConnectionInfo and of ChargePoint (and its Address) to the reference lists
come from the per-process lists, as their DataLoaders do; the fields of a page of
connections or of charge points from its pager, at once when the page is in;
`connectionInfos` from its arguments as graphql-core coerces them; `ChargePoint.connections`
from the standard resolver's DataLoader, asked for every site of the level at once.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from strawberry.types.base import get_object_definition
from strawberry.utils.str_converters import to_camel_case

from gql.graphql.charge_point import ChargePoint
from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.connection_types import ConnectionInfoConnection, ConnectionInfoFilter
from gql.graphql.fastpath.shortcuts import (
    ArgumentsResolver,
    BatchResolver,
    Relation,
    Shortcuts,
    StandIn,
)
from gql.graphql.pagination import (
    Page,
    PageArguments,
    PageFlag,
    Pager,
    SitePager,
)
from gql.graphql.query import connection_infos
from gql.graphql.reference_types import (
    ConnectionType,
    Country,
    LevelType,
    Operator,
    StatusType,
    SupplyType,
    UsageType,
)
from gql.graphql.relay import Edge, PageInfo, flag_value, page_info_of
from gql.graphql.site_connections import SiteConnections
from gql.repository.models import (
    ConnectionFilter,
    ConnectionRecord,
    ReferenceKind,
    ReferenceRecord,
    SiteHit,
    SortOrder,
)


def _reference(kind: ReferenceKind, convert: Callable[[Any], Any], id_name: str) -> Relation:
    # The objects of the last table seen, made once: a table is replaced, never changed,
    # when the references are written.
    made: tuple[dict[int, ReferenceRecord], dict[int, Any]] = ({}, {})

    def objects_of(table: dict[int, ReferenceRecord]) -> dict[int, Any]:
        nonlocal made
        if made[0] is not table:
            made = (table, {reference_id: convert(row) for reference_id, row in table.items()})
        return made[1]

    def objects(context: Any) -> dict[int, Any] | None:
        table = context.references.cached(kind)
        return None if table is None else objects_of(table)

    async def load(context: Any) -> None:
        await context.references.table(kind)

    return Relation(id_name, objects, load)


RELATIONS: dict[tuple[str, str], Relation] = {
    ("ConnectionInfo", "connectionType"): _reference(
        ReferenceKind.CONNECTION_TYPE,
        ConnectionType.from_record,
        "connection_type_id",
    ),
    ("ConnectionInfo", "statusType"): _reference(
        ReferenceKind.STATUS_TYPE, StatusType.from_record, "status_type_id"
    ),
    ("ConnectionInfo", "level"): _reference(ReferenceKind.LEVEL, LevelType.from_record, "level_id"),
    ("ConnectionInfo", "currentType"): _reference(
        ReferenceKind.SUPPLY_TYPE, SupplyType.from_record, "current_type_id"
    ),
    ("ChargePoint", "operator"): _reference(
        ReferenceKind.OPERATOR, Operator.from_record, "operator_id"
    ),
    ("ChargePoint", "usageType"): _reference(
        ReferenceKind.USAGE_TYPE, UsageType.from_record, "usage_type_id"
    ),
    ("ChargePoint", "statusType"): _reference(
        ReferenceKind.STATUS_TYPE, StatusType.from_record, "status_type_id"
    ),
    ("Address", "country"): _reference(ReferenceKind.COUNTRY, Country.from_record, "country_id"),
}


@dataclass(frozen=True, slots=True)
class _RecordEdge:
    """An edge as ConnectionInfoEdge reads, holding the record itself as its node."""

    cursor: str
    node: ConnectionRecord


def _from_page(read: Callable[[Any, Any], Any]) -> BatchResolver:
    """A field of a page (ConnectionInfoConnection, ChargePointConnection) computed from
    its pager and page: at once when the page is in, else a future (no task) resolved when
    it arrives."""

    def resolve(parents: Sequence[Any], _context: Any) -> list[Any] | Awaitable[list[Any]]:
        pagers: list[Pager[Any, Any]] = [parent._pager for parent in parents]
        pages = [pager.page_future() for pager in pagers]

        def values(done: Sequence[Page[Any]]) -> list[Any]:
            return list(map(read, pagers, done))

        if all(page.done() for page in pages):
            return values([page.result() for page in pages])
        if len(pages) == 1:
            return _mapped(pages[0], lambda page: values([page]))
        return _mapped(asyncio.gather(*pages), values)

    return resolve


def _mapped(source: asyncio.Future[Any], convert: Callable[[Any], Any]) -> asyncio.Future[Any]:
    """A future of ``convert(source's result)``, or of its exception. Cancelling it
    cancels the source, as awaiting the source itself would."""
    target = source.get_loop().create_future()

    def finish(done: asyncio.Future[Any]) -> None:
        if done.cancelled():
            target.cancel()
            return
        error = done.exception()
        if target.done():
            return
        if error is not None:
            target.set_exception(error)
            return
        try:
            target.set_result(convert(done.result()))
        except Exception as failure:
            target.set_exception(failure)

    def stop(done: asyncio.Future[Any]) -> None:
        if done.cancelled():
            source.cancel()

    source.add_done_callback(finish)
    target.add_done_callback(stop)
    return target


def _flags(read: Callable[[PageInfo], PageFlag]) -> BatchResolver:
    """hasNextPage or hasPreviousPage: at once when every page knows it."""

    def resolve(parents: Sequence[Any], _context: Any) -> list[Any] | Awaitable[list[Any]]:
        flags = list(map(read, parents))
        if all(isinstance(flag, bool) for flag in flags):
            return flags

        async def asked() -> list[bool]:
            return [await flag_value(flag) for flag in flags]

        return asked()

    return resolve


async def _total_counts(parents: Sequence[Any], _context: Any) -> list[int]:
    return [await parent._pager.total_count() for parent in parents]


def _site_nodes(_pager: SitePager, page: Page[SiteHit]) -> list[ChargePoint]:
    return [ChargePoint.from_record(hit.site, hit.distance_km) for hit in page.records]


def _site_edges(pager: SitePager, page: Page[SiteHit]) -> list[Edge[ChargePoint]]:
    cursor = pager.cursor
    return [
        Edge(cursor=cursor(hit), node=ChargePoint.from_record(hit.site, hit.distance_km))
        for hit in page.records
    ]


BATCHED_FIELDS: dict[tuple[str, str], BatchResolver] = {
    ("ConnectionInfoConnection", "pageInfo"): _from_page(page_info_of),
    ("ConnectionInfoConnection", "totalCount"): _total_counts,
    # As KeysetConnection's resolvers, with ChargePointConnection.node_of's nodes.
    ("ChargePointConnection", "nodes"): _from_page(_site_nodes),
    ("ChargePointConnection", "edges"): _from_page(_site_edges),
    ("ChargePointConnection", "pageInfo"): _from_page(page_info_of),
    ("ChargePointConnection", "totalCount"): _total_counts,
    ("PageInfo", "hasNextPage"): _flags(operator.attrgetter("_has_next")),
    ("PageInfo", "hasPreviousPage"): _flags(operator.attrgetter("_has_previous")),
}

# The filter's GraphQL field names, as graphql-core hands them over, to ConnectionFilter's.
_FILTER_FIELDS: Final = {
    field.graphql_name or to_camel_case(field.python_name): field.python_name
    for field in get_object_definition(ConnectionInfoFilter, strict=True).fields
}


def _connection_filter(given: dict[str, Any]) -> ConnectionFilter:
    """A ConnectionInfoFilter as graphql-core coerces it, as its ``to_filter`` gives it."""
    return ConnectionFilter(**{_FILTER_FIELDS[name]: value for name, value in given.items()})


def _connection_infos(
    parents: Sequence[Any], context: Any, arguments: dict[str, Any]
) -> list[ConnectionInfoConnection]:
    """Query.connectionInfos without Strawberry's conversion of its arguments."""
    given = arguments["filter"]
    page = PageArguments(
        first=arguments["first"],
        after=arguments["after"],
        last=arguments["last"],
        before=arguments["before"],
    )
    filter = ConnectionFilter() if given is None else _connection_filter(given)
    order = arguments["orderBy"] or SortOrder.ID_ASC
    return [connection_infos(context, page, filter, order) for _ in parents]


def _connections_of_sites(
    parents: Sequence[Any], context: Any, arguments: dict[str, Any]
) -> list[list[ConnectionInfo]] | Awaitable[list[list[ConnectionInfo]]]:
    """ChargePoint.connections(filter) for a level of sites: the standard resolver's
    loader, asked for every site at once (one statement for the level, none for sites it
    already holds), without Strawberry's conversion of the filter per site."""
    given = arguments.get("filter")
    loader: SiteConnections = context.loaders.connections_of_sites(
        None if given is None else _connection_filter(given)
    )
    return loader.load_level([parent.id for parent in parents])


WITH_ARGUMENTS: dict[tuple[str, str], ArgumentsResolver] = {
    ("Query", "connectionInfos"): _connection_infos,
    ("ChargePoint", "connections"): _connections_of_sites,
}

# A page's rows go to the fast executor as the repository's records, not as one
# ConnectionInfo object each (their attributes have the same names).
STAND_INS: dict[tuple[str, str], StandIn] = {
    ("ConnectionInfoConnection", "nodes"): StandIn(
        _from_page(lambda _pager, page: page.records), "ConnectionInfo"
    ),
    ("ConnectionInfoConnection", "edges"): StandIn(
        _from_page(lambda pager, page: [_RecordEdge(pager.cursor(r), r) for r in page.records]),
        "ConnectionInfo",
    ),
}

SHORTCUTS: Final = Shortcuts(BATCHED_FIELDS, WITH_ARGUMENTS, STAND_INS, RELATIONS)
