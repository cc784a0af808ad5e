"""GraphQL-over-HTTP requests: their parameters, read from a GET URL or a POST body.

Anything wrong at this level (no content type, broken JSON, a parameter of the wrong
type, a batch that is too large) is a `RequestError` with its own HTTP status: the
request never reaches GraphQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.datastructures import QueryParams

BAD_REQUEST = "BAD_REQUEST"
NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
BATCHING_NOT_ENABLED = "BATCHING_NOT_ENABLED"
BATCH_LIMIT_EXCEEDED = "BATCH_LIMIT_EXCEEDED"


class RequestError(Exception):
    """A request that cannot run, answered with a GraphQL error and ``status``.

    ``legacy_status`` is the status for `application/json` clients, which expect 200
    for anything GraphQL itself would report (the spec's rule for legacy clients).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        legacy_status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.legacy_status = status if legacy_status is None else legacy_status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def formatted(self) -> dict[str, Any]:
        return {"message": self.message, "extensions": {"code": self.code}}


@dataclass(frozen=True, slots=True)
class GraphQLParams:
    query: str | None = None
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)


def params_from_url(query_params: QueryParams) -> GraphQLParams:
    """GET: `variables` and `extensions` arrive as JSON text in the URL."""
    return _params(
        {
            "query": query_params.get("query"),
            "operationName": query_params.get("operationName"),
            "variables": _json_parameter(query_params, "variables"),
            "extensions": _json_parameter(query_params, "extensions"),
        }
    )


def params_from_body(
    body: bytes, content_type: str | None, *, max_batch_size: int
) -> GraphQLParams | list[GraphQLParams]:
    """POST: one JSON object, or a JSON array of them (a batch)."""
    _check_content_type(content_type)
    if not body.strip():
        raise RequestError(400, BAD_REQUEST, "The request body is empty.")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise RequestError(400, BAD_REQUEST, _not_json(body, error)) from None
    if isinstance(payload, dict):
        return _params(payload)
    if isinstance(payload, list):
        return _batch(payload, max_batch_size)
    raise RequestError(400, BAD_REQUEST, "The request body must be a JSON object or array.")


def _check_content_type(content_type: str | None) -> None:
    if not content_type:
        raise RequestError(
            415, UNSUPPORTED_MEDIA_TYPE, "POST requests need Content-Type: application/json."
        )
    media_type, *parameters = (piece.strip().lower() for piece in content_type.split(";"))
    if media_type != "application/json":
        raise RequestError(
            415,
            UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type {media_type!r} is not supported; send application/json.",
        )
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
            raise RequestError(415, UNSUPPORTED_MEDIA_TYPE, "Only UTF-8 request bodies are read.")


def _batch(payload: list[Any], max_batch_size: int) -> list[GraphQLParams]:
    if max_batch_size == 0:
        raise RequestError(400, BATCHING_NOT_ENABLED, "Batched requests are turned off.")
    if not payload:
        raise RequestError(400, BAD_REQUEST, "A batch must hold at least one operation.")
    if len(payload) > max_batch_size:
        raise RequestError(
            400,
            BATCH_LIMIT_EXCEEDED,
            f"A batch may hold at most {max_batch_size} operations, got {len(payload)}.",
        )
    if not all(isinstance(item, dict) for item in payload):
        raise RequestError(400, BAD_REQUEST, "Every operation in a batch must be a JSON object.")
    return [_params(item) for item in payload]


def _json_parameter(query_params: QueryParams, name: str) -> Any:
    raw = query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise RequestError(
            400, BAD_REQUEST, f"The {name!r} parameter is not valid JSON: {_reason(error)}."
        ) from None


def _not_json(body: bytes, error: orjson.JSONDecodeError) -> str:
    try:
        body.decode()
    except UnicodeDecodeError as bad:
        return f"The request body is not valid JSON: invalid UTF-8 at byte {bad.start}."
    return f"The request body is not valid JSON: {_reason(error)}."


def _reason(error: orjson.JSONDecodeError) -> str:
    """What the JSON parser objected to and where, e.g. "unexpected end of data: line 1
    column 7 (char 6)"; nesting deeper than 1,024 levels is "depth limit exceeded"."""
    return str(error).rstrip(".")


def _params(payload: Mapping[str, Any]) -> GraphQLParams:
    query = payload.get("query")
    operation_name = payload.get("operationName")
    variables = payload.get("variables")
    extensions = payload.get("extensions")
    if query is not None and not isinstance(query, str):
        raise _wrong_type("query", "a string")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _wrong_type("operationName", "a string")
    if variables is not None and not isinstance(variables, dict):
        raise _wrong_type("variables", "a map")
    if extensions is not None and not isinstance(extensions, dict):
        raise _wrong_type("extensions", "a map")
    return GraphQLParams(
        query=query,
        variables=variables,
        operation_name=operation_name,
        extensions=extensions or {},
    )


def _wrong_type(name: str, expected: str) -> RequestError:
    return RequestError(400, BAD_REQUEST, f"The {name!r} parameter must be {expected} or null.")
