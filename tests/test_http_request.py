"""GraphQL-over-HTTP request parameters (gql/http/request.py): GET URLs and POST bodies."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from starlette.datastructures import QueryParams

from gql.http.request import (
    BAD_REQUEST,
    BATCH_LIMIT_EXCEEDED,
    BATCHING_NOT_ENABLED,
    UNSUPPORTED_MEDIA_TYPE,
    GraphQLParams,
    RequestError,
    params_from_body,
    params_from_url,
)

JSON = "application/json"
QUERY = "query Q($id: Int!) { connection(id: $id) { id } }"


def post(
    payload: Any, content_type: str | None = JSON, max_batch_size: int = 10
) -> GraphQLParams | list[GraphQLParams]:
    """POSTs ``payload`` (bytes as they are, anything else as JSON)."""
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return params_from_body(body, content_type, max_batch_size=max_batch_size)


def single(payload: dict[str, Any]) -> GraphQLParams:
    params = post(payload)
    assert isinstance(params, GraphQLParams)
    return params


def batch(payload: list[Any], max_batch_size: int = 10) -> list[GraphQLParams]:
    params = post(payload, max_batch_size=max_batch_size)
    assert isinstance(params, list)
    return params


def request_error(payload: Any, **kwargs: Any) -> RequestError:
    with pytest.raises(RequestError) as caught:
        post(payload, **kwargs)
    return caught.value


# --- RequestError ------------------------------------------------------------------------


def test_request_error_fields_and_formatted_shape() -> None:
    error = RequestError(415, UNSUPPORTED_MEDIA_TYPE, "no such type")
    assert (error.status, error.legacy_status, error.code) == (415, 415, UNSUPPORTED_MEDIA_TYPE)
    assert error.message == "no such type"
    assert str(error) == "no such type"
    assert error.headers == {}
    assert error.formatted() == {
        "message": "no such type",
        "extensions": {"code": UNSUPPORTED_MEDIA_TYPE},
    }


def test_request_error_legacy_status_and_headers() -> None:
    headers = {"Allow": "GET, POST"}
    error = RequestError(405, "METHOD_NOT_ALLOWED", "nope", legacy_status=200, headers=headers)
    assert (error.status, error.legacy_status) == (405, 200)
    assert error.headers == headers
    headers["Allow"] = "changed"
    assert error.headers == {"Allow": "GET, POST"}  # a copy, not the caller's dict


# --- GET ---------------------------------------------------------------------------------


def test_get_reads_every_parameter() -> None:
    url = QueryParams(
        {
            "query": QUERY,
            "operationName": "Q",
            "variables": '{"id": 7, "tags": ["a"]}',
            "extensions": '{"persistedQuery": {"version": 1}}',
        }
    )
    assert params_from_url(url) == GraphQLParams(
        query=QUERY,
        variables={"id": 7, "tags": ["a"]},
        operation_name="Q",
        extensions={"persistedQuery": {"version": 1}},
    )


def test_get_without_parameters() -> None:
    assert params_from_url(QueryParams("")) == GraphQLParams(
        query=None, variables=None, operation_name=None, extensions={}
    )


def test_get_from_a_url_query_string() -> None:
    params = params_from_url(QueryParams("query=%7B+a+%7D&variables=%7B%22x%22%3A1%7D"))
    assert params.query == "{ a }"
    assert params.variables == {"x": 1}


def test_get_empty_strings() -> None:
    params = params_from_url(
        QueryParams("query=&operationName=&variables=&extensions="),
    )
    # Empty JSON parameters mean "absent"; empty text parameters stay empty strings.
    assert params == GraphQLParams(query="", variables=None, operation_name="", extensions={})


def test_get_json_null_parameters() -> None:
    params = params_from_url(QueryParams({"variables": "null", "extensions": "null"}))
    assert (params.variables, params.extensions) == (None, {})


@pytest.mark.parametrize("name", ["variables", "extensions"])
@pytest.mark.parametrize("raw", ["{", "{'id': 1}", "not json", '{"a": 1,}'])
def test_get_invalid_json_parameter(name: str, raw: str) -> None:
    with pytest.raises(RequestError) as caught:
        params_from_url(QueryParams({"query": QUERY, name: raw}))
    error = caught.value
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert repr(name) in error.message
    assert "not valid JSON" in error.message


@pytest.mark.parametrize("name", ["variables", "extensions"])
@pytest.mark.parametrize("raw", ["[1, 2]", "1", '"text"', "true"])
def test_get_json_parameter_that_is_not_a_map(name: str, raw: str) -> None:
    with pytest.raises(RequestError) as caught:
        params_from_url(QueryParams({"query": QUERY, name: raw}))
    assert (caught.value.status, caught.value.code) == (400, BAD_REQUEST)
    assert repr(name) in caught.value.message


# --- POST: content type ------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        JSON,
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        'application/json; charset="utf-8"',
        "application/json; charset=utf8",
        "Application/JSON",
        "application/json; boundary=x",  # parameters other than charset are ignored
    ],
)
def test_post_accepted_content_types(content_type: str) -> None:
    assert post({"query": QUERY}, content_type) == GraphQLParams(query=QUERY)


@pytest.mark.parametrize("content_type", [None, ""])
def test_post_without_content_type(content_type: str | None) -> None:
    error = request_error({"query": QUERY}, content_type=content_type)
    assert (error.status, error.legacy_status, error.code) == (415, 415, UNSUPPORTED_MEDIA_TYPE)


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/graphql-response+json",
        "application/jsonx",
    ],
)
def test_post_other_content_types(content_type: str) -> None:
    error = request_error({"query": QUERY}, content_type=content_type)
    assert (error.status, error.code) == (415, UNSUPPORTED_MEDIA_TYPE)
    assert repr(content_type.split(";")[0]) in error.message


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "application/json; charset=",
    ],
)
def test_post_charsets_other_than_utf8(content_type: str) -> None:
    error = request_error({"query": QUERY}, content_type=content_type)
    assert (error.status, error.code) == (415, UNSUPPORTED_MEDIA_TYPE)
    assert "UTF-8" in error.message


def test_content_type_is_checked_before_the_body() -> None:
    error = request_error(b"", content_type="text/plain")
    assert error.status == 415


# --- POST: body --------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b" ", b"\n\t \r\n"])
def test_post_empty_body(body: bytes) -> None:
    error = request_error(body)
    assert (error.status, error.code) == (400, BAD_REQUEST)
    assert "empty" in error.message


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"{'query': '{ a }'}",
        b'{"query": "{ a }",}',
        b"query { a }",
        b'{"query": "\xff"}',  # invalid UTF-8 inside a string
        b"\xff\xfe",
        b'{"query": "\\ud800"}',  # lone surrogate
    ],
)
def test_post_invalid_json(body: bytes) -> None:
    error = request_error(body)
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert "not valid JSON" in error.message


@pytest.mark.parametrize("body", [b"1", b'"{ a }"', b"null", b"true", b"1.5"])
def test_post_json_neither_object_nor_array(body: bytes) -> None:
    error = request_error(body)
    assert (error.status, error.code) == (400, BAD_REQUEST)
    assert "object or array" in error.message


def test_post_reads_every_parameter() -> None:
    assert single(
        {
            "query": QUERY,
            "operationName": "Q",
            "variables": {"id": 7},
            "extensions": {"tracing": True},
            "unknown": "ignored",
        }
    ) == GraphQLParams(
        query=QUERY, variables={"id": 7}, operation_name="Q", extensions={"tracing": True}
    )


def test_post_null_parameters_are_allowed() -> None:
    assert single(
        {"query": None, "operationName": None, "variables": None, "extensions": None}
    ) == GraphQLParams(query=None, variables=None, operation_name=None, extensions={})


def test_post_empty_object() -> None:
    assert single({}) == GraphQLParams(
        query=None, variables=None, operation_name=None, extensions={}
    )


def test_post_empty_maps_are_kept() -> None:
    params = single({"query": QUERY, "variables": {}, "extensions": {}})
    assert params.variables == {}
    assert params.extensions == {}


WRONG_VALUES: list[Any] = [{"a": 1}, 1, 1.5, True, False, ["x"], []]
WRONG_MAPS: list[Any] = ["{}", '{"a": 1}', 1, 1.5, True, False, [{"a": 1}], []]


@pytest.mark.parametrize(
    ("name", "value"),
    [(name, value) for name in ("query", "operationName") for value in WRONG_VALUES]
    + [(name, value) for name in ("variables", "extensions") for value in WRONG_MAPS],
)
def test_post_wrong_typed_parameter(name: str, value: Any) -> None:
    error = request_error({"query": QUERY} | {name: value})
    assert (error.status, error.legacy_status, error.code) == (400, 400, BAD_REQUEST)
    assert repr(name) in error.message
    for other in {"query", "operationName", "variables", "extensions"} - {name}:
        assert repr(other) not in error.message


# --- POST: batches -----------------------------------------------------------------------


def test_batch_of_objects() -> None:
    assert batch(
        [{"query": QUERY, "variables": {"id": 1}}, {"query": "{ b }", "operationName": None}],
        max_batch_size=2,
    ) == [
        GraphQLParams(query=QUERY, variables={"id": 1}),
        GraphQLParams(query="{ b }"),
    ]


def test_batch_of_one_is_still_a_list() -> None:
    assert post([{"query": "{ a }"}], max_batch_size=1) == [GraphQLParams(query="{ a }")]


def test_empty_batch() -> None:
    error = request_error([])
    assert (error.status, error.code) == (400, BAD_REQUEST)
    assert "at least one" in error.message


@pytest.mark.parametrize("item", [1, "{ a }", None, True, [{"query": "{ a }"}]])
def test_batch_item_that_is_not_an_object(item: Any) -> None:
    error = request_error([{"query": "{ a }"}, item])
    assert (error.status, error.code) == (400, BAD_REQUEST)
    assert "JSON object" in error.message


def test_batch_item_with_a_wrong_typed_parameter() -> None:
    error = request_error([{"query": "{ a }"}, {"query": "{ b }", "variables": [1]}])
    assert (error.status, error.code) == (400, BAD_REQUEST)
    assert "'variables'" in error.message


@pytest.mark.parametrize(("max_batch_size", "size"), [(1, 2), (3, 4), (10, 25)])
def test_batch_over_the_limit(max_batch_size: int, size: int) -> None:
    error = request_error([{"query": "{ a }"}] * size, max_batch_size=max_batch_size)
    assert (error.status, error.code) == (400, BATCH_LIMIT_EXCEEDED)
    assert str(max_batch_size) in error.message
    assert str(size) in error.message


@pytest.mark.parametrize("max_batch_size", [3, 4])
def test_batch_at_or_under_the_limit(max_batch_size: int) -> None:
    assert batch([{"query": "{ a }"}] * 3, max_batch_size) == [GraphQLParams(query="{ a }")] * 3


@pytest.mark.parametrize("payload", [[{"query": "{ a }"}], [], [1]])
def test_batching_turned_off(payload: list[Any]) -> None:
    error = request_error(payload, max_batch_size=0)
    assert (error.status, error.code) == (400, BATCHING_NOT_ENABLED)


def test_batching_turned_off_still_takes_single_requests() -> None:
    assert post({"query": "{ a }"}, max_batch_size=0) == GraphQLParams(query="{ a }")
