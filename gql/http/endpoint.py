"""The GraphQL-over-HTTP endpoint: GET and POST, single and batched, as the spec asks.

Status codes follow the negotiated media type: with `application/graphql-response+json`
a request that never ran (parse, validation or variable errors) is a 4xx and its body has
no `data`; `application/json` clients get 200 for anything GraphQL reports. GET only runs
queries (a mutation gets 405 with `Allow: POST`), and its answers carry an ETag so
`If-None-Match` gives 304.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gql.graphql import fast_lane
from gql.graphql.context import Context
from gql.graphql.errors import INTERNAL_SERVER_ERROR, clip_message
from gql.graphql.schema import TRACE_HEADER, Schema
from gql.http.media import ResponseMedia, negotiate
from gql.http.persisted import DocumentSource
from gql.http.request import (
    BAD_REQUEST,
    METHOD_NOT_ALLOWED,
    NOT_ACCEPTABLE,
    PAYLOAD_TOO_LARGE,
    GraphQLParams,
    RequestError,
    params_from_body,
    params_from_url,
)
from gql.settings import Settings

logger = logging.getLogger("gql.http")

OPERATION_RESOLUTION_FAILURE: Final = "OPERATION_RESOLUTION_FAILURE"
OPERATION_TIMED_OUT: Final = "OPERATION_TIMED_OUT"
URI_TOO_LONG: Final = "URI_TOO_LONG"
_GET_OPERATIONS: Final = frozenset({OperationType.QUERY})
_POST_OPERATIONS: Final = frozenset({OperationType.QUERY, OperationType.MUTATION})
# The body depends on Accept, so shared caches must key on it.
_VARY: Final = {"Vary": "Accept"}

ContextFactory = Callable[[Request], Context]


@dataclass(frozen=True, slots=True)
class Schemas:
    plain: Schema
    traced: Schema
    """Used when a gateway asks for a federation trace (it costs on every resolver)."""

    def for_request(self, request: Request) -> Schema:
        return self.traced if request.headers.get(TRACE_HEADER) == "ftv1" else self.plain


@dataclass(frozen=True, slots=True)
class Outcome:
    body: dict[str, Any]
    request_failed: bool
    """True when the operation never ran: the spec's "request error", which has no data."""
    server_failed: bool = False
    """True when it never ran because of a bug of ours (a masked error outside any field):
    a 500, not the client's 400."""


class GraphQLHTTPEndpoint:
    def __init__(
        self,
        settings: Settings,
        schemas: Schemas,
        documents: DocumentSource,
        context_for: ContextFactory,
    ) -> None:
        self._settings = settings
        self._schemas = schemas
        self._documents = documents
        self._context_for = context_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._respond(request)
        except Exception:
            error_id = uuid.uuid4().hex
            logger.exception("unexpected error %s answering %s", error_id, request.url.path)
            response = _json_response(
                {
                    "errors": [
                        {
                            "message": f"Internal server error (error id {error_id}).",
                            "extensions": {"code": INTERNAL_SERVER_ERROR, "errorId": error_id},
                        }
                    ]
                },
                500,
                ResponseMedia.JSON,
            )
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        media = negotiate(request.headers.get("accept"))
        try:
            if media is None:
                raise RequestError(
                    406,
                    NOT_ACCEPTABLE,
                    "Accept application/graphql-response+json or application/json.",
                )
            params, operations = await self._read(request)
        except RequestError as error:
            return _error_response(error, media or ResponseMedia.JSON)
        context = self._context_for(request)
        schema = self._schemas.for_request(request)
        if isinstance(params, list):
            outcomes = await asyncio.gather(
                *(self._batch_item(item, operations, schema, context) for item in params)
            )
            return _json_response([outcome.body for outcome in outcomes], 200, media)
        try:
            outcome = await self._execute(params, operations, schema, context)
        except RequestError as error:
            return _error_response(error, media)
        status = (
            400 if outcome.request_failed and media is ResponseMedia.GRAPHQL_RESPONSE_JSON else 200
        )
        if outcome.server_failed:
            status = 500
        if request.method == "GET" and status == 200:
            return self._cacheable(request, outcome, media)
        return _json_response(outcome.body, status, media)

    async def _read(
        self, request: Request
    ) -> tuple[GraphQLParams | list[GraphQLParams], frozenset[OperationType]]:
        if request.method == "GET":
            limit = self._settings.max_url_bytes
            if len(request.scope["query_string"]) > limit:
                raise RequestError(
                    414, URI_TOO_LONG, f"The query string is longer than {limit} bytes; use POST."
                )
            return params_from_url(request.query_params), _GET_OPERATIONS
        if request.method == "POST":
            body = await self._body(request)
            params = params_from_body(
                body,
                request.headers.get("content-type"),
                max_batch_size=self._settings.max_batch_size,
            )
            return params, _POST_OPERATIONS
        raise RequestError(
            405,
            METHOD_NOT_ALLOWED,
            f"{request.method} is not supported; use GET or POST.",
            headers={"Allow": "GET, POST"},
        )

    async def _body(self, request: Request) -> bytes:
        limit = self._settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _batch_item(
        self,
        params: GraphQLParams,
        operations: frozenset[OperationType],
        schema: Schema,
        context: Context,
    ) -> Outcome:
        try:
            return await self._execute(params, operations, schema, context)
        except RequestError as error:
            return Outcome({"errors": [error.formatted()]}, request_failed=True)

    async def _execute(
        self,
        params: GraphQLParams,
        operations: frozenset[OperationType],
        schema: Schema,
        context: Context,
    ) -> Outcome:
        document = self._documents.document(params)
        timeout_ms = self._settings.execution_timeout_ms
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                result = await fast_lane.execute(
                    schema,
                    document.query,
                    params.variables,
                    params.operation_name,
                    context,
                    operations,
                )
        except TimeoutError:
            # The work was cancelled; a write in it still commits or rolls back whole.
            raise operation_timed_out(timeout_ms) from None
        except InvalidOperationTypeError as error:
            raise _operation_not_allowed(error.operation_type) from None
        except CannotGetOperationTypeError as error:
            raise RequestError(
                400,
                OPERATION_RESOLUTION_FAILURE,
                clip_message(error.as_http_error_reason()),  # it quotes the name sent
                legacy_status=200,
            ) from None
        request_failed = _never_ran(result)
        if not request_failed and document.on_valid is not None:
            document.on_valid()
        server_failed = request_failed and any(
            (error.extensions or {}).get("code") == INTERNAL_SERVER_ERROR
            for error in result.errors or ()
        )
        return Outcome(_result_body(result, request_failed), request_failed, server_failed)

    def _cacheable(self, request: Request, outcome: Outcome, media: ResponseMedia) -> Response:
        content = orjson.dumps(outcome.body)
        digest = hashlib.blake2b(content, digest_size=16)
        digest.update(media.value.encode())
        etag = f'W/"{digest.hexdigest()}"'
        cache_control = "no-store" if "errors" in outcome.body else self._settings.cache_control
        headers = {**_VARY, "ETag": etag, "Cache-Control": cache_control}
        if _matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return Response(content, 200, headers=headers, media_type=media.content_type)


def _never_ran(result: ExecutionResult) -> bool:
    # Errors of a run that started always carry a field path; parse, validation and
    # variable coercion errors never do.
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _result_body(result: ExecutionResult, request_failed: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if not request_failed:
        body["data"] = result.data
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def operation_timed_out(timeout_ms: int) -> RequestError:
    return RequestError(
        504,
        OPERATION_TIMED_OUT,
        f"The operation ran longer than {timeout_ms} ms and was stopped.",
        legacy_status=200,
    )


def _operation_not_allowed(operation_type: OperationType) -> RequestError:
    if operation_type is OperationType.MUTATION:
        return RequestError(
            405,
            METHOD_NOT_ALLOWED,
            "Mutations must be sent with POST.",
            headers={"Allow": "POST"},
        )
    return RequestError(
        400,
        BAD_REQUEST,
        f"{operation_type.value.capitalize()} operations are not served over HTTP.",
    )


def _too_large(limit: int) -> RequestError:
    return RequestError(413, PAYLOAD_TOO_LARGE, f"The request body is larger than {limit} bytes.")


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    # Weak comparison (RFC 9110): the W/ prefix does not matter.
    opaque = etag.removeprefix("W/")
    return any(
        tag.strip() == "*" or tag.strip().removeprefix("W/") == opaque
        for tag in if_none_match.split(",")
    )


def _error_response(error: RequestError, media: ResponseMedia) -> Response:
    status = error.status if media is ResponseMedia.GRAPHQL_RESPONSE_JSON else error.legacy_status
    response = _json_response({"errors": [error.formatted()]}, status, media)
    response.headers.update(error.headers)
    return response


def _json_response(body: object, status: int, media: ResponseMedia) -> Response:
    return Response(
        orjson.dumps(body),
        status,
        headers={**_VARY, "Cache-Control": "no-store"},
        media_type=media.content_type,
    )
