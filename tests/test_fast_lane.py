"""gql/graphql/fastpath/lane.py: queries the fast executor completes skip Strawberry's
pipeline; the rest run through `Schema.execute` once, with the fast path tried once."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types.graphql import OperationType

from gql.broadcast import InProcessBroadcaster
from gql.graphql.context import Context
from gql.graphql.fastpath import lane
from gql.graphql.schema import Schema, fast_executor, schema, traced_schema
from tests.conftest import GraphQLRunner

PAGE = "query ($after: String) { connectionInfos(first: 3, after: $after) { nodes { id } } }"
QUERIES = frozenset({OperationType.QUERY})


async def run_in_lane(
    runner: GraphQLRunner,
    query: str,
    variables: dict[str, Any] | None = None,
    on: Schema = schema,
    allowed: frozenset[OperationType] = QUERIES,
) -> Any:
    """`lane.execute` with a request's context, as the HTTP pipeline calls it."""
    context = Context.for_request(
        runner.settings,
        runner.repository,
        runner.references,
        broadcaster=InProcessBroadcaster(),
    )
    return await lane.execute(on, query, variables, None, context, allowed)


@pytest.fixture
def fast_path_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time the fast executor is asked for an answer, by the lane or by the schema."""
    calls: list[str] = []
    answer = fast_executor.answer

    def counted(*args: Any) -> Any:
        calls.append("answer")
        return answer(*args)

    monkeypatch.setattr(fast_executor, "answer", counted)
    return calls


async def test_a_page_is_answered_without_the_schema_pipeline(
    demo_graphql: GraphQLRunner, monkeypatch: pytest.MonkeyPatch, fast_path_calls: list[str]
) -> None:
    async def not_expected(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("Schema.execute ran")

    monkeypatch.setattr(schema, "execute", not_expected)
    result = await run_in_lane(demo_graphql, PAGE)
    assert result.errors is None
    assert len(result.data["connectionInfos"]["nodes"]) == 3
    assert fast_path_calls == ["answer"]


async def test_a_query_the_fast_path_gives_up_on_is_tried_there_once(
    demo_graphql: GraphQLRunner, fast_path_calls: list[str]
) -> None:
    result = await run_in_lane(demo_graphql, PAGE, {"after": "not a cursor"})
    assert result.data is None
    assert [error.extensions["code"] for error in result.errors] == ["BAD_USER_INPUT"]
    assert fast_path_calls == ["answer"]
    # Outside the lane, the schema's own executor still tries the fast path.
    await demo_graphql.execute(PAGE)
    assert fast_path_calls == ["answer", "answer"]


async def test_invalid_documents_get_the_schemas_errors(
    demo_graphql: GraphQLRunner, fast_path_calls: list[str]
) -> None:
    result = await run_in_lane(demo_graphql, "{ connectionInfos { nope } }")
    assert [error.extensions["code"] for error in result.errors] == ["GRAPHQL_VALIDATION_FAILED"]
    assert fast_path_calls == []


async def test_a_schema_on_the_standard_executor_never_asks_the_fast_path(
    demo_graphql: GraphQLRunner, fast_path_calls: list[str]
) -> None:
    result = await run_in_lane(demo_graphql, PAGE, on=traced_schema)
    assert result.errors is None
    assert len(result.data["connectionInfos"]["nodes"]) == 3
    assert fast_path_calls == []
