"""RedisLinks for unit tests: each one stands for a server process of its own (its own
client and connection pool, its own pause after a failure), all under one key prefix."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from gql.redis_link import RedisLink
from gql.settings import Settings
from tests.redis_servers import PrivateRedis, private_redis, redis_prefix, unique_prefix


class Links:
    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.prefix = prefix
        self._made: list[RedisLink] = []

    def __call__(self) -> RedisLink:
        """A link as a server process makes it from its settings."""
        link = RedisLink.from_settings(Settings(redis_url=self.url, redis_key_prefix=self.prefix))
        assert link is not None
        self._made.append(link)
        return link

    async def close(self) -> None:
        for link in self._made:
            await link.close()


@contextlib.asynccontextmanager
async def shared_links() -> AsyncIterator[Links]:
    """Links to the shared test Redis, under a prefix of the test's own."""
    with redis_prefix() as (url, prefix):
        made = Links(url, prefix)
        try:
            yield made
        finally:
            await made.close()


@contextlib.asynccontextmanager
async def private_links() -> AsyncIterator[tuple[Links, PrivateRedis]]:
    """Links to a private Redis the test may stop and start."""
    with private_redis() as server:
        made = Links(server.url, unique_prefix())
        try:
            yield made, server
        finally:
            await made.close()


class Calls:
    """Counts the commands a link's client sends (scripts included)."""

    def __init__(self, link: RedisLink, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = link.client.execute_command

        async def counted(*args: object, **options: object) -> object:
            self.count += 1
            return await real(*args, **options)

        monkeypatch.setattr(link.client, "execute_command", counted)
