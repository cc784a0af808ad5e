"""Per-request DataLoaders: every lookup by key in one request is batched and memoized."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.reference_types import ConnectionType, LevelType, StatusType, SupplyType
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.models import ReferenceKind

T = TypeVar("T")


class Loaders:
    """The request's DataLoaders, each made on first use: most operations need one or
    none of them (the fast path reads reference tables from their cache), and making
    all five on every request is a measurable share of a small query's CPU."""

    def __init__(
        self, repository: Repository, references: ReferenceCache, *, memoize: bool
    ) -> None:
        self._repository = repository
        self._references = references
        self._memoize = memoize

    @functools.cached_property
    def connection_info(self) -> DataLoader[int, ConnectionInfo | None]:
        repository = self._repository

        async def load_connections(ids: Sequence[int]) -> list[ConnectionInfo | None]:
            records = await repository.connections_by_ids(ids)
            return [ConnectionInfo.from_record(records[i]) if i in records else None for i in ids]

        return DataLoader(load_fn=load_connections, cache=self._memoize)

    @functools.cached_property
    def connection_type(self) -> DataLoader[int, ConnectionType | None]:
        return self._reference_loader(ReferenceKind.CONNECTION_TYPE, ConnectionType.from_record)

    @functools.cached_property
    def status_type(self) -> DataLoader[int, StatusType | None]:
        return self._reference_loader(ReferenceKind.STATUS_TYPE, StatusType.from_record)

    @functools.cached_property
    def level(self) -> DataLoader[int, LevelType | None]:
        return self._reference_loader(ReferenceKind.LEVEL, LevelType.from_record)

    @functools.cached_property
    def current_type(self) -> DataLoader[int, SupplyType | None]:
        return self._reference_loader(ReferenceKind.SUPPLY_TYPE, SupplyType.from_record)

    def _reference_loader(
        self, kind: ReferenceKind, convert: Callable[[Any], T]
    ) -> DataLoader[int, T | None]:
        references = self._references

        async def load(ids: Sequence[int]) -> list[T | None]:
            records = await references.get_many(kind, ids)
            return [None if record is None else convert(record) for record in records]

        return DataLoader(load_fn=load, cache=self._memoize)


def create_loaders(
    repository: Repository, references: ReferenceCache, *, memoize: bool = True
) -> Loaders:
    """``memoize=False`` for contexts that outlive one operation (a WebSocket): they still
    batch, but never answer from a value loaded before a later write."""
    return Loaders(repository, references, memoize=memoize)
