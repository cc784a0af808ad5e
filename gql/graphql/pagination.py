"""Relay cursor connections over keyset pages.

Arguments are checked when the connection is built; the page itself, the total count and
the look-behind for ``hasPreviousPage``/``hasNextPage`` are each fetched only when a
selected field needs them, and at most once per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from gql.cursor import InvalidCursor, decode_cursor, encode_cursor
from gql.graphql.errors import UserInputError
from gql.repository.base import Repository
from gql.repository.models import (
    ConnectionFilter,
    ConnectionRecord,
    PageQuery,
    SeekKey,
    SortOrder,
)

T = TypeVar("T")

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
class Page:
    records: list[ConnectionRecord]
    has_more: bool
    """More rows follow in the direction of travel (after for `first`, before for `last`)."""


class ConnectionPager:
    def __init__(
        self,
        repository: Repository,
        filter: ConnectionFilter,
        order: SortOrder,
        arguments: PageArguments,
        *,
        default_page_size: int,
        max_page_size: int,
    ) -> None:
        self._repository = repository
        self._filter = filter
        self._order = order
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
        self._limit = arguments.last if self._backward else arguments.first
        if self._limit is None:
            self._limit = default_page_size
        self._after = self._decode(arguments.after, "after")
        self._before = self._decode(arguments.before, "before")
        self._page = Once(self._fetch_page)
        self._total_count = Once(lambda: repository.count_connections(filter))
        self._rows_behind = Once(self._fetch_rows_behind)

    def _decode(self, token: str | None, argument: str) -> SeekKey | None:
        if token is None:
            return None
        try:
            return decode_cursor(token, self._order)
        except InvalidCursor as error:
            raise UserInputError(
                f"Invalid `{argument}` cursor: {error}.", argument=argument
            ) from None

    def cursor(self, record: ConnectionRecord) -> str:
        return encode_cursor(SeekKey(self._order, record.id, record.power_kw))

    async def page(self) -> Page:
        return await self._page.get()

    def page_future(self) -> asyncio.Future[Page]:
        """The page, fetching it on the first call; readers that are done can take it
        without awaiting."""
        return self._page.future()

    async def _fetch_page(self) -> Page:
        assert self._limit is not None
        records = await self._repository.connection_page(
            PageQuery(
                filter=self._filter,
                order=self._order,
                limit=self._limit + 1,
                after=self._after,
                before=self._before,
                backward=self._backward,
            )
        )
        has_more = len(records) > self._limit
        del records[self._limit :]
        if self._backward:
            records.reverse()
        return Page(records=records, has_more=has_more)

    async def _fetch_rows_behind(self) -> bool:
        """Whether rows lie on the far side of the cursor we started from."""
        start = self._before if self._backward else self._after
        assert start is not None
        rows = await self._repository.connection_page(
            PageQuery(
                filter=self._filter,
                order=self._order,
                limit=1,
                after=start if self._backward else None,
                before=None if self._backward else start,
                backward=not self._backward,
                inclusive=True,
            )
        )
        return bool(rows)

    def has_next_page_of(self, page: Page) -> PageFlag:
        if self._backward:
            return self._has_rows_behind()
        return page.has_more

    def has_previous_page_of(self, page: Page) -> PageFlag:
        if self._backward:
            return page.has_more
        return self._has_rows_behind()

    def _has_rows_behind(self) -> PageFlag:
        if (self._before if self._backward else self._after) is None:
            return False  # started at an end: nothing behind, no query needed
        return self._rows_behind.get

    async def total_count(self) -> int:
        return await self._total_count.get()
