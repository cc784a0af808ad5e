"""GraphQL over Server-Sent Events: the graphql-sse protocol in its distinct-connections
mode, on the same request pipeline as plain POST (gql/http/pipeline.py).

POST or GET `/graphql` with `Accept: text/event-stream`. Each result is an
`event: next` whose data is the JSON result, and the stream ends with `event: complete`:
a query or mutation gives one `next`, a subscription one per event. The wire format is
Strawberry's (its `SSETransport`), which graphql-sse clients read.

Everything before the stream starts is the plain endpoint's, answered the same way (with
the statuses of `application/graphql-response+json`, as a JSON body): the URL and body
limits, content type, the document source (APQ or trusted documents), parse, validation,
depth, aliases and cost, and for queries and mutations the execution timeout (504). A
subscription is checked with RequestLimits' own checks before its response starts, and
refused with the extension's first result; once streaming, it lasts until the client
leaves or the subscription ends: the execution timeout does not end a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Callable
from typing import Final

import orjson
from graphql import DocumentNode
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.http.streaming import AsyncTextStream, SSETransport, merge_stream_with_heartbeat
from strawberry.types import ExecutionResult

from gql.graphql.context import Context
from gql.graphql.limits.extension import admitted
from gql.graphql.schema import Schema
from gql.http.media import ResponseMedia
from gql.http.persisted import Document
from gql.http.pipeline import (
    UNAVAILABLE_HEADERS,
    Outcome,
    RequestPipeline,
    answer,
    error_response,
    json_response,
    note_operation,
    note_outcome,
    note_response,
    subscription_document,
    timed_out,
)
from gql.http.request import GraphQLParams, RequestError
from gql.observability.metrics import live

EVENT_STREAM: Final = "text/event-stream"
BATCHING_NOT_STREAMED: Final = "BATCHING_NOT_STREAMED"
# A client of event streams reads status codes: it gets the spec's, not the legacy 200s.
_ERROR_MEDIA: Final = ResponseMedia.GRAPHQL_RESPONSE_JSON

ContextFactory = Callable[[Request], Context]


class EventStreamEndpoint:
    def __init__(
        self, pipeline: RequestPipeline, context_for: ContextFactory, *, heartbeat_seconds: float
    ) -> None:
        self._pipeline = pipeline
        self._context_for = context_for
        self._transport = SSETransport(heartbeat_interval=heartbeat_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await answer(scope, receive, send, self._respond)

    async def _respond(self, request: Request) -> Response:
        try:
            return await self._stream(request)
        except RequestError as error:
            return error_response(error, _ERROR_MEDIA)

    async def _stream(self, request: Request) -> Response:
        incoming = await self._pipeline.read(request)
        params = incoming.params
        if isinstance(params, list):
            raise RequestError(
                400,
                BATCHING_NOT_STREAMED,
                "A batch cannot be sent as Server-Sent Events: open one stream an operation.",
            )
        document = await self._pipeline.document(params)
        context = self._context_for(request)
        schema = self._pipeline.schemas.for_request(request)
        subscription = subscription_document(
            document.query, params.operation_name, context.settings
        )
        if subscription is not None:
            return await self._subscribe(params, document, subscription, schema, context)
        outcome = await self._pipeline.execute(
            params, incoming.operations, schema, context, document
        )
        if outcome.request_failed or outcome.unavailable:
            return _refusal(outcome)
        return Response(
            self._next(outcome.body) + self._transport.encode_complete(),
            headers=self._transport.headers,
        )

    async def _subscribe(
        self,
        params: GraphQLParams,
        document: Document,
        parsed_document: DocumentNode,
        schema: Schema,
        context: Context,
    ) -> Response:
        note_operation(document, params.operation_name, context.settings)
        results = await schema.subscribe(
            document.query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
        )
        settings = self._pipeline.settings
        if not admitted(
            schema.graphql_schema,
            parsed_document,
            params.operation_name,
            params.variables,
            settings,
        ):
            # RequestLimits refuses it as well, with the first result and before anything
            # runs; the timeout only guards against waiting on a first event instead.
            async with contextlib.aclosing(results):
                try:
                    async with asyncio.timeout(settings.execution_timeout_ms / 1000):
                        first = await anext(results)
                except TimeoutError:
                    raise timed_out(settings.execution_timeout_ms) from None
            refused = Outcome.of(first)
            note_outcome(refused)
            return _refusal(refused)
        if document.on_valid is not None:
            await document.on_valid()
        note_response({})  # admitted: ok, unless an event says otherwise
        return StreamingResponse(self._events(results)(), headers=self._transport.headers)

    def _events(self, results: AsyncGenerator[ExecutionResult, None]) -> AsyncTextStream:
        async def events() -> AsyncGenerator[str, None]:
            with live.open_event_stream():
                async with contextlib.aclosing(results):
                    async for result in results:
                        body = Outcome.of(result).body
                        note_response(body)
                        yield self._next(body)
                yield self._transport.encode_complete()

        return merge_stream_with_heartbeat(
            events,
            lambda: self._transport.heartbeat_message(_json),
            interval=self._transport.heartbeat_interval,
            send_initial_heartbeat=False,
        )

    def _next(self, body: dict[str, object]) -> str:
        return self._transport.encode_next(body, _json)  # type: ignore[arg-type]


class EventStreamSwitch:
    """HTTP requests that accept `text/event-stream` go to the event streams; the rest to
    the GraphQL-over-HTTP endpoint."""

    def __init__(self, graphql: ASGIApp, event_streams: ASGIApp) -> None:
        self._graphql = graphql
        self._event_streams = event_streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream = wants_event_stream(Headers(scope=scope))
        await (self._event_streams if stream else self._graphql)(scope, receive, send)


def wants_event_stream(headers: Headers) -> bool:
    return EVENT_STREAM in headers.get("accept", "").lower()


def _refusal(outcome: Outcome) -> Response:
    if outcome.unavailable:
        response = json_response(outcome.body, 503, _ERROR_MEDIA)
        response.headers.update(UNAVAILABLE_HEADERS)
        return response
    return json_response(outcome.body, 500 if outcome.server_failed else 400, _ERROR_MEDIA)


def _json(value: object) -> str:
    return orjson.dumps(value).decode()
