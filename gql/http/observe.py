"""The outermost middleware: every HTTP request and WebSocket connection gets a request
id, a record of what it did (gql/observability/record.py), a span when tracing is on,
its metrics, and one log line when it ends.

The request id is the caller's `X-Request-Id` when it is a sane token (a proxy or
gateway's), else a new one; either way it is echoed in the response's `X-Request-Id`.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql.http.rate_limit import client_address
from gql.observability import record as records
from gql.observability import tracing
from gql.observability.logging import log_request
from gql.observability.metrics.requests import observe_request
from gql.observability.record import RequestRecord, Transport

REQUEST_ID_HEADER: Final = b"x-request-id"
# Printable, no spaces or quotes, at most 128 characters: safe to log and to echo.
_SANE_REQUEST_ID: Final = re.compile(rb"[A-Za-z0-9._:/+=@-]{1,128}")


class Observe:
    def __init__(self, app: ASGIApp, *, paths: frozenset[str] = frozenset({"/graphql"})) -> None:
        self._app = app
        self._paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] not in self._paths:
            await self._app(scope, receive, send)
            return
        record = RequestRecord(
            request_id=request_id(scope),
            transport=_transport(scope),
            method=scope.get("method", "GET"),
            path=scope["path"],
            client=client_address(scope),
        )
        echoed = (b"x-request-id", record.request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                message["headers"] = [*message.get("headers", ()), echoed]
            elif message["type"] == "websocket.accept":
                record.status = 101
                message["headers"] = [*message.get("headers", ()), echoed]
            elif message["type"] == "websocket.close" and record.status is None:
                record.status = 403  # refused before it was accepted
            await send(message)

        token = records.begin(record)
        started = time.perf_counter()
        try:
            with tracing.request_span(scope, record):
                await self._app(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - started
            records.end(token)
            observe_request(record, duration)
            log_request(record, duration)


def request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _SANE_REQUEST_ID.fullmatch(value):
            return str(value, "ascii")
    return uuid.uuid4().hex


def _transport(scope: Scope) -> Transport:
    if scope["type"] == "websocket":
        return Transport.WEBSOCKET
    for name, value in scope["headers"]:
        if name == b"accept" and b"text/event-stream" in value:
            return Transport.SSE
    return Transport.HTTP
