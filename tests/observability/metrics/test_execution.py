"""ocm_gql_fast_executor_total: each operation sent to the fast executor counts once, as
answered or as fallen back with the reason's class; a schema on graphql-core's executor
counts nothing."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.types.graphql import OperationType

from gql.graphql.fastpath import Fallback
from gql.graphql.schema import Schema, schema, traced_schema
from tests.conftest import GraphQLRunner, graphql_runner
from tests.observability.metrics.samples import Growth
from tests.test_fast_lane import PAGE, run_in_lane

FAST = "ocm_gql_fast_executor_total"
OPERATIONS = frozenset(OperationType)


async def _lane(
    runner: GraphQLRunner,
    query: str,
    variables: dict[str, Any] | None = None,
    on: Schema = schema,
) -> Any:
    # Every operation type allowed, so a mutation reaches the lane (and falls back).
    return await run_in_lane(runner, query, variables, on, allowed=OPERATIONS)


def _only(growth: Growth, result: str, reason: str) -> None:
    """Exactly one operation counted, under (result, reason)."""
    every = [("answered", "none"), *(("fell_back", fallback.value) for fallback in Fallback)]
    counted = {pair: growth(FAST, result=pair[0], reason=pair[1]) for pair in every}
    assert counted == {pair: float(pair == (result, reason)) for pair in every}


async def test_a_page_is_answered(demo_graphql: GraphQLRunner) -> None:
    growth = Growth()
    result = await _lane(demo_graphql, PAGE)
    assert result.errors is None
    _only(growth, "answered", "none")


@pytest.mark.parametrize(
    ("query", "variables", "reason"),
    [
        ("{ connectionInfos { nodes { id }", None, Fallback.NOT_PARSED),
        ("{ connectionInfos { nope } }", None, Fallback.INVALID),
        (PAGE, {"after": 7}, Fallback.INVALID),  # a variable that does not coerce
        ("mutation { deleteConnectionInfo(id: 1) { __typename } }", None, Fallback.NOT_QUERY),
        ("{ __schema { queryType { name } } }", None, Fallback.UNSUPPORTED),
        (PAGE, {"after": "not a cursor"}, Fallback.GAVE_UP),  # the pager's error
    ],
)
async def test_each_fallback_is_counted_with_its_reason(
    demo_graphql: GraphQLRunner, query: str, variables: dict[str, Any] | None, reason: Fallback
) -> None:
    growth = Growth()
    await _lane(demo_graphql, query, variables)
    _only(growth, "fell_back", reason.value)


async def test_over_budget_is_its_own_reason(demo_db: str) -> None:
    async with graphql_runner(demo_db, max_cost=2) as runner:
        growth = Growth()
        result = await _lane(runner, PAGE)
    assert [error.extensions["code"] for error in result.errors] == ["QUERY_TOO_COMPLEX"]
    _only(growth, "fell_back", Fallback.OVER_BUDGET.value)


async def test_the_schemas_own_executor_counts_as_well(demo_graphql: GraphQLRunner) -> None:
    # Schema.execute outside the lane (as a WebSocket's query runs): its executor tries
    # the fast path on a document Strawberry has parsed and validated.
    growth = Growth()
    await demo_graphql.data(PAGE)
    _only(growth, "answered", "none")
    growth = Growth()
    result = await demo_graphql.execute(PAGE, {"after": "not a cursor"})
    assert result.errors
    _only(growth, "fell_back", Fallback.GAVE_UP.value)


async def test_a_schema_on_the_standard_executor_counts_nothing(
    demo_graphql: GraphQLRunner,
) -> None:
    growth = Growth()
    result = await _lane(demo_graphql, PAGE, on=traced_schema)
    assert result.errors is None
    _only(growth, "", "")
