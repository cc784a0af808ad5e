"""Fields the fast executor reads for a whole level of objects at once.

Each gives, for a list of parents, what the field's own resolver gives for each one: the
relations of ConnectionInfo come from the per-process reference lists, as their
DataLoaders do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.fastpath import BatchResolver
from gql.graphql.reference_types import ConnectionType, LevelType, StatusType, SupplyType
from gql.repository.models import ReferenceKind, ReferenceRecord


def _reference(
    kind: ReferenceKind, convert: Callable[[Any], Any], id_of: Callable[[Any], int | None]
) -> BatchResolver:
    async def resolve(parents: Sequence[Any], context: Any) -> list[Any]:
        table: dict[int, ReferenceRecord] = await context.references.table(kind)
        converted: dict[int, Any] = {}
        values: list[Any] = []
        for parent in parents:
            reference_id = id_of(parent)
            if reference_id is None:
                values.append(None)
                continue
            if reference_id not in converted:
                record = table.get(reference_id)
                converted[reference_id] = None if record is None else convert(record)
            values.append(converted[reference_id])
        return values

    return resolve


def _connection_info_id(name: str) -> Callable[[ConnectionInfo], int | None]:
    return lambda connection: getattr(connection, name)


BATCHED_FIELDS: dict[tuple[str, str], BatchResolver] = {
    ("ConnectionInfo", "connectionType"): _reference(
        ReferenceKind.CONNECTION_TYPE,
        ConnectionType.from_record,
        _connection_info_id("connection_type_id"),
    ),
    ("ConnectionInfo", "statusType"): _reference(
        ReferenceKind.STATUS_TYPE, StatusType.from_record, _connection_info_id("status_type_id")
    ),
    ("ConnectionInfo", "level"): _reference(
        ReferenceKind.LEVEL, LevelType.from_record, _connection_info_id("level_id")
    ),
    ("ConnectionInfo", "currentType"): _reference(
        ReferenceKind.SUPPLY_TYPE, SupplyType.from_record, _connection_info_id("current_type_id")
    ),
}
