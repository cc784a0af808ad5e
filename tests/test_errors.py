"""Every error carries a stable extensions.code; unexpected ones are masked and logged."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import GraphQLRunner


async def _error(
    runner: GraphQLRunner, query: str, variables: dict[str, object] | None = None
) -> dict[str, object]:
    result = await runner.execute(query, variables)
    assert result.errors, result
    (error,) = result.errors
    return error.formatted


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ connectionInfos(first: 3 ", None, "GRAPHQL_PARSE_FAILED"),
        ("{ connectionInfos { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
        ('{ connectionInfo(id: "7") { id } }', None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ connectionInfo(id: 99999999999) { id } }", None, "GRAPHQL_VALIDATION_FAILED"),
        (
            "{ connectionInfos(orderBy: SIDEWAYS) { totalCount } }",
            None,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("query($id: Int!) { connectionInfo(id: $id) { id } }", {"id": "x"}, "BAD_USER_INPUT"),
        ("query($id: Int!) { connectionInfo(id: $id) { id } }", {}, "BAD_USER_INPUT"),
        ("{ connectionInfos(first: -1) { totalCount } }", None, "BAD_USER_INPUT"),
        ("{ connectionInfos(last: 1001) { totalCount } }", None, "BAD_USER_INPUT"),
        ("{ connectionInfos(first: 1, last: 1) { totalCount } }", None, "BAD_USER_INPUT"),
        ('{ connectionInfos(after: "garbage") { totalCount } }', None, "BAD_USER_INPUT"),
        ('{ connectionInfos(before: "") { totalCount } }', None, "BAD_USER_INPUT"),
    ],
)
async def test_codes(
    demo_graphql: GraphQLRunner, query: str, variables: dict[str, object] | None, code: str
) -> None:
    error = await _error(demo_graphql, query, variables)
    assert error["extensions"]["code"] == code  # type: ignore[index]


async def test_a_cursor_from_another_order_is_refused(demo_graphql: GraphQLRunner) -> None:
    page = await demo_graphql.data("{ connectionInfos(first: 1) { pageInfo { endCursor } } }")
    cursor = page["connectionInfos"]["pageInfo"]["endCursor"]
    error = await _error(
        demo_graphql,
        "query($c: String) { connectionInfos(after: $c, orderBy: POWER_KW_ASC) { totalCount } }",
        {"c": cursor},
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    assert "ID_ASC" in str(error["message"])


async def test_page_size_errors_name_the_limit(demo_graphql: GraphQLRunner) -> None:
    error = await _error(demo_graphql, "{ connectionInfos(first: 1001) { totalCount } }")
    assert error["message"] == "`first` must be between 0 and 1000, got 1001."
    assert error["path"] == ["connectionInfos"]


async def test_unexpected_errors_are_masked_and_logged(
    demo_graphql: GraphQLRunner, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A failure inside a resolver that is neither a client mistake nor a known database
    # state (those have codes of their own): a bug, as far as the client can tell.
    async def broken(_filter: object) -> int:
        raise RuntimeError("sqlite disk image is malformed")

    monkeypatch.setattr(demo_graphql.repository, "count_connections", broken)
    with caplog.at_level(logging.ERROR, logger="gql.errors"):
        error = await _error(demo_graphql, "{ connectionInfos { totalCount } }")
    extensions = error["extensions"]
    assert isinstance(extensions, dict)
    assert extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert error["message"] == f"Internal server error (error id {extensions['errorId']})."
    assert "Traceback" not in str(error)
    assert "sqlite" not in str(error).lower()
    (record,) = [r for r in caplog.records if extensions["errorId"] in r.getMessage()]
    assert record.exc_info is not None  # the stack trace goes to the log only
