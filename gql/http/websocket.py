"""GraphQL over WebSocket (graphql-transport-ws), for subscriptions.

Strawberry runs the protocol: connection_init, ping/pong, one task per subscription, all
cancelled when the socket closes. Three things are ours:

- Keep-alive: Strawberry sends keep-alive messages only in the legacy `graphql-ws`
  protocol, so after the `connection_ack` we send a `ping` every `keep_alive_seconds`.
- The limit per socket, answered with an `error` message coded TOO_MANY_SUBSCRIPTIONS
  (like Strawberry's own, it counts every operation in flight on the socket).
- Which browser pages may connect: a handshake with an `Origin` that is neither the
  server's own nor one CORS allows gets HTTP 403, so a page elsewhere cannot open a socket
  with a visitor's browser. Clients without an `Origin` (not browsers) are let in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.websocket_origin import normalize_origin
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.graphql.subscriptions import TOO_MANY_SUBSCRIPTIONS
from gql.settings import Settings

logger = logging.getLogger("gql.http.websocket")

ContextFactory = Callable[[Request | WebSocket], Context]


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler with keep-alive pings and a coded limit."""

    _keep_alive: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        interval = self.view.keep_alive_interval
        if self.connection_acknowledged and self._keep_alive is None and interval:
            self._keep_alive = asyncio.create_task(self._ping_every(interval))

    async def _ping_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.send_message({"type": "ping"})
            except Exception:
                # The socket is gone; the receive loop notices and shuts the handler down.
                logger.debug("keep-alive ping failed; the socket is closing", exc_info=True)
                return

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            limit is not None
            and self.connection_acknowledged
            and message["id"] not in self.operations
            and len(self.operations) >= limit
        ):
            error = GraphQLError(
                f"At most {limit} subscriptions may run on one connection.",
                extensions={"code": TOO_MANY_SUBSCRIPTIONS},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        # Cancel every task of the socket before the first await: should this handler be
        # cancelled itself (say, the server stopping), the awaits below may be cut short,
        # and the tasks must end anyway.
        for operation in self.operations.values():
            if operation.task is not None:
                operation.task.cancel()
        if self._keep_alive is not None:
            self._keep_alive.cancel()
        await super().shutdown()
        if self._keep_alive is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._keep_alive


class SubscriptionEndpoint(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(self, settings: Settings, context_for: ContextFactory) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            keep_alive=True,
            keep_alive_interval=settings.keep_alive_seconds,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self._allowed_origins = _normalized(settings.cors_origins)
        self._context_for = context_for

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        # Strawberry asks only about browsers on other origins: handshakes without an
        # Origin, and same-origin ones (such as GraphiQL served here), are let in before.
        return "*" in self._allowed_origins or normalize_origin(origin) in self._allowed_origins

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return self._context_for(request)


def _normalized(origins: Iterable[str]) -> frozenset[str]:
    """Origins as browsers send them (lowercase, no default port), as CORS lists them."""
    return frozenset(
        origin if origin == "*" else (normalize_origin(origin) or origin) for origin in origins
    )
