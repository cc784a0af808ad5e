"""The steps every HTTP transport takes with a GraphQL request, in one place.

The JSON endpoint (gql/http/endpoint.py) and the Server-Sent Events endpoint
(gql/http/event_stream.py) both read the request's parameters here (URL and body limits,
content type, batch rules), pick its document here (APQ or trusted documents) and run
queries and mutations here (the execution timeout, the fast lane), so a limit holds for
every transport or for none.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson
from graphql import DocumentNode, GraphQLError, get_operation_ast
from graphql import OperationType as DocumentOperationType  # the syntax tree's own enum
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gql.graphql.context import Context
from gql.graphql.errors import INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE, clip_message
from gql.graphql.fastpath import lane
from gql.graphql.limits.extension import parsed
from gql.graphql.schema import TRACE_HEADER, Schema
from gql.http.media import ResponseMedia
from gql.http.persisted import Document, DocumentSource
from gql.http.request import (
    BAD_REQUEST,
    METHOD_NOT_ALLOWED,
    PAYLOAD_TOO_LARGE,
    GraphQLParams,
    RequestError,
    params_from_body,
    params_from_url,
)
from gql.observability.record import Outcome as RequestOutcome
from gql.observability.record import current_record, note_error
from gql.settings import Settings

logger = logging.getLogger("gql.http")

OPERATION_RESOLUTION_FAILURE: Final = "OPERATION_RESOLUTION_FAILURE"
OPERATION_TIMED_OUT: Final = "OPERATION_TIMED_OUT"
URI_TOO_LONG: Final = "URI_TOO_LONG"
GET_OPERATIONS: Final = frozenset({OperationType.QUERY})
POST_OPERATIONS: Final = frozenset({OperationType.QUERY, OperationType.MUTATION})
# The body depends on Accept, so shared caches must key on it.
VARY: Final = {"Vary": "Accept"}


@dataclass(frozen=True, slots=True)
class Schemas:
    plain: Schema
    traced: Schema
    """Used when a gateway asks for a federation trace (it costs on every resolver)."""

    def for_request(self, request: Request) -> Schema:
        return self.traced if request.headers.get(TRACE_HEADER) == "ftv1" else self.plain


@dataclass(frozen=True, slots=True)
class Incoming:
    """A request's operation (or batch of them) and the operation types its method runs."""

    params: GraphQLParams | list[GraphQLParams]
    operations: frozenset[OperationType]


@dataclass(frozen=True, slots=True)
class Outcome:
    body: dict[str, Any]
    request_failed: bool
    """True when the operation never ran: the spec's "request error", which has no data."""
    server_failed: bool = False
    """True when it never ran because of a bug of ours (a masked error outside any field):
    a 500, not the client's 400."""
    unavailable: bool = False
    """True when the database could not be reached and nothing was answered: a 503
    (its body has no data, as the spec asks of a status that is not 2xx)."""

    @classmethod
    def of(cls, result: ExecutionResult) -> Outcome:
        request_failed = _never_ran(result)
        codes = {(error.extensions or {}).get("code") for error in result.errors or ()}
        server_failed = request_failed and INTERNAL_SERVER_ERROR in codes
        unavailable = SERVICE_UNAVAILABLE in codes and _nothing_answered(result)
        body = _result_body(result, request_failed or unavailable)
        return cls(body, request_failed, server_failed, unavailable)


class RequestPipeline:
    def __init__(self, settings: Settings, schemas: Schemas, documents: DocumentSource) -> None:
        self.settings = settings
        self.schemas = schemas
        self._documents = documents

    async def read(self, request: Request) -> Incoming:
        """The request's parameters, within the URL and body limits (RequestError if not)."""
        if request.method == "GET":
            limit = self.settings.max_url_bytes
            if len(request.scope["query_string"]) > limit:
                raise RequestError(
                    414, URI_TOO_LONG, f"The query string is longer than {limit} bytes; use POST."
                )
            return Incoming(params_from_url(request.query_params), GET_OPERATIONS)
        if request.method == "POST":
            body = await self._body(request)
            params = params_from_body(
                body,
                request.headers.get("content-type"),
                max_batch_size=self.settings.max_batch_size,
            )
            return Incoming(params, POST_OPERATIONS)
        raise RequestError(
            405,
            METHOD_NOT_ALLOWED,
            f"{request.method} is not supported; use GET or POST.",
            headers={"Allow": "GET, POST"},
        )

    async def _body(self, request: Request) -> bytes:
        # A declared length over the limit is refused unread; an undeclared (chunked) body
        # is counted as it arrives and cut at the limit.
        limit = self.settings.max_body_bytes
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

    async def document(self, params: GraphQLParams) -> Document:
        """The text to run: APQ or trusted documents decide (RequestError when refused)."""
        return await self._documents.document(params)

    async def execute(
        self,
        params: GraphQLParams,
        operations: frozenset[OperationType],
        schema: Schema,
        context: Context,
        document: Document | None = None,
    ) -> Outcome:
        """Runs a query or mutation within the execution timeout. ``document`` is the one
        already picked for ``params``, if the caller has picked it."""
        if document is None:
            document = await self._documents.document(params)
        note_operation(document, params.operation_name, self.settings)
        timeout_ms = self.settings.execution_timeout_ms
        try:
            async with asyncio.timeout(timeout_ms / 1000):
                result = await lane.execute(
                    schema,
                    document.query,
                    params.variables,
                    params.operation_name,
                    context,
                    operations,
                )
        except TimeoutError:
            # The work was cancelled; a write in it still commits or rolls back whole.
            raise timed_out(timeout_ms) from None
        except InvalidOperationTypeError as error:
            raise _operation_not_allowed(error.operation_type) from None
        except CannotGetOperationTypeError as error:
            raise RequestError(
                400,
                OPERATION_RESOLUTION_FAILURE,
                clip_message(error.as_http_error_reason()),  # it quotes the name sent
                legacy_status=200,
            ) from None
        outcome = Outcome.of(result)
        note_outcome(outcome)
        if not outcome.request_failed and document.on_valid is not None:
            await document.on_valid()
        return outcome


def note_operation(document: Document, operation_name: str | None, settings: Settings) -> None:
    """Names the request's operation in its record (from the document cache's parse)."""
    record = current_record()
    if record is None:
        return
    record.persisted = record.persisted or document.persisted
    parsed_document = parsed(document.query, settings)
    operation = (
        None
        if isinstance(parsed_document, GraphQLError)
        else get_operation_ast(parsed_document, operation_name)
    )
    if operation is None:  # the caller's name, for what did not parse or names none
        record.note_operation(operation_name, None)
        return
    name = operation.name.value if operation.name else None
    record.note_operation(name, operation.operation.value)


def note_outcome(outcome: Outcome) -> None:
    record = current_record()
    if record is None:
        return
    errors = outcome.body.get("errors") or ()
    record.note_errors(_code(error) for error in errors)
    if outcome.server_failed or outcome.unavailable:
        record.note_outcome(RequestOutcome.FAILED)
    elif outcome.request_failed:
        record.note_outcome(RequestOutcome.REJECTED)
    else:
        record.note_outcome(RequestOutcome.ERRORS if errors else RequestOutcome.OK)


def note_refusal(error: RequestError) -> None:
    outcome = RequestOutcome.FAILED if error.status >= 500 else RequestOutcome.REJECTED
    note_error(error.code, outcome)


RESPONSE_ERRORS_NOTED: Final = 100
"""Error codes a stream's record keeps: a subscription may run for days."""
_SERVER_FAULTS: Final = frozenset({INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE, OPERATION_TIMED_OUT})


def note_response(body: dict[str, Any], *, ran: bool = True) -> None:
    """Notes one response of a stream (a subscription's event, or an answer sent over a
    WebSocket) as `note_outcome` notes an HTTP request's: its error codes, and its outcome,
    `ran` False for one that never ran (a WebSocket's `error` message)."""
    record = current_record()
    if record is None:
        return
    errors = body.get("errors") or ()
    codes = [_code(error) for error in errors]
    record.note_errors(codes[: max(RESPONSE_ERRORS_NOTED - len(record.error_codes), 0)])
    if body.get("data") is None and _SERVER_FAULTS.intersection(codes):
        record.note_outcome(RequestOutcome.FAILED)
    elif not ran:
        record.note_outcome(RequestOutcome.REJECTED)
    else:
        record.note_outcome(RequestOutcome.ERRORS if errors else RequestOutcome.OK)


def _code(error: dict[str, Any]) -> str:
    code = (error.get("extensions") or {}).get("code")
    return code if isinstance(code, str) else "UNCODED"


def subscription_document(
    query: str, operation_name: str | None, settings: Settings
) -> DocumentNode | None:
    """The parsed document (from the document cache) when the operation it names is a
    subscription; None for anything else, including a document that is refused, which
    the caller then runs to have it answered with its error."""
    document = parsed(query, settings)
    if isinstance(document, GraphQLError):
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not DocumentOperationType.SUBSCRIPTION:
        return None
    return document


UNAVAILABLE_HEADERS: Final = {"Retry-After": "1"}
"""Sent with a 503: the pool reconnects by itself, so trying again soon is reasonable."""


def timed_out(timeout_ms: int) -> RequestError:
    return RequestError(
        504,
        OPERATION_TIMED_OUT,
        f"The operation ran longer than {timeout_ms} ms and was stopped.",
        legacy_status=200,
    )


async def answer(
    scope: Scope,
    receive: Receive,
    send: Send,
    respond: Callable[[Request], Awaitable[Response]],
) -> None:
    """Sends an endpoint's response to the request. A client gone before its body arrived
    (or past the body deadline) gets nothing: there is no one to answer, and it is no
    error of ours. Anything else unexpected is a logged 500."""
    request = Request(scope, receive)
    try:
        response = await respond(request)
    except ClientDisconnect:
        return
    except Exception:
        response = _internal_error(request)
    await response(scope, receive, send)


def _internal_error(request: Request) -> Response:
    """The answer to an exception of ours: logged under an id the client is given."""
    error_id = uuid.uuid4().hex
    logger.exception("unexpected error %s answering %s", error_id, request.url.path)
    note_error(INTERNAL_SERVER_ERROR, RequestOutcome.FAILED, error_id=error_id)
    return json_response(
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


def error_response(error: RequestError, media: ResponseMedia) -> Response:
    note_refusal(error)
    status = error.status if media is ResponseMedia.GRAPHQL_RESPONSE_JSON else error.legacy_status
    response = json_response({"errors": [error.formatted()]}, status, media)
    response.headers.update(error.headers)
    return response


def json_response(body: object, status: int, media: ResponseMedia) -> Response:
    return Response(
        orjson.dumps(body),
        status,
        headers={**VARY, "Cache-Control": "no-store"},
        media_type=media.content_type,
    )


def _never_ran(result: ExecutionResult) -> bool:
    # Errors of a run that started always carry a field path; parse, validation and
    # variable coercion errors never do.
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or ())
    )


def _nothing_answered(result: ExecutionResult) -> bool:
    """No root field has a value: a response of nulls only, however it came to be."""
    return result.data is None or all(value is None for value in result.data.values())


def _result_body(result: ExecutionResult, without_data: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if not without_data:
        body["data"] = result.data
    if result.extensions:
        body["extensions"] = result.extensions
    return body


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
        f"{operation_type.value.capitalize()} operations are served over WebSocket, or as "
        "Server-Sent Events (Accept: text/event-stream).",
    )


def _too_large(limit: int) -> RequestError:
    return RequestError(413, PAYLOAD_TOO_LARGE, f"The request body is larger than {limit} bytes.")
