"""GraphQL over WebSocket (graphql-transport-ws), for subscriptions.

Strawberry runs the protocol: connection_init, ping/pong keep-alive, one task per
subscription, all cancelled when the socket closes. Before any of that, the upgrade's
`Origin` must be one CORS allows, so a page elsewhere cannot open a socket with a
visitor's browser.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.settings import Settings

# Closing before accepting answers the upgrade with HTTP 403.
_POLICY_VIOLATION = 1008

ContextFactory = Callable[[WebSocket], Context]


class SubscriptionEndpoint(GraphQL[Context, None]):
    def __init__(self, settings: Settings, context_for: ContextFactory) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            keep_alive=True,
            keep_alive_interval=settings.keep_alive_seconds,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self._allowed_origins = frozenset(settings.cors_origins)
        self._context_for = context_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not self._origin_allowed(Headers(scope=scope)):
            await send({"type": "websocket.close", "code": _POLICY_VIOLATION})
            return
        await super().__call__(scope, receive, send)

    def _origin_allowed(self, headers: Headers) -> bool:
        origin = headers.get("origin")
        # Non-browser clients send no Origin; browsers always do.
        return origin is None or "*" in self._allowed_origins or origin in self._allowed_origins

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        assert isinstance(request, WebSocket)
        return self._context_for(request)
