"""Optional rate limiting of GraphQL operations: a token bucket per client.

A client is its API key when the key is valid (so many users behind one address are
told apart), else its address: made-up keys get no bucket of their own. HTTP requests and
WebSocket `subscribe` messages draw from the same buckets (`ClientRates`). Over the rate,
requests get 429 with `Retry-After` before any GraphQL work is done; a WebSocket operation
gets an `error` message (see gql/http/websocket.py).

The buckets sit behind `RateLimiter`: `TokenBuckets` here, within one process, and with
Redis `RedisTokenBuckets` (gql/http/rate_limit_redis.py), the same algorithm counted in
Redis so that all processes together allow what one would.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from gql.observability.record import Outcome, note_error
from gql.util.lru import BoundedCache

RATE_LIMITED: Final = "RATE_LIMITED"
MAX_TRACKED_CLIENTS: Final = 100_000
BUCKET_BYTES: Final = 256
"""A bucket as held: its client's name (an address or a key's name, both short) and two
floats."""

ClientIdentifier = Callable[[Headers, str], Awaitable[str]]


class RateLimiter(Protocol):
    async def take(self, client: str) -> float:
        """0 when the request may go (a token is taken); otherwise seconds until a token
        is available."""
        ...


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

    async def take(self, client: str) -> float:
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


class ClientRates:
    """The buckets and the way clients are told apart, one instance for the whole app."""

    def __init__(self, buckets: RateLimiter, identify: ClientIdentifier) -> None:
        self._buckets = buckets
        self._identify = identify

    async def wait(self, headers: Headers, address: str) -> float:
        """0 when the client may go on (a token is taken); otherwise seconds to wait."""
        return await self._buckets.take(await self._identify(headers, address))


def client_address(scope: Scope) -> str:
    return scope["client"][0] if scope.get("client") else "unknown"


def retry_after_seconds(wait: float) -> int:
    """Whole seconds, rounded up and never 0, as `Retry-After` counts them."""
    return max(1, math.ceil(wait))


def rate_limited_error(retry_after: int) -> dict[str, Any]:
    return {
        "message": f"Too many requests; retry after {retry_after} s.",
        "extensions": {"code": RATE_LIMITED, "retryAfter": retry_after},
    }


class RateLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        rates: ClientRates,
        paths: frozenset[str] = frozenset({"/graphql"}),
    ) -> None:
        self._app = app
        self._rates = rates
        self._paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # WebSocket handshakes pass: each operation on the socket takes its own token.
        if scope["type"] != "http" or scope["path"] not in self._paths:
            await self._app(scope, receive, send)
            return
        wait = await self._rates.wait(Headers(scope=scope), client_address(scope))
        if wait == 0:
            await self._app(scope, receive, send)
            return
        note_error(RATE_LIMITED, Outcome.REJECTED)
        retry_after = retry_after_seconds(wait)
        body = orjson.dumps({"errors": [rate_limited_error(retry_after)]})
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"retry-after", str(retry_after).encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
