"""Fields the fast executor reads for a whole level of objects at once.

Each gives, for a list of parents, what the field's own resolver gives for each one: the
relations of ConnectionInfo come from the per-process reference lists, as their
DataLoaders do.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gql.graphql.fastpath import BatchResolver, StandIn
from gql.graphql.reference_types import ConnectionType, LevelType, StatusType, SupplyType
from gql.repository.models import ConnectionRecord, ReferenceKind, ReferenceRecord


def _reference(kind: ReferenceKind, convert: Callable[[Any], Any], id_name: str) -> BatchResolver:
    read_id = operator.attrgetter(id_name)

    def pick(parents: Sequence[Any], table: dict[int, ReferenceRecord]) -> list[Any]:
        ids = list(map(read_id, parents))
        # One object per distinct id; None (no id, or no such row) stays None.
        converted = {
            reference_id: convert(table[reference_id])
            for reference_id in set(ids)
            if reference_id in table
        }
        return list(map(converted.get, ids))

    def resolve(parents: Sequence[Any], context: Any) -> list[Any] | Awaitable[list[Any]]:
        table = context.references.cached(kind)
        if table is not None:
            return pick(parents, table)

        async def after_loading() -> list[Any]:
            return pick(parents, await context.references.table(kind))

        return after_loading()

    return resolve


BATCHED_FIELDS: dict[tuple[str, str], BatchResolver] = {
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
}


@dataclass(frozen=True, slots=True)
class _RecordEdge:
    """An edge as ConnectionInfoEdge reads, holding the record itself as its node."""

    cursor: str
    node: ConnectionRecord


async def _page_records(parents: Sequence[Any], _context: Any) -> list[Any]:
    return [(await parent._pager.page()).records for parent in parents]


async def _page_edges(parents: Sequence[Any], _context: Any) -> list[Any]:
    edges = []
    for parent in parents:
        pager = parent._pager
        records = (await pager.page()).records
        edges.append([_RecordEdge(pager.cursor(record), record) for record in records])
    return edges


# A page's rows go to the fast executor as the repository's records, not as one
# ConnectionInfo object each (their attributes have the same names).
STAND_INS: dict[tuple[str, str], StandIn] = {
    ("ConnectionInfoConnection", "nodes"): StandIn(_page_records, "ConnectionInfo"),
    ("ConnectionInfoConnection", "edges"): StandIn(_page_edges, "ConnectionInfo"),
}
