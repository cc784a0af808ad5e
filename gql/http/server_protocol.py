"""uvicorn's HTTP/1.1 protocol with deadlines on the request head and body.

uvicorn closes a kept-alive connection that sends nothing after a response, but has no
deadline for a request still arriving: a client that opens a connection and sends its
headers (slowloris) or its body a byte at a time holds a connection and a file
descriptor for ever, and a few thousand of them starve everyone else. Here:

- the request line and headers must be complete within ``header_seconds`` of the
  connection opening or of the previous response ending, else the connection closes
  (this also covers a connection that never sends a byte);
- the body must be complete within ``body_seconds`` of the headers, else the request is
  answered 408 (REQUEST_TIMEOUT) and the connection closes;
- a WebSocket handshake meets the connection cap (``limit_concurrency``) as other
  requests do: uvicorn checks the cap only for plain HTTP requests.

Deadlines run only while we wait for the client: not while the app works on a request,
not for a request queued behind another (pipelining: uvicorn stops reading meanwhile),
and not once a connection is upgraded to a WebSocket. This module is the one place that
reads uvicorn's per-connection internals (``cycle``, ``pipeline``, ``transport``).
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

REQUEST_TIMEOUT: Final = "REQUEST_TIMEOUT"


def protocol_with_deadlines(header_seconds: float, body_seconds: float) -> type[HttpToolsProtocol]:
    """The protocol class to give uvicorn as ``http=``."""

    class DeadlineProtocol(_DeadlineProtocol):
        _header_seconds = header_seconds
        _body_seconds = body_seconds

    return DeadlineProtocol


class _DeadlineProtocol(HttpToolsProtocol):
    _header_seconds: float
    _body_seconds: float

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_deadline: asyncio.TimerHandle | None = None
        self._body_deadline: asyncio.TimerHandle | None = None
        # True from a request's headers to its end: a body is being received.
        self._in_body = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._cancel_header_deadline()
        super().on_headers_complete()
        if self.parser.should_upgrade() and self._should_upgrade():
            return  # a WebSocket: the WebSocket protocol takes over the connection
        self._in_body = True
        if not self.pipeline:  # a queued request's body is read once it starts
            self._arm_body_deadline()

    def _should_upgrade(self) -> bool:
        # At the cap, the handshake goes on as a plain request: uvicorn answers it 503.
        return super()._should_upgrade() and not self._at_capacity()

    def _unsupported_upgrade_warning(self) -> None:
        if not self._at_capacity():  # else uvicorn has logged the 503 already
            super()._unsupported_upgrade_warning()

    def _at_capacity(self) -> bool:
        limit = self.limit_concurrency
        return limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit)

    def on_message_complete(self) -> None:
        self._in_body = False
        self._cancel_body_deadline()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        had_queued_request = bool(self.pipeline)
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self._in_body:
            self._arm_body_deadline()
        elif not had_queued_request:
            self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        self._cancel_body_deadline()
        super().connection_lost(exc)

    def _headers_late(self) -> None:
        self._header_deadline = None
        self.transport.close()

    def _body_late(self) -> None:
        self._body_deadline = None
        cycle = self.cycle
        if not cycle.response_started:
            # The app sees a disconnect from now on and its response is dropped.
            cycle.disconnected = True
            cycle.message_event.set()
            self.transport.write(_REQUEST_TIMEOUT_RESPONSE)
        self.transport.close()

    def _arm_header_deadline(self) -> None:
        if self._header_deadline is None:
            self._header_deadline = self.loop.call_later(self._header_seconds, self._headers_late)

    def _arm_body_deadline(self) -> None:
        if self._body_deadline is None:
            self._body_deadline = self.loop.call_later(self._body_seconds, self._body_late)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _cancel_body_deadline(self) -> None:
        if self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None


def _request_timeout_response() -> bytes:
    body = orjson.dumps(
        {
            "errors": [
                {
                    "message": "The request body did not arrive in time.",
                    "extensions": {"code": REQUEST_TIMEOUT},
                }
            ]
        }
    )
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


_REQUEST_TIMEOUT_RESPONSE: Final = _request_timeout_response()
