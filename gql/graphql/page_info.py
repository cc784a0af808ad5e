"""Relay's PageInfo, shared by every paged connection."""

from __future__ import annotations

from typing import Any

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
