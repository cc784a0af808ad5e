"""Hostile requests, case by case, in process: malformed bodies, wrong content types,
huge and deeply nested variables, deeply nested documents, garbage cursors. Each gets a
4xx or a GraphQL error with a code that says what was wrong (and, for arguments, which
one), never a 5xx or an INTERNAL_SERVER_ERROR, and never a message that echoes a huge
input back whole. On each backend. tests/test_fuzz.py covers the same ground with
generated input."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.graphql.errors import MAX_MESSAGE_CHARS
from gql.graphql.limits.extension import RequestLimits
from gql.graphql.schema import fast_executor
from gql.settings import Settings
from tests.answers import GRAPHQL_RESPONSE, JSON, ErrorRecords, check_answer, codes_in
from tests.conftest import run_cli
from tests.databases import throwaway_database

SITE = 1_000_000_001
MAX_BODY = Settings().max_body_bytes
# No answer needs more than this: nothing may echo a huge input back whole.
SMALL_ANSWER = 4 * MAX_MESSAGE_CHARS


@dataclass
class Server:
    client: TestClient
    key: str
    logged: ErrorRecords

    def post(
        self,
        body: bytes | str | Any,
        *,
        accept: str | None = GRAPHQL_RESPONSE,
        content_type: str | None = JSON,
        **headers: str,
    ) -> Any:
        if isinstance(body, dict | list):
            body = json.dumps(body)
        if accept is not None:
            headers["accept"] = accept
        if content_type is not None:
            headers["content-type"] = content_type
        return self.client.post("/graphql", content=body, headers=headers)

    def answer(self, response: Any, context: object = "") -> Any:
        """The checked answer; nothing may have been logged at ERROR meanwhile."""
        logged = self.logged.take()
        body = check_answer(response, context)
        assert logged == [], (logged, context)
        return body


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with throwaway_database(backend, tmp_path_factory.mktemp("hostile")) as db:
        run_cli("seed", "--database-url", db, "--demo", "500", "--seed", "3")
        [key] = run_cli("keys", "create", "--database-url", db, "--name", "hostile").split()
        app = create_app(Settings(database_url=db))
        with ErrorRecords() as logged, TestClient(app) as client:
            yield Server(client, key, logged)


def _refused(server: Server, response: Any, status: int, code: str) -> dict[str, Any]:
    body: dict[str, Any] = server.answer(response)
    assert response.status_code == status, (response.status_code, body)
    assert codes_in(body) == [code], body
    assert "data" not in body
    assert len(response.content) < SMALL_ANSWER
    return body


def _message(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["message"])


def _nested(depth: int, open_: str, close: str, inner: str = "1") -> str:
    return open_ * depth + inner + close * depth


# -- malformed bodies -------------------------------------------------------------------

LEVELS = '{"query": "{ levels { id } }"}'


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (LEVELS[:-1].encode(), "unexpected end of data"),  # truncated
        (LEVELS[:12].encode(), "unexpected end of data"),
        (b'{"query": "{ levels { id } }", ', "unexpected end of data"),
        (b'\xff\xfe{"query": "{ levels { id } }"}', "invalid UTF-8 at byte 0"),
        (b'{"query": "{ levels { id } }\xc3"}', "invalid UTF-8 at byte 28"),
        (LEVELS.encode("utf-16"), "invalid UTF-8 at byte 0"),
        (b"\xef\xbb\xbf" + LEVELS.encode(), "byte order mark"),
        (LEVELS.encode() + b"\x00", "unexpected content after document"),
        (b'{"query": "{ levels { id } }\x00"}', "control character"),
        (b"\x00" * 1000, "unexpected character"),
        (b'{"query": "\\ud800"}', "surrogate"),
        (b'{"query": "{ levels { id } }", "variables": {"x": 1e400}}', "infinity"),
        (b'{"query": NaN}', "unexpected character"),
        (b'{"query": "{ levels { id } }"} {"query": "{ levels { id } }"}', "after document"),
        (_nested(100_000, "[", "]").encode(), "depth limit exceeded"),
        (
            (
                '{"query": "{ levels { id } }", "extensions": ' + _nested(5000, "[", "]") + "}"
            ).encode(),
            "depth limit exceeded",
        ),
    ],
    ids=lambda value: repr(value)[:40] if isinstance(value, bytes) else None,
)
def test_malformed_bodies_are_400_saying_why(server: Server, body: bytes, says: str) -> None:
    for accept in (GRAPHQL_RESPONSE, JSON):
        answered = _refused(server, server.post(body, accept=accept), 400, "BAD_REQUEST")
        assert _message(answered).startswith("The request body is not valid JSON: ")
        assert says in _message(answered), _message(answered)


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        (b"", "BAD_REQUEST", "empty"),
        (b" \n\t ", "BAD_REQUEST", "empty"),
        (b"[]", "BAD_REQUEST", "at least one"),
        (b'[1, "x", null, {}]', "BAD_REQUEST", "must be a JSON object"),
        (b"[[], [], []]", "BAD_REQUEST", "must be a JSON object"),
        (json.dumps(list(range(100_000))).encode(), "BATCH_LIMIT_EXCEEDED", "100000"),
        (json.dumps([{}] * 11).encode(), "BATCH_LIMIT_EXCEEDED", "at most 10"),
        (b'"{ levels { id } }"', "BAD_REQUEST", "object or array"),
        (b"null", "BAD_REQUEST", "object or array"),
        (b"{}", "BAD_REQUEST", "query"),
        (b'{"query": null}', "BAD_REQUEST", "query"),
        (b'{"query": ["{ levels { id } }"]}', "BAD_REQUEST", "'query'"),
        (b'{"query": "{ levels { id } }", "variables": [1, 2]}', "BAD_REQUEST", "'variables'"),
        (b'{"query": "{ levels { id } }", "variables": "{}"}', "BAD_REQUEST", "'variables'"),
        (b'{"query": "{ levels { id } }", "operationName": 7}', "BAD_REQUEST", "'operationName'"),
        (b'{"query": "{ levels { id } }", "extensions": true}', "BAD_REQUEST", "'extensions'"),
    ],
)
def test_wrong_json_is_400_saying_why(server: Server, body: bytes, code: str, says: str) -> None:
    answered = _refused(server, server.post(body), 400, code)
    assert says in _message(answered), _message(answered)


def test_junk_inside_a_batch(server: Server) -> None:
    """A batch item of the wrong shape refuses the whole batch (it is read before any item
    runs); an item that is only a bad GraphQL request gets its own error in its place."""
    wrong = [{"query": "{ levels { id } }"}, {"query": 5}]
    answered = _refused(server, server.post(wrong), 400, "BAD_REQUEST")
    assert "'query'" in _message(answered)
    batch = [{"query": "{ levels { id } }"}, {"query": "{"}, {}, {"query": "{ nope }"}]
    response = server.post(batch)
    answers = server.answer(response)
    assert response.status_code == 200
    assert answers[0]["data"]["levels"]
    assert [codes_in(answer) for answer in answers[1:]] == [
        ["GRAPHQL_PARSE_FAILED"],
        ["BAD_REQUEST"],
        ["GRAPHQL_VALIDATION_FAILED"],
    ]


def test_a_body_over_the_limit_is_413_declared_or_streamed(server: Server) -> None:
    whitespace = b" " * (MAX_BODY + 1)
    _refused(server, server.post(whitespace), 413, "PAYLOAD_TOO_LARGE")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the stream is counted
        for _ in range(MAX_BODY // 65536 + 2):
            yield b" " * 65536

    _refused(server, server.post(chunks()), 413, "PAYLOAD_TOO_LARGE")
    # A JSON body padded to exactly the limit is still read and run.
    padded = LEVELS.encode().ljust(MAX_BODY, b" ")
    response = server.post(padded)
    assert response.status_code == 200
    assert server.answer(response)["data"]["levels"]


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "application/graphql",
        "application/graphql-response+json",
        "application/jsonx",
        "application/json-patch+json",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/json; charset=utf-16",
        "application/json; charset=latin-1",
        ";;;",
        "\x7f",
    ],
)
def test_wrong_content_types_are_415(server: Server, content_type: str | None) -> None:
    response = server.post(LEVELS, content_type=content_type)
    _refused(server, response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; Charset=UTF-8", 'application/json;charset="utf8"'],
)
def test_json_content_types_in_any_spelling_are_read(server: Server, content_type: str) -> None:
    response = server.post(LEVELS, content_type=content_type)
    assert response.status_code == 200
    assert server.answer(response)["data"]["levels"]


def test_an_accept_without_a_json_type_is_406(server: Server) -> None:
    _refused(server, server.post(LEVELS, accept="image/png"), 406, "NOT_ACCEPTABLE")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods_are_405(server: Server, method: str) -> None:
    response = server.client.request(
        method, "/graphql", content=LEVELS, headers={"content-type": JSON}
    )
    _refused(server, response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, POST"


# -- huge variables ---------------------------------------------------------------------

IDS = """query($ids: [Int!]) {
  connectionInfos(first: 50, filter: {ids: $ids}) { totalCount nodes { id } } }"""


@pytest.mark.parametrize("field", ["ids", "chargePointIds", "statusTypeIds"])
def test_a_hundred_thousand_ids_are_answered(server: Server, field: str) -> None:
    ids = [*range(100_000), SITE, SITE + 1]
    query = IDS.replace("{ids: $ids}", f"{{{field}: $ids}}")
    response = server.post({"query": query, "variables": {"ids": ids}})
    assert response.status_code == 200
    data = server.answer(response)["data"]["connectionInfos"]
    assert data["totalCount"] >= 1


def test_ids_beyond_the_body_limit_are_413(server: Server) -> None:
    ids = list(range(SITE, SITE + 100_000))  # 12 bytes each: over 1 MiB
    response = server.post({"query": IDS, "variables": {"ids": ids}})
    _refused(server, response, 413, "PAYLOAD_TOO_LARGE")


BIG = "x" * 900_000


@pytest.mark.parametrize(
    ("body", "code", "argument"),
    [
        (
            {
                "query": "query($c: String) { connectionInfos(after: $c) { totalCount } }",
                "variables": {"c": BIG},
            },
            "BAD_USER_INPUT",
            "after",
        ),
        (
            {
                "query": "query($c: String) { connectionInfoHistory(id: 1, after: $c) "
                "{ nodes { action } } }",
                "variables": {"c": BIG},
            },
            "BAD_USER_INPUT",
            "after",
        ),
        (
            {
                "query": "query($o: ConnectionInfoOrder) "
                "{ connectionInfos(orderBy: $o) { totalCount } }",
                "variables": {"o": BIG},
            },
            "BAD_USER_INPUT",
            None,
        ),
        (
            {"query": "{ levels { id } }", "operationName": BIG},
            "OPERATION_RESOLUTION_FAILURE",
            None,
        ),
        # Documents this long are refused before they are parsed.
        ({"query": '{ "' + BIG + '" }'}, "QUERY_TOO_LARGE", None),
        ({"query": "{ " + BIG + " }"}, "QUERY_TOO_LARGE", None),
        (
            {"query": "{ connectionInfos(orderBy: " + BIG + ") { totalCount } }"},
            "QUERY_TOO_LARGE",
            None,
        ),
        (
            {
                "query": '{ _entities(representations: [{__typename: "'
                + BIG
                + '", id: 1}]) { __typename } }'
            },
            "QUERY_TOO_LARGE",
            None,
        ),
    ],
    ids=[
        "after",
        "history-after",
        "enum",
        "operation-name",
        "string-token",
        "field-name",
        "enum-literal",
        "entity",
    ],
)
def test_900_kb_strings_get_short_clear_errors(
    server: Server, body: dict[str, Any], code: str, argument: str | None
) -> None:
    response = server.post(body)
    answered = server.answer(response)
    assert codes_in(answered) == [code], answered
    (error,) = answered["errors"]
    assert error["extensions"].get("argument") == argument
    assert len(response.content) < SMALL_ANSWER
    assert len(error["message"]) <= MAX_MESSAGE_CHARS + 40


def test_a_900_kb_comment_is_refused_and_nothing_is_written(server: Server) -> None:
    mutation = f"""mutation($input: UpdateConnectionInfoInput!) {{
      updateConnectionInfo(id: {SITE}, input: $input) {{
        connectionInfo {{ comments }} userErrors {{ field code }} }} }}"""
    response = server.post(
        {"query": mutation, "variables": {"input": {"comments": BIG}}}, **{"x-api-key": server.key}
    )
    payload = server.answer(response)["data"]["updateConnectionInfo"]
    assert payload == {
        "connectionInfo": None,
        "userErrors": [{"field": ["input", "comments"], "code": "TOO_LONG"}],
    }
    assert len(response.content) < SMALL_ANSWER


@pytest.mark.parametrize("field", ["comments", "reference"])
def test_a_nul_character_is_a_user_error_and_nothing_is_written(server: Server, field: str) -> None:
    """PostgreSQL's text cannot store NUL: refused as input on each backend alike, not an
    INTERNAL_SERVER_ERROR from the database."""
    mutation = f"""mutation($input: UpdateConnectionInfoInput!) {{
      updateConnectionInfo(id: {SITE}, input: $input) {{
        connectionInfo {{ {field} }} userErrors {{ field code }} }} }}"""
    response = server.post(
        {"query": mutation, "variables": {"input": {field: "a\u0000b"}}},
        **{"x-api-key": server.key},
    )
    payload = server.answer(response)["data"]["updateConnectionInfo"]
    assert payload == {
        "connectionInfo": None,
        "userErrors": [{"field": ["input", field], "code": "INVALID_CHARACTER"}],
    }
    read = server.post({"query": f"{{ connectionInfo(id: {SITE}) {{ {field} }} }}"})
    assert "\u0000" not in read.text


def test_fifty_thousand_undeclared_variables_are_ignored(server: Server) -> None:
    variables = {f"v{i}": i for i in range(50_000)}
    response = server.post({"query": "{ levels { id } }", "variables": variables})
    assert response.status_code == 200
    assert server.answer(response)["data"]["levels"]


@pytest.mark.parametrize("value", [2**31, -(2**31) - 1, 10**30, 1.5, "10", True, [1]])
def test_out_of_range_and_mistyped_ints_name_the_variable(server: Server, value: Any) -> None:
    query = "query($first: Int) { connectionInfos(first: $first) { totalCount } }"
    answered = _refused(
        server, server.post({"query": query, "variables": {"first": value}}), 400, "BAD_USER_INPUT"
    )
    assert "$first" in _message(answered)


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "1e308"])
def test_infinite_float_literals_are_answered(server: Server, literal: str) -> None:
    """graphql-core reads 1e400 as infinity: as a filter bound it is a bound, as a value
    to write it is out of range."""
    read = "{ connectionInfos(filter: {minPowerKw: LITERAL}) { totalCount } }"
    read = read.replace("LITERAL", literal)
    response = server.post({"query": read})
    assert response.status_code == 200
    assert isinstance(server.answer(response)["data"]["connectionInfos"]["totalCount"], int)
    write = f"""mutation {{
      createConnectionInfo(
          input: {{chargePointId: {SITE}, powerKw: {literal}, voltage: {literal}}}) {{
        connectionInfo {{ id }} userErrors {{ field code }} }} }}"""
    response = server.post({"query": write}, **{"x-api-key": server.key})
    payload = server.answer(response)["data"]["createConnectionInfo"]
    assert payload["connectionInfo"] is None
    assert {tuple(e["field"]) for e in payload["userErrors"]} == {
        ("input", "powerKw"),
        ("input", "voltage"),
    }


# -- deeply nested variables ------------------------------------------------------------

FILTERED = """query($filter: ConnectionInfoFilter, $ids: [Int!], $first: Int) {
  connectionInfos(first: $first, filter: $filter) { totalCount }
  more: connectionInfos(filter: {ids: $ids}) { totalCount } }"""


@pytest.mark.parametrize("depth", [10, 1000, 100_000])
@pytest.mark.parametrize(
    ("variable", "prefix", "open_", "close", "suffix"),
    [
        ("filter", "", '{"ids": ', "}", ""),
        ("filter", '{"minPowerKw": ', "[", "]", "}"),
        ("ids", "", "[", "]", ""),
        ("first", "", '{"a": ', "}", ""),
    ],
    ids=["filter-objects", "filter-field-lists", "ids-lists", "int-objects"],
)
def test_deeply_nested_variables(
    server: Server, depth: int, variable: str, prefix: str, open_: str, close: str, suffix: str
) -> None:
    value = prefix + _nested(depth, open_, close) + suffix
    body = f'{{"query": {json.dumps(FILTERED)}, "variables": {{"{variable}": {value}}}}}'
    response = server.post(body)
    if depth > 1000:  # deeper than JSON is read (1,024 levels)
        answered = _refused(server, response, 400, "BAD_REQUEST")
        assert "depth limit exceeded" in _message(answered)
    else:
        answered = _refused(server, response, 400, "BAD_USER_INPUT")
        assert f"${variable}" in _message(answered) or "nested too deeply" in _message(answered)


def test_deeply_nested_extensions_and_unused_variables_are_harmless(server: Server) -> None:
    junk, extension = _nested(1000, "[", "]"), _nested(1000, '{"a": ', "}")
    body = f'{{"query": "{{ levels {{ id }} }}", "variables": {{"junk": {junk}}}, '
    body += f'"extensions": {{"x": {extension}}}}}'
    response = server.post(body)
    assert response.status_code == 200
    assert server.answer(response)["data"]["levels"]


# -- deeply nested documents ------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "open_", "close"),
    [
        ("{ connectionInfos(filter: {ids: %s}) { totalCount } }", "[", "]"),
        ("{ connectionInfos(filter: %s) { totalCount } }", "{ids: ", "}"),
        (
            "query($f: ConnectionInfoFilter = %s) { connectionInfos(filter: $f) { totalCount } }",
            "{ids: ",
            "}",
        ),
        ("{ levels @include(if: %s) { id } }", "[", "]"),
        ("{ _entities(representations: [%s]) { __typename } }", "{a: ", "}"),
        ("{ _entities(representations: %s) { __typename } }", "[", "]"),
    ],
)
@pytest.mark.parametrize("depth", [3, 150, 250, 2000])
def test_deeply_nested_literals(
    server: Server, template: str, open_: str, close: str, depth: int
) -> None:
    """graphql-core parses at most 200 levels; below that the validator and our limits
    walk the literal without running out of stack."""
    query = template % _nested(depth, open_, close)
    response = server.post({"query": query})
    answered = server.answer(response, query[:200])
    codes = codes_in(answered)
    if depth > 200:
        assert codes == ["GRAPHQL_PARSE_FAILED"], answered
        assert "nested too deeply" in _message(answered)
        assert response.status_code == 400
    elif "_entities" in template:
        # An _Any can be any value: it runs, and each malformed representation is
        # refused in its place.
        assert codes == ["BAD_USER_INPUT"], answered
        assert answered["errors"][0]["extensions"]["argument"] == "representations"
    else:
        assert codes, answered
        assert set(codes) == {"GRAPHQL_VALIDATION_FAILED"}, answered
        assert response.status_code == 400


@pytest.mark.parametrize("depth", [16, 100, 199, 250, 3000])
def test_deeply_nested_selections(server: Server, depth: int) -> None:
    query = "{ " + "connectionInfos { nodes { " * (depth // 2) + "id" + " } }" * (depth // 2) + " }"
    response = server.post({"query": query})
    codes = set(codes_in(server.answer(response)))
    assert response.status_code == 400
    if depth > 200:
        # Too deep for the parser, or (deeper still) too long to be parsed at all.
        assert codes in ({"GRAPHQL_PARSE_FAILED"}, {"QUERY_TOO_LARGE"}), codes
    else:
        assert "QUERY_TOO_DEEP" in codes, codes
        assert codes <= {"QUERY_TOO_DEEP", "GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize("count", [150, 400, 650])
def test_long_fragment_chains(server: Server, count: int) -> None:
    """Each fragment one level deeper: the depth through fragments is what counts."""
    fragments = " ".join(
        f"fragment F{i} on ConnectionInfoConnection {{ nodes {{ __typename }} ...F{i + 1} }}"
        for i in range(count)
    )
    query = (
        "{ connectionInfos(first: 1) { ...F0 } } "
        + fragments
        + f" fragment F{count} on ConnectionInfoConnection {{ totalCount }}"
    )
    response = server.post({"query": query})
    answered = server.answer(response)
    if "data" in answered:
        assert answered["data"]["connectionInfos"]["totalCount"] >= 1
    elif codes_in(answered) != ["QUERY_TOO_LARGE"]:
        assert codes_in(answered) == ["GRAPHQL_VALIDATION_FAILED"], answered
        assert "Validation aborted: " in _message(answered)


def test_fragment_chains_deeper_than_the_parser_allows(server: Server) -> None:
    fragments = " ".join(f"fragment F{i} on Query {{ a {{ ...F{i + 1} }} }}" for i in range(400))
    query = "{ ...F0 } " + fragments + " fragment F400 on Query { levels { id } }"
    response = server.post({"query": query})
    answered = server.answer(response)
    assert response.status_code == 400
    assert codes_in(answered) in (["GRAPHQL_VALIDATION_FAILED"], ["TOO_MANY_TOKENS"]), answered
    if codes_in(answered) == ["GRAPHQL_VALIDATION_FAILED"]:
        assert "too deeply nested" in _message(answered)


def test_fragment_cycles_are_validation_errors(server: Server) -> None:
    query = "{ ...A } fragment A on Query { levels { id } ...B } fragment B on Query { ...A }"
    response = server.post({"query": query})
    assert response.status_code == 400
    assert set(codes_in(server.answer(response))) == {"GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize(
    "query",
    [
        "{ levels { " + "id " * 9000 + "} }",
        "{ " + "levels { id } " * 2400 + "}",
        "{ connectionInfos(first: 1) { nodes { " + "connectionType { id } " * 2000 + "} } }",
    ],
    ids=["9000-same-field", "2400-same-list", "2000-same-relation"],
)
def test_repetitive_documents_within_the_token_limit(server: Server, query: str) -> None:
    """graphql-core compares repeated fields pairwise: such documents are refused before
    validation, by their length, their tokens or their repeats."""
    response = server.post({"query": query})
    answered = server.answer(response)
    assert response.status_code == 400
    assert codes_in(answered)[0] in (
        "QUERY_TOO_LARGE",
        "TOO_MANY_TOKENS",
        "TOO_MANY_REPEATED_FIELDS",
    ), answered


@pytest.mark.parametrize(
    "query", ["{}", "query {}", "{ levels { } }", "{ connectionInfos { nodes { } } }"]
)
def test_empty_selection_sets(server: Server, query: str) -> None:
    """graphql-core 3.3 still parses empty selection sets (a deprecated default): they
    select nothing, which is no reason for a server error."""
    response = server.post({"query": query})
    answered = server.answer(response, query)
    assert response.status_code in (200, 400), answered


# -- garbage cursors --------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HISTORY_AFTER = (
    f"query($c: String) {{ connectionInfoHistory(id: {SITE}, after: $c) {{ nodes {{ action }} }} }}"
)
GARBAGE_CURSORS = {
    "empty": "",
    "not-base64": "!!!***",
    "padding-only": "====",
    "random-base64": _b64(bytes(range(256))[::7]),
    "junk-json-object": _b64(b'{"id": 1}'),
    "junk-json-list": _b64(b"[1]"),
    "junk-json-string": _b64(b'"cursor"'),
    "other-version": _b64(b'[2, "ID_ASC", 5]'),
    "unknown-order": _b64(b'[1, "SIDEWAYS", 5]'),
    "list-as-order": _b64(b'[1, ["ID_ASC"], 5]'),
    "float-id": _b64(b'[1, "ID_ASC", 1.5]'),
    "bool-id": _b64(b'[1, "ID_ASC", true]'),
    "huge-id": _b64(b'[1, "ID_ASC", 99999999999999999999999999]'),
    "id-2**63": _b64(b'[1, "ID_ASC", 9223372036854775808]'),
    "extra-field": _b64(b'[1, "ID_ASC", 5, 6]'),
    "history-cursor": _b64(b"change:1"),
    "history-huge": _b64(b"change:" + b"9" * 40),
    "unicode": "😀😀😀",
    "nul": "\x00",
    "100k": "A" * 100_000,
}


@pytest.mark.parametrize("cursor", list(GARBAGE_CURSORS.values()), ids=list(GARBAGE_CURSORS))
@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ("query($c: String) { connectionInfos(first: 3, after: $c) { totalCount } }", "after"),
        (
            "query($c: String) { connectionInfos(last: 3, before: $c, orderBy: ID_DESC) "
            "{ totalCount } }",
            "before",
        ),
        (
            "query($c: String) { connectionInfos(first: 3, after: $c, orderBy: POWER_KW_DESC) "
            "{ totalCount } }",
            "after",
        ),
        (
            HISTORY_AFTER,
            "after",
        ),
    ],
    ids=["after", "before", "after-by-power", "history-after"],
)
def test_garbage_cursors_are_bad_user_input_naming_the_argument(
    server: Server, cursor: str, query: str, argument: str
) -> None:
    if cursor == GARBAGE_CURSORS["history-cursor"] and "History" in query:
        pytest.skip("a well-formed history cursor")
    response = server.post({"query": query, "variables": {"c": cursor}})
    answered = server.answer(response)
    assert response.status_code == 200  # the operation ran; its field failed
    (error,) = answered["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert "cursor" in error["message"]
    assert len(response.content) < SMALL_ANSWER


def test_a_cursor_of_another_order_or_list_says_so(server: Server) -> None:
    page = server.answer(
        server.post(
            {
                "query": "{ connectionInfos(first: 2, orderBy: POWER_KW_ASC) "
                "{ pageInfo { endCursor } } }"
            }
        )
    )
    cursor = page["data"]["connectionInfos"]["pageInfo"]["endCursor"]
    for order in ("ID_ASC", "ID_DESC", "POWER_KW_DESC"):
        query = "query($c: String) { connectionInfos(after: $c, orderBy: ORDER) { totalCount } }"
        query = query.replace("ORDER", order)
        answered = server.answer(server.post({"query": query, "variables": {"c": cursor}}))
        (error,) = answered["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
        assert f"made for order POWER_KW_ASC, not {order}" in error["message"]
    history = HISTORY_AFTER
    answered = server.answer(server.post({"query": history, "variables": {"c": cursor}}))
    assert answered["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


def test_cursors_at_the_edges_of_the_key_space_are_pages(server: Server) -> None:
    """Well-formed cursors for ids no row has (the largest and smallest int64) are just
    positions: an empty page after the last, the first page after the smallest."""
    query = "query($c: String) { connectionInfos(first: 2, after: $c) { nodes { id } } }"
    last = server.answer(
        server.post(
            {"query": query, "variables": {"c": _b64(b'[1, "ID_ASC", 9223372036854775807]')}}
        )
    )
    assert last["data"]["connectionInfos"]["nodes"] == []
    first = server.answer(
        server.post(
            {"query": query, "variables": {"c": _b64(b'[1, "ID_ASC", -9223372036854775808]')}}
        )
    )
    assert [node["id"] for node in first["data"]["connectionInfos"]["nodes"]] == [SITE, SITE + 1]


# -- a bug of ours outside any field ----------------------------------------------------


def test_an_exception_escaping_the_operation_is_masked_and_a_500(
    server: Server, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Strawberry answers an exception raised outside any resolver (by the executor or an
    extension) with its bare message and no code; ours masks it, logs it and says 500."""

    def broken(_self: RequestLimits) -> Iterator[None]:
        raise RuntimeError("secret detail: /srv/ocm.db")
        yield  # a generator hook, as Strawberry expects

    monkeypatch.setattr(RequestLimits, "on_execute", broken)
    # The fast lane answers such queries without the extensions: go through them.
    monkeypatch.setattr(fast_executor, "enabled", False)
    with caplog.at_level(logging.ERROR, logger="gql.errors"):
        for accept in (GRAPHQL_RESPONSE, JSON):
            response = server.post({"query": "{ levels { id } }"}, accept=accept)
            assert response.status_code == 500
            body = response.json()
            assert "data" not in body
            (error,) = body["errors"]
            assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
            assert "secret" not in response.text
            error_id = error["extensions"]["errorId"]
            # The stack trace's record (the request's own line names the id too).
            [record] = [
                r for r in caplog.records if r.name == "gql.errors" and error_id in r.getMessage()
            ]
            assert record.exc_info is not None
    server.logged.take()  # logged on purpose
