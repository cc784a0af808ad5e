"""GraphQL over WebSocket (graphql-transport-ws), for subscriptions.

Strawberry runs the protocol: connection_init, ping/pong, one task per subscription, all
cancelled when the socket closes. The rest is ours:

- Keep-alive: Strawberry sends keep-alive messages only in the legacy `graphql-ws`
  protocol, so after the `connection_ack` we send a `ping` every `keep_alive_seconds`.
- Each `subscribe` goes through what an HTTP request goes through, refused with an `error`
  message for its id and the same `extensions.code`: the limit per socket
  (TOO_MANY_SUBSCRIPTIONS; like Strawberry's own, it counts every operation in flight),
  the client's token bucket shared with HTTP (RATE_LIMITED, with `retryAfter` seconds),
  then the app's document source (APQ or trusted documents). Queries and mutations are
  stopped after `execution_timeout_ms` (an `error` message, OPERATION_TIMED_OUT);
  subscriptions live as long as their client wants and are never timed out.
- Messages: one larger than `max_websocket_message_bytes` closes the socket with 1009
  (uvicorn enforces the same cap before us; this covers other servers), and one whose
  shape is wrong (not an object, a payload that is not an object, a subscribe without a
  string query...) closes it with 4400 and a short reason.
- Which browser pages may connect: with `cors_origins` other than `*`, a handshake's
  `Origin` must be one of them, even when it names this very host (as after DNS
  rebinding); otherwise HTTP 403, so a page elsewhere cannot open a socket with a
  visitor's browser. Clients without an `Origin` (not browsers) are let in.
- Metrics, logs and traces: each `subscribe` is a request of its own, with its own record
  (`operation_observed`), counted when it ends, refused or run, and its own span under the
  connection's when tracing; the connection's record (the observing middleware's) stands
  for the connection alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from json import JSONDecodeError
from typing import TYPE_CHECKING, Any, cast

from graphql import DocumentNode, GraphQLError
from starlette.requests import Request
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived
from strawberry.http.websocket_origin import normalize_origin
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
    SubscribeMessagePayload,
)

from gql.graphql.context import Context
from gql.graphql.limits.extension import parsed, validation_errors
from gql.graphql.schema import schema
from gql.graphql.subscriptions import TOO_MANY_SUBSCRIPTIONS
from gql.http.persisted import DocumentSource
from gql.http.pipeline import note_operation, note_response, subscription_document, timed_out
from gql.http.rate_limit import (
    ClientRates,
    client_address,
    rate_limited_error,
    retry_after_seconds,
)
from gql.http.request import GraphQLParams, RequestError
from gql.observability import record as records
from gql.observability import tracing
from gql.observability.logging import log_request
from gql.observability.metrics import live
from gql.observability.metrics.requests import observe_request
from gql.observability.record import Outcome, RequestRecord, Transport, current_record
from gql.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.trace import Span

logger = logging.getLogger("gql.http.websocket")

MESSAGE_TOO_BIG = 1009  # RFC 6455; uvicorn closes with it too

ContextFactory = Callable[[Request | WebSocket], Context]


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler with keep-alive pings, checked messages
    and the limits of HTTP requests."""

    _keep_alive: asyncio.Task[None] | None = None

    @property
    def _endpoint(self) -> SubscriptionEndpoint:
        return cast(SubscriptionEndpoint, self.view)

    async def handle(self) -> None:
        with live.open_websocket():
            await super().handle()

    async def handle_message(self, message: Message) -> None:
        # Strawberry indexes a message as it expects it to be: any other shape would raise
        # a TypeError inside it (a logged traceback, and the socket dropped unclosed).
        problem = malformed(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

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
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # which closes the socket
            return
        with operation_observed(message["payload"]):
            try:
                await self._check_limits()
                message = await self._with_document(message)
            except GraphQLError as error:
                await self.send_message(
                    {"id": message["id"], "type": "error", "payload": [error.formatted]}
                )
                end_operation()
                return
            await super().handle_subscribe(message)  # its task copies the context

    async def _check_limits(self) -> None:
        limit = self.max_subscriptions_per_connection
        if limit is not None and len(self.operations) >= limit:
            raise GraphQLError(
                f"At most {limit} subscriptions may run on one connection.",
                extensions={"code": TOO_MANY_SUBSCRIPTIONS},
            )
        rates = self._endpoint.rates
        if rates is None:
            return
        socket = cast(ASGIWebSocketAdapter, self.websocket).ws
        wait = await rates.wait(socket.headers, client_address(socket.scope))
        if wait > 0:
            error = rate_limited_error(retry_after_seconds(wait))
            raise GraphQLError(error["message"], extensions=error["extensions"])

    async def _with_document(self, message: SubscribeMessage) -> SubscribeMessage:
        """The message with the query the document source picks (the query sent, or the
        one its persisted-query hash names)."""
        payload = message["payload"]
        params = GraphQLParams(
            query=payload.get("query"),
            variables=payload.get("variables"),
            operation_name=payload.get("operationName"),
            extensions=payload.get("extensions") or {},
        )
        try:
            document = await self._endpoint.documents.document(params)
        except RequestError as error:
            raise _graphql_error(error) from None
        note_operation(document, params.operation_name, self._endpoint.settings)
        node = self._endpoint.parse(document.query)
        if document.on_valid is not None and self._endpoint.is_valid(node):
            await document.on_valid()
        return {**message, "payload": {**payload, "query": document.query}}

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        try:
            await self._run(operation)
        except Exception:
            failed_operation()  # Strawberry has logged it
            raise
        finally:
            end_operation()  # also when cancelled: its client completed it, or left

    async def _run(self, operation: Operation[Context, None]) -> None:
        if self._endpoint.subscribes(operation.query, operation.operation_name):
            await super().run_operation(operation)
            return
        timeout_ms = self._endpoint.settings.execution_timeout_ms
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                await super().run_operation(operation)
        except TimeoutError:
            # The work was cancelled; a write in it still commits or rolls back whole.
            error = _graphql_error(timed_out(timeout_ms))
            await operation.send_operation_message(
                {"id": operation.id, "type": "error", "payload": [error.formatted]}
            )

    async def send_message(self, message: Message) -> None:
        note_operation_message(message)
        await super().send_message(message)

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


class CappedWebSocketAdapter(ASGIWebSocketAdapter):
    """Strawberry's Starlette adapter, closing the socket on a message over the cap."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        limit = cast(SubscriptionEndpoint, self.view).settings.max_websocket_message_bytes
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                # Characters never outnumber UTF-8 bytes: most messages need no encoding.
                if len(text) > limit or len(text.encode(errors="surrogatepass")) > limit:
                    await self.close(MESSAGE_TOO_BIG, f"Messages are limited to {limit} bytes.")
                    return
                try:
                    yield self.view.decode_json(text)
                except JSONDecodeError as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
        except KeyError as error:  # a binary message has no "text"
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass


class SubscriptionEndpoint(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    websocket_adapter_class = CappedWebSocketAdapter

    def __init__(
        self,
        settings: Settings,
        context_for: ContextFactory,
        documents: DocumentSource,
        rates: ClientRates | None,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            keep_alive=True,
            keep_alive_interval=settings.keep_alive_seconds,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        )
        self.settings = settings
        self.documents = documents
        """The HTTP endpoint's own, so a query registered (APQ) over one runs over both."""
        self.rates = rates
        """The HTTP middleware's own buckets, or None when rate limiting is off."""
        self._allowed_origins = _normalized(settings.cors_origins)
        self._context_for = context_for

    def _check_websocket_origin(self, request: WebSocket) -> bool:
        # Replaces Strawberry's check, which lets in any Origin naming the Host it was sent
        # to (or a `Sec-Fetch-Site: same-origin`) before it looks at the list: a page
        # reached through DNS rebinding has that, and so has an https page on an http host.
        origin = request.headers.get("origin")
        if origin is None or "*" in self._allowed_origins:
            return True
        allowed = normalize_origin(origin) in self._allowed_origins
        if not allowed:
            logger.debug("refused a WebSocket from origin %r", origin)
        return allowed

    def subscribes(self, query: str, operation_name: str | None) -> bool:
        """Whether the operation is a subscription; False when the document is refused
        (it then ends at once with its error)."""
        return subscription_document(query, operation_name, self.settings) is not None

    def parse(self, query: str) -> DocumentNode:
        """The document (from the cache running it reads), or its coded error (too long,
        too many tokens, bad syntax) raised: Strawberry's streams would let that error of
        the limits' parse step escape, a logged traceback instead of an `error` message."""
        document = parsed(query, self.settings)
        if isinstance(document, GraphQLError):
            raise document
        return document

    def is_valid(self, document: DocumentNode) -> bool:
        return not validation_errors(schema.graphql_schema, document, self.settings)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        return self._context_for(request)


@dataclass(slots=True)
class _Observed:
    record: RequestRecord
    started: float
    span: Span | None
    ended: bool = False


_operation: contextvars.ContextVar[_Observed | None] = contextvars.ContextVar(
    "ocm_gql_websocket_operation", default=None
)


@contextlib.contextmanager
def operation_observed(payload: SubscribeMessagePayload) -> Iterator[None]:
    """Makes a `subscribe`'s own record current (with its clock and span) while it is
    checked and its task made; the task copies them, and its messages and end are noted
    there. Its request id, trace, path and client are the connection's, so its log line
    is found by them."""
    connection = current_record()
    record = RequestRecord(
        request_id=connection.request_id if connection else "",
        transport=Transport.WEBSOCKET,
        method="SUBSCRIBE",
        path=connection.path if connection else "",
        client=connection.client if connection else "",
        trace_id=connection.trace_id if connection else None,
    )
    # Named by the payload until its document is known (note_operation then names it).
    name = payload.get("operationName")
    record.operation_name = name if isinstance(name, str) else None
    span = tracing.start_operation_span(record)
    token = _operation.set(_Observed(record, time.perf_counter(), span))
    record_token = records.begin(record)
    try:
        with tracing.current_span(span):
            yield
    finally:
        records.end(record_token)
        _operation.reset(token)


def note_operation_message(message: Message) -> None:
    """Notes in the operation's record what a message sent for it says: the errors of a
    `next` (an event's, or a query's answer), an `error` (refused, or failed). Messages of
    the connection itself (ack, ping) are sent where no operation is current."""
    if _operation.get() is None:
        return
    payload: Any = message.get("payload")
    if message["type"] == "next" and isinstance(payload, dict):
        note_response(payload)
    elif message["type"] == "error" and isinstance(payload, list):
        note_response({"errors": payload}, ran=False)


def failed_operation() -> None:
    observed = _operation.get()
    if observed is not None:
        observed.record.note_outcome(Outcome.FAILED)


def end_operation() -> None:
    """Counts the current operation's record, once: whichever end comes first."""
    observed = _operation.get()
    if observed is None or observed.ended:
        return
    observed.ended = True
    record = observed.record
    if record.operations == 0:  # refused before its document was read
        record.operations = 1
    if record.outcome is None:  # answered without errors, or left by its client
        record.note_outcome(Outcome.OK)
    duration = time.perf_counter() - observed.started
    observe_request(record, duration)
    log_request(record, duration)
    tracing.end_operation_span(observed.span, record)


def malformed(message: object) -> str | None:
    """Why a client's message does not have the shape graphql-transport-ws gives its type,
    or None. Unknown types and missing keys are left to Strawberry (also 4400)."""
    if not isinstance(message, dict):
        return "A message must be a JSON object."
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string 'type'."
    if kind in ("subscribe", "complete") and not isinstance(message.get("id"), str):
        return f"A {kind} message needs a string 'id'."
    if kind != "subscribe":
        return None
    payload = message.get("payload")
    if not isinstance(payload, dict):
        return "A subscribe message needs a 'payload' object."
    for name, kind_of_value, described in _PAYLOAD_FIELDS:
        value = payload.get(name)
        if value is not None and not isinstance(value, kind_of_value):
            return f"'payload.{name}' must be {described} or null."
    query = payload.get("query")
    by_hash_only = query is None and "persistedQuery" in (payload.get("extensions") or {})
    if not (isinstance(query, str) or by_hash_only):
        return "A subscribe message needs a string 'payload.query'."
    return None


_PAYLOAD_FIELDS = (
    ("variables", dict, "an object"),
    ("extensions", dict, "an object"),
    ("operationName", str, "a string"),
)


def _graphql_error(error: RequestError) -> GraphQLError:
    """An HTTP request error as a WebSocket `error` message carries it: same code."""
    return GraphQLError(error.message, extensions={"code": error.code})


def _normalized(origins: Iterable[str]) -> frozenset[str]:
    """Origins as browsers send them (lowercase, no default port), as CORS lists them."""
    return frozenset(
        origin if origin == "*" else (normalize_origin(origin) or origin) for origin in origins
    )
