"""An app whose pages of connections first wait: for the execution-time limit over every
transport (HTTP, Server-Sent Events, WebSocket)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from starlette.applications import Starlette

from gql.app import create_app
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import ConnectionRecord, PageQuery
from gql.settings import Settings


class SlowPages:
    """The real repository, except that pages of connections first wait ``delay`` s."""

    def __init__(self, inner: Repository) -> None:
        self._inner = inner
        self.delay = 0.0
        self.cancelled = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def connection_page(self, query: PageQuery) -> list[ConnectionRecord]:
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return await self._inner.connection_page(query)


def slow_app(settings: Settings) -> tuple[Starlette, list[SlowPages]]:
    """The app, and the list its lifespan puts its SlowPages repository in."""
    opened: list[SlowPages] = []

    async def open_slow(settings: Settings) -> Repository:
        opened.append(SlowPages(await open_repository(settings)))
        return cast(Repository, opened[-1])

    return create_app(settings, open_repo=open_slow), opened
