"""A server process's link to Redis, when `OCM_GQL_REDIS_URL` is set.

One client (redis-py's asyncio client, with its own connection pool) serves the
broadcaster, the persisted-query store and the rate limiter. Requests must never wait
on a Redis that is down: after a failure the link says it is unavailable for a short
while (`available` is False), so callers take their fallback at once instead of paying
a connection timeout per request, and try again after that pause. Reconnection itself
is redis-py's: the next command opens a new connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gql.settings import Settings, shown

T = TypeVar("T")

logger = logging.getLogger("gql.redis")

CONNECT_TIMEOUT_SECONDS: Final = 0.5
COMMAND_TIMEOUT_SECONDS: Final = 1.0
PAUSE_AFTER_FAILURE_SECONDS: Final = 1.0
"""How long callers skip Redis after it failed, before trying it again."""

REDIS_ERRORS: Final = (RedisError, OSError, TimeoutError)
"""What a command on a lost or refusing server raises."""


class RedisLink:
    def __init__(self, client: Redis, prefix: str, url: str) -> None:
        self.client = client
        self.url = url
        self._prefix = prefix
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._problem = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> RedisLink | None:
        if settings.redis_url is None:
            return None
        client = Redis.from_url(
            settings.redis_url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            socket_timeout=COMMAND_TIMEOUT_SECONDS,
            # One quick retry covers a connection the server closed while it sat idle;
            # more would make every request wait on a Redis that is down.
            retry=Retry(NoBackoff(), 1),
            health_check_interval=10,
        )
        return cls(client, settings.redis_key_prefix, settings.redis_url)

    def key(self, *parts: str | int) -> str:
        """A key or channel name of this deployment."""
        return self._prefix + ":".join(str(part) for part in parts)

    @property
    def available(self) -> bool:
        """False for a short pause after a failure: callers then use their fallback."""
        return self._down_since is None or time.monotonic() >= self._retry_at

    @property
    def problem(self) -> str | None:
        """Why Redis is taken as down, or None while it answers."""
        return None if self._down_since is None else self._problem

    def failed(self, error: BaseException) -> None:
        """A command failed: skip Redis for a pause (logged once per outage)."""
        now = time.monotonic()
        self._retry_at = now + PAUSE_AFTER_FAILURE_SECONDS
        self._problem = f"{type(error).__name__}: {error}"
        if self._down_since is None:
            self._down_since = now
            logger.warning("Redis at %s is unavailable (%s)", self.shown_url, self._problem)

    def succeeded(self) -> None:
        if self._down_since is not None:
            logger.warning(
                "Redis at %s answers again after %.1f s",
                self.shown_url,
                time.monotonic() - self._down_since,
            )
            self._down_since = None

    @property
    def shown_url(self) -> str:
        return str(shown("OCM_GQL_REDIS_URL", self.url))

    async def attempt(self, command: Callable[[], Awaitable[T]]) -> T | None:
        """``command``'s answer; None, at once, during the pause after a failure, or when
        it fails now (the failure noted): callers then take their fallback."""
        if not self.available:
            return None
        try:
            answer = await command()
        except REDIS_ERRORS as error:
            self.failed(error)
            return None
        self.succeeded()
        return answer

    async def ping(self) -> str | None:
        """None when Redis answers, else why not."""
        try:
            await self.client.ping()
        except REDIS_ERRORS as error:
            self.failed(error)
            return self.problem
        self.succeeded()
        return None

    async def close(self) -> None:
        await self.client.aclose()
