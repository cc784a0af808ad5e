"""Per-request DataLoaders: every lookup by key in one request is batched and memoized."""

from __future__ import annotations

import dataclasses
import functools
import operator
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Final, TypeVar

from strawberry.dataloader import DataLoader

from gql.graphql.charge_point import ChargePoint
from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.reference_types import (
    ConnectionType,
    Country,
    LevelType,
    Operator,
    StatusType,
    SupplyType,
    UsageType,
)
from gql.graphql.site_connections import SiteConnections
from gql.observability.metrics.dataloaders import observed
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.models import ConnectionFilter, ReferenceKind

T = TypeVar("T")


class Loaders:
    """The request's DataLoaders, each made on first use: most operations need one or
    none of them (the fast path reads reference tables from their cache), and making
    all of them on every request is a measurable share of a small query's CPU."""

    def __init__(
        self, repository: Repository, references: ReferenceCache, *, memoize: bool
    ) -> None:
        self._repository = repository
        self._references = references
        self._memoize = memoize
        self._connections_of_sites: dict[Hashable, SiteConnections] = {}

    @functools.cached_property
    def connection_info(self) -> DataLoader[int, ConnectionInfo | None]:
        repository = self._repository

        async def load_connections(ids: Sequence[int]) -> list[ConnectionInfo | None]:
            records = await repository.connections_by_ids(ids)
            return [ConnectionInfo.from_record(records[i]) if i in records else None for i in ids]

        return DataLoader(
            load_fn=observed("connection_info", load_connections), cache=self._memoize
        )

    @functools.cached_property
    def charge_point(self) -> DataLoader[int, ChargePoint | None]:
        repository = self._repository

        async def load_sites(ids: Sequence[int]) -> list[ChargePoint | None]:
            sites = await repository.sites_by_ids(ids)
            return [ChargePoint.from_record(sites[i]) if i in sites else None for i in ids]

        return DataLoader(load_fn=observed("charge_point", load_sites), cache=self._memoize)

    def connections_of_sites(self, filter: ConnectionFilter | None = None) -> SiteConnections:
        """The connections of sites that match ``filter`` (None: all of them): one loader
        per distinct filter, so a page of sites asking the same filter reads them in one
        statement."""
        if filter is None:
            key, filter = _NO_FILTER_KEY, _NO_FILTER
        else:
            key = _filter_key(filter)
        loader = self._connections_of_sites.get(key)
        if loader is None:
            loader = SiteConnections(self._repository, filter, memoize=self._memoize)
            self._connections_of_sites[key] = loader
        return loader

    @functools.cached_property
    def connection_type(self) -> DataLoader[int, ConnectionType | None]:
        return self._reference_loader(
            "connection_type", ReferenceKind.CONNECTION_TYPE, ConnectionType.from_record
        )

    @functools.cached_property
    def status_type(self) -> DataLoader[int, StatusType | None]:
        return self._reference_loader(
            "status_type", ReferenceKind.STATUS_TYPE, StatusType.from_record
        )

    @functools.cached_property
    def level(self) -> DataLoader[int, LevelType | None]:
        return self._reference_loader("level", ReferenceKind.LEVEL, LevelType.from_record)

    @functools.cached_property
    def current_type(self) -> DataLoader[int, SupplyType | None]:
        return self._reference_loader(
            "current_type", ReferenceKind.SUPPLY_TYPE, SupplyType.from_record
        )

    @functools.cached_property
    def operator(self) -> DataLoader[int, Operator | None]:
        return self._reference_loader("operator", ReferenceKind.OPERATOR, Operator.from_record)

    @functools.cached_property
    def usage_type(self) -> DataLoader[int, UsageType | None]:
        return self._reference_loader("usage_type", ReferenceKind.USAGE_TYPE, UsageType.from_record)

    @functools.cached_property
    def country(self) -> DataLoader[int, Country | None]:
        return self._reference_loader("country", ReferenceKind.COUNTRY, Country.from_record)

    def _reference_loader(
        self, name: str, kind: ReferenceKind, convert: Callable[[Any], T]
    ) -> DataLoader[int, T | None]:
        references = self._references

        async def load(ids: Sequence[int]) -> list[T | None]:
            records = await references.get_many(kind, ids)
            return [None if record is None else convert(record) for record in records]

        return DataLoader(load_fn=observed(name, load), cache=self._memoize)


_filter_values: Final = operator.attrgetter(
    *(field.name for field in dataclasses.fields(ConnectionFilter))
)


def _filter_key(filter: ConnectionFilter) -> Hashable:
    """The filter as a hashable value: its lists as tuples, in their given order. Its
    values are ids, numbers and flags, so a shallow copy is enough (``astuple`` copies
    deeply, at several times the cost)."""
    values: tuple[Any, ...] = _filter_values(filter)
    return tuple(tuple(value) if isinstance(value, list | tuple) else value for value in values)


_NO_FILTER: Final = ConnectionFilter()
_NO_FILTER_KEY: Final = _filter_key(_NO_FILTER)


def create_loaders(
    repository: Repository, references: ReferenceCache, *, memoize: bool = True
) -> Loaders:
    """``memoize=False`` for contexts that outlive one operation (a WebSocket): they still
    batch, but never answer from a value loaded before a later write."""
    return Loaders(repository, references, memoize=memoize)
