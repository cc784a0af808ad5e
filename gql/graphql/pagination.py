"""Relay cursor connections over keyset pages.

Arguments are checked when the connection is built; the page itself, the total count and
the look-behind for ``hasPreviousPage``/``hasNextPage`` are each fetched only when a
selected field needs them, and at most once per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from gql.domain.cursor import (
    InvalidCursor,
    decode_cursor,
    decode_site_cursor,
    encode_cursor,
    encode_site_cursor,
)
from gql.graphql.errors import UserInputError
from gql.repository.base import Repository
from gql.repository.models import (
    ConnectionFilter,
    ConnectionRecord,
    PageQuery,
    SeekKey,
    SiteFilter,
    SiteHit,
    SiteOrder,
    SitePageQuery,
    SiteSeekKey,
    SortOrder,
)

T = TypeVar("T")
R = TypeVar("R")
"""A row of a page (a record, or a record with what the query computed for it)."""
K = TypeVar("K")
"""The sort key a cursor holds."""

PageFlag = bool | Callable[[], Awaitable[bool]]
"""hasNextPage or hasPreviousPage: known already, or a function that asks the database."""


class Once(Generic[T]):
    """Runs an async computation on first demand and shares its result with every caller."""

    def __init__(self, compute: Callable[[], Awaitable[T]]) -> None:
        self._compute = compute
        self._future: asyncio.Future[T] | None = None

    def future(self) -> asyncio.Future[T]:
        """The computation's future, started on the first call."""
        if self._future is None:
            self._future = asyncio.ensure_future(self._compute())
        return self._future

    async def get(self) -> T:
        return await self.future()


@dataclass(frozen=True, slots=True)
class PageArguments:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    records: list[R]
    has_more: bool
    """More rows follow in the direction of travel (after for `first`, before for `last`)."""


class Rows(Protocol[R, K]):
    """What a pager pages through: rows in one order, read by keyset seeks."""

    def decode(self, token: str) -> K:
        """The sort key a cursor holds; raises InvalidCursor."""
        ...

    def cursor(self, row: R) -> str: ...

    async def read(
        self, *, limit: int, after: K | None, before: K | None, backward: bool, inclusive: bool
    ) -> list[R]:
        """Up to ``limit`` rows between the bounds; ``backward`` reads from the ``before``
        end, nearest first; ``inclusive`` lets the bounds themselves match."""
        ...

    async def count(self) -> int:
        """Rows on every page together."""
        ...


class Pager(Generic[R, K]):
    def __init__(
        self,
        rows: Rows[R, K],
        arguments: PageArguments,
        *,
        default_page_size: int,
        max_page_size: int,
    ) -> None:
        self._rows = rows
        if arguments.first is not None and arguments.last is not None:
            raise UserInputError("Pass either `first` or `last`, not both.", argument="last")
        for name in ("first", "last"):
            size = getattr(arguments, name)
            if size is not None and not 0 <= size <= max_page_size:
                raise UserInputError(
                    f"`{name}` must be between 0 and {max_page_size}, got {size}.",
                    argument=name,
                )
        self._backward = arguments.last is not None
        limit = arguments.last if self._backward else arguments.first
        self._limit: int = default_page_size if limit is None else limit
        self._after = self._decode(arguments.after, "after")
        self._before = self._decode(arguments.before, "before")
        self._page = Once(self._fetch_page)
        self._total_count = Once(rows.count)
        self._rows_behind = Once(self._fetch_rows_behind)

    def _decode(self, token: str | None, argument: str) -> K | None:
        if token is None:
            return None
        try:
            return self._rows.decode(token)
        except InvalidCursor as error:
            raise UserInputError(
                f"Invalid `{argument}` cursor: {error}.", argument=argument
            ) from None

    def cursor(self, row: R) -> str:
        return self._rows.cursor(row)

    async def page(self) -> Page[R]:
        return await self._page.get()

    def page_future(self) -> asyncio.Future[Page[R]]:
        """The page, fetching it on the first call; readers that are done can take it
        without awaiting."""
        return self._page.future()

    async def _fetch_page(self) -> Page[R]:
        rows = await self._rows.read(
            limit=self._limit + 1,
            after=self._after,
            before=self._before,
            backward=self._backward,
            inclusive=False,
        )
        has_more = len(rows) > self._limit
        del rows[self._limit :]
        if self._backward:
            rows.reverse()
        return Page(records=rows, has_more=has_more)

    async def _fetch_rows_behind(self) -> bool:
        """Whether rows lie on the far side of the cursor we started from."""
        start = self._before if self._backward else self._after
        assert start is not None
        rows = await self._rows.read(
            limit=1,
            after=start if self._backward else None,
            before=None if self._backward else start,
            backward=not self._backward,
            inclusive=True,
        )
        return bool(rows)

    def has_next_page_of(self, page: Page[R]) -> PageFlag:
        if self._backward:
            return self._has_rows_behind()
        return page.has_more

    def has_previous_page_of(self, page: Page[R]) -> PageFlag:
        if self._backward:
            return page.has_more
        return self._has_rows_behind()

    def _has_rows_behind(self) -> PageFlag:
        if (self._before if self._backward else self._after) is None:
            return False  # started at an end: nothing behind, no query needed
        return self._rows_behind.get

    async def total_count(self) -> int:
        return await self._total_count.get()


@dataclass(frozen=True, slots=True)
class ConnectionRows:
    """Connections matching a filter, in one order."""

    repository: Repository
    filter: ConnectionFilter
    order: SortOrder

    def decode(self, token: str) -> SeekKey:
        return decode_cursor(token, self.order)

    def cursor(self, row: ConnectionRecord) -> str:
        return encode_cursor(SeekKey(self.order, row.id, row.power_kw))

    async def read(
        self,
        *,
        limit: int,
        after: SeekKey | None,
        before: SeekKey | None,
        backward: bool,
        inclusive: bool,
    ) -> list[ConnectionRecord]:
        query = PageQuery(self.filter, self.order, limit, after, before, backward, inclusive)
        return await self.repository.connection_page(query)

    async def count(self) -> int:
        return await self.repository.count_connections(self.filter)


@dataclass(frozen=True, slots=True)
class SiteRows:
    """Sites matching a filter, in one order; DISTANCE cursors are bound to the centre
    of ``filter.near``."""

    repository: Repository
    filter: SiteFilter
    order: SiteOrder

    def decode(self, token: str) -> SiteSeekKey:
        return decode_site_cursor(token, self.order, self.filter.near)

    def cursor(self, row: SiteHit) -> str:
        by_distance = self.order is SiteOrder.DISTANCE
        key = SiteSeekKey(self.order, row.site.id, row.distance_km if by_distance else None)
        return encode_site_cursor(key, self.filter.near)

    async def read(
        self,
        *,
        limit: int,
        after: SiteSeekKey | None,
        before: SiteSeekKey | None,
        backward: bool,
        inclusive: bool,
    ) -> list[SiteHit]:
        query = SitePageQuery(self.filter, self.order, limit, after, before, backward, inclusive)
        return await self.repository.site_page(query)

    async def count(self) -> int:
        return await self.repository.count_sites(self.filter)


ConnectionPager = Pager[ConnectionRecord, SeekKey]
SitePager = Pager[SiteHit, SiteSeekKey]
