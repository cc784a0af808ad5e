"""Fields the fast executor reads for a whole level of objects at once.

Each gives, for a list of parents, what the field's own resolver gives for each one: the
relations of ConnectionInfo come from the per-process reference lists, as their
DataLoaders do.
"""

from __future__ import annotations

import operator
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from gql.graphql.fastpath import BatchResolver
from gql.graphql.reference_types import ConnectionType, LevelType, StatusType, SupplyType
from gql.repository.models import ReferenceKind, ReferenceRecord


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
