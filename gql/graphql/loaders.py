"""Per-request DataLoaders: every lookup by key in one request is batched and memoized."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.reference_types import ConnectionType, LevelType, StatusType, SupplyType
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.models import ReferenceKind

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Loaders:
    connection_info: DataLoader[int, ConnectionInfo | None]
    connection_type: DataLoader[int, ConnectionType | None]
    status_type: DataLoader[int, StatusType | None]
    level: DataLoader[int, LevelType | None]
    current_type: DataLoader[int, SupplyType | None]


def create_loaders(
    repository: Repository, references: ReferenceCache, *, memoize: bool = True
) -> Loaders:
    """``memoize=False`` for contexts that outlive one operation (a WebSocket): they still
    batch, but never answer from a value loaded before a later write."""

    async def load_connections(ids: Sequence[int]) -> list[ConnectionInfo | None]:
        records = await repository.connections_by_ids(ids)
        return [ConnectionInfo.from_record(records[i]) if i in records else None for i in ids]

    def reference_loader(
        kind: ReferenceKind, convert: Callable[[Any], T]
    ) -> DataLoader[int, T | None]:
        async def load(ids: Sequence[int]) -> list[T | None]:
            records = await references.get_many(kind, ids)
            return [None if record is None else convert(record) for record in records]

        return DataLoader(load_fn=load, cache=memoize)

    return Loaders(
        connection_info=DataLoader(load_fn=load_connections, cache=memoize),
        connection_type=reference_loader(ReferenceKind.CONNECTION_TYPE, ConnectionType.from_record),
        status_type=reference_loader(ReferenceKind.STATUS_TYPE, StatusType.from_record),
        level=reference_loader(ReferenceKind.LEVEL, LevelType.from_record),
        current_type=reference_loader(ReferenceKind.SUPPLY_TYPE, SupplyType.from_record),
    )
