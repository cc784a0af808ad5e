"""Relay's connection shape (edges, nodes, pageInfo, totalCount), shared by every paged
connection."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import strawberry

from gql.graphql.pagination import Page, PageFlag, Pager


@strawberry.type
class PageInfo:
    # Known, or asked only when selected: asking may cost a look-behind query.
    _has_next: strawberry.Private[PageFlag]
    _has_previous: strawberry.Private[PageFlag]
    start_cursor: str | None
    end_cursor: str | None

    @strawberry.field
    async def has_next_page(self) -> bool:
        return await flag_value(self._has_next)

    @strawberry.field
    async def has_previous_page(self) -> bool:
        return await flag_value(self._has_previous)


async def flag_value(flag: PageFlag) -> bool:
    return flag if isinstance(flag, bool) else await flag()


def page_info_of(pager: Pager[Any, Any], page: Page[Any]) -> PageInfo:
    records = page.records
    return PageInfo(
        _has_next=pager.has_next_page_of(page),
        _has_previous=pager.has_previous_page_of(page),
        start_cursor=pager.cursor(records[0]) if records else None,
        end_cursor=pager.cursor(records[-1]) if records else None,
    )


N = TypeVar("N")
"""The node type of a connection."""


@strawberry.type
class Edge(Generic[N]):
    """Named `<Node>Edge` in the schema (`ConnectionInfoEdge`, `ChargePointEdge`)."""

    cursor: str = strawberry.field(description="Opaque; pass to `after` or `before`.")
    node: N


@strawberry.type
class KeysetConnection(Generic[N]):
    """A Relay connection over a pager: its fields, each read from the page only when
    selected. A subclass names the node type and makes a node of each row."""

    _pager: strawberry.Private[Pager[Any, Any]]

    @classmethod
    def node_of(cls, row: Any) -> N:
        raise NotImplementedError

    @strawberry.field
    async def edges(self) -> list[Edge[N]]:
        page = await self._pager.page()
        cursor, node_of = self._pager.cursor, self.node_of
        return [Edge(cursor=cursor(row), node=node_of(row)) for row in page.records]

    @strawberry.field
    async def nodes(self) -> list[N]:
        page = await self._pager.page()
        return [self.node_of(row) for row in page.records]

    @strawberry.field
    async def page_info(self) -> PageInfo:
        return page_info_of(self._pager, await self._pager.page())

    @strawberry.field(description="Rows matching the arguments, on every page.")
    async def total_count(self) -> int:
        return await self._pager.total_count()
