"""The GraphQL-over-HTTP endpoint: GET and POST, single and batched, as the spec asks.

Status codes follow the negotiated media type: with `application/graphql-response+json`
a request that never ran (parse, validation or variable errors) is a 4xx and its body has
no `data`; `application/json` clients get 200 for anything GraphQL reports. GET only runs
queries (a mutation gets 405 with `Allow: POST`), and its answers carry an ETag so
`If-None-Match` gives 304. Reading, limits and execution are the shared pipeline's
(gql/http/pipeline.py).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.types.graphql import OperationType

from gql.graphql.context import Context
from gql.graphql.schema import Schema
from gql.http.media import ResponseMedia, negotiate
from gql.http.pipeline import (
    UNAVAILABLE_HEADERS,
    VARY,
    Outcome,
    RequestPipeline,
    answer,
    error_response,
    json_response,
    note_refusal,
)
from gql.http.request import NOT_ACCEPTABLE, GraphQLParams, RequestError

ContextFactory = Callable[[Request], Context]


class GraphQLHTTPEndpoint:
    def __init__(self, pipeline: RequestPipeline, context_for: ContextFactory) -> None:
        self._pipeline = pipeline
        self._context_for = context_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await answer(scope, receive, send, self._respond)

    async def _respond(self, request: Request) -> Response:
        media = negotiate(request.headers.get("accept"))
        try:
            if media is None:
                raise RequestError(
                    406,
                    NOT_ACCEPTABLE,
                    "Accept application/graphql-response+json or application/json.",
                )
            incoming = await self._pipeline.read(request)
        except RequestError as error:
            return error_response(error, media or ResponseMedia.JSON)
        context = self._context_for(request)
        schema = self._pipeline.schemas.for_request(request)
        params, operations = incoming.params, incoming.operations
        if isinstance(params, list):
            outcomes = await asyncio.gather(
                *(self._batch_item(item, operations, schema, context) for item in params)
            )
            return json_response([outcome.body for outcome in outcomes], 200, media)
        try:
            outcome = await self._pipeline.execute(params, operations, schema, context)
        except RequestError as error:
            return error_response(error, media)
        if outcome.server_failed:
            return json_response(outcome.body, 500, media)
        if media is ResponseMedia.GRAPHQL_RESPONSE_JSON:
            if outcome.unavailable:
                response = json_response(outcome.body, 503, media)
                response.headers.update(UNAVAILABLE_HEADERS)
                return response
            if outcome.request_failed:
                return json_response(outcome.body, 400, media)
        if request.method == "GET":
            return self._cacheable(request, outcome, media)
        return json_response(outcome.body, 200, media)

    async def _batch_item(
        self,
        params: GraphQLParams,
        operations: frozenset[OperationType],
        schema: Schema,
        context: Context,
    ) -> Outcome:
        try:
            return await self._pipeline.execute(params, operations, schema, context)
        except RequestError as error:
            note_refusal(error)
            return Outcome({"errors": [error.formatted()]}, request_failed=True)

    def _cacheable(self, request: Request, outcome: Outcome, media: ResponseMedia) -> Response:
        content = orjson.dumps(outcome.body)
        digest = hashlib.blake2b(content, digest_size=16)
        digest.update(media.value.encode())
        etag = f'W/"{digest.hexdigest()}"'
        settings = self._pipeline.settings
        cache_control = "no-store" if "errors" in outcome.body else settings.cache_control
        headers = {**VARY, "ETag": etag, "Cache-Control": cache_control}
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(content, 200, headers=headers, media_type=media.content_type)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    # Weak comparison (RFC 9110): the W/ prefix does not matter.
    opaque = etag.removeprefix("W/")
    return any(
        tag.strip() == "*" or tag.strip().removeprefix("W/") == opaque
        for tag in if_none_match.split(",")
    )
