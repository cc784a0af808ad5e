"""Queries answered without Strawberry's per-request pipeline, when nothing needs it.

A document that is short, parses, passes every limit and validates, with variables that
coerce, and whose query the fast executor completes without giving up, gets its data
here directly. Anything else goes through `Schema.execute`, whose extensions report errors
the usual way, with the fast executor bypassed: it has had its try. Successes need none
of that machinery: there are no errors to classify, and every check an extension would
make was made here, with the same functions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection
from typing import Any, TypeVar

from graphql import DocumentNode, GraphQLError, GraphQLSchema
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from gql.graphql.context import Context
from gql.graphql.fastpath.fallback import Fallback
from gql.graphql.limits.extension import over_budget, parsed, validation_errors
from gql.graphql.schema import Schema, fast_executor
from gql.observability import tracing
from gql.observability.metrics import execution
from gql.settings import Settings

T = TypeVar("T")


async def execute(
    schema: Schema,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: Context,
    allowed_operation_types: Collection[OperationType],
) -> ExecutionResult:
    """`schema.execute`, answered in the fast lane when it can be (a schema whose
    executor is the fast one)."""
    if fast_executor.enabled and schema.executor is fast_executor:
        quick = await _answer_quickly(schema, query, variables, operation_name, context)
        if not isinstance(quick, Fallback):
            execution.answered()
            return quick
        execution.fell_back(quick)
    with fast_executor.bypassed():
        return await schema.execute(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
            allowed_operation_types=allowed_operation_types,
        )


async def _answer_quickly(
    schema: Schema,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: Context,
) -> ExecutionResult | Fallback:
    """The result, or why the standard pipeline must answer instead."""
    settings = context.settings
    document = _parsed(query, settings)
    if not isinstance(document, DocumentNode):
        return Fallback.NOT_PARSED
    graphql_schema = schema._schema
    if _validation_errors(graphql_schema, document, settings):
        return Fallback.INVALID
    if over_budget(graphql_schema, document, operation_name, variables, settings) is not None:
        return Fallback.OVER_BUDGET
    answer = fast_executor.answer(
        graphql_schema, document, None, context, variables, operation_name
    )
    if isinstance(answer, Fallback):
        return answer
    data = await _executed(answer)
    return Fallback.GAVE_UP if data is None else ExecutionResult(data=data, errors=None)


# Spans of the fast lane's steps when tracing is on (one check of a module global when off).


def _parsed(query: str, settings: Settings) -> DocumentNode | GraphQLError:
    if not tracing.enabled():
        return parsed(query, settings)
    with tracing.span("graphql.parse"):
        return parsed(query, settings)


def _validation_errors(
    schema: GraphQLSchema, document: DocumentNode, settings: Settings
) -> list[GraphQLError]:
    if not tracing.enabled():
        return validation_errors(schema, document, settings)
    with tracing.span("graphql.validate"):
        return validation_errors(schema, document, settings)


async def _executed(answer: Awaitable[T]) -> T:
    if not tracing.enabled():
        return await answer
    with tracing.span("graphql.execute"):
        return await answer
