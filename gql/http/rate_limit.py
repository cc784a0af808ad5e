"""Optional rate limiting of GraphQL requests: a token bucket per client.

A client is its API key when the key is valid (so many users behind one address are
told apart), else its address: made-up keys get no bucket of their own. Over the rate,
requests get 429 with `Retry-After` before any GraphQL work is done.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Final

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gql.util.lru import BoundedCache

RATE_LIMITED: Final = "RATE_LIMITED"
MAX_TRACKED_CLIENTS: Final = 100_000
BUCKET_BYTES: Final = 256
"""A bucket as held: its client's name (an address or a key's name, both short) and two
floats."""

ClientIdentifier = Callable[[Headers, str], Awaitable[str]]


class TokenBuckets:
    """Buckets of ``burst`` tokens refilled at ``rate`` per second, least recently seen
    clients forgotten first (a forgotten client starts with a full bucket). A bucket
    holds at least one token: with none it could never let a request through."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self._rate = rate
        self._burst = max(1, burst)
        self._clock = clock
        self._buckets: BoundedCache[str, tuple[float, float]] = BoundedCache(
            MAX_TRACKED_CLIENTS, MAX_TRACKED_CLIENTS * BUCKET_BYTES
        )

    def take(self, client: str) -> float:
        """0 when the request may go; otherwise seconds until a token is available."""
        now = self._clock()
        tokens, last = self._buckets.get(client) or (float(self._burst), now)
        tokens = min(float(self._burst), tokens + (now - last) * self._rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self._rate
        self._buckets.put(client, (tokens, now), BUCKET_BYTES)
        return wait


class RateLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float,
        burst: int,
        identify: ClientIdentifier,
        paths: frozenset[str] = frozenset({"/graphql"}),
    ) -> None:
        self._app = app
        self._buckets = TokenBuckets(rate, burst)
        self._identify = identify
        self._paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self._paths:
            await self._app(scope, receive, send)
            return
        address = scope["client"][0] if scope.get("client") else "unknown"
        client = await self._identify(Headers(scope=scope), address)
        wait = self._buckets.take(client)
        if wait == 0:
            await self._app(scope, receive, send)
            return
        retry_after = str(max(1, math.ceil(wait)))
        body = orjson.dumps(
            {
                "errors": [
                    {
                        "message": f"Too many requests; retry after {retry_after} s.",
                        "extensions": {"code": RATE_LIMITED},
                    }
                ]
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"retry-after", retry_after.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
