"""Queries answered without Strawberry's per-request pipeline, when nothing needs it.

A document that is short, parses, passes every limit and validates, with variables that
coerce, and whose query the fast executor completes without giving up, gets its data
here directly. Anything else returns None and goes through `Schema.execute`, whose
extensions report errors the usual way. Successes need none of that machinery: there are
no errors to classify, and every check an extension would make was made here, with the
same functions.
"""

from __future__ import annotations

from typing import Any

from graphql import DocumentNode
from strawberry.types import ExecutionResult

from gql.graphql.context import Context
from gql.graphql.limits.extension import over_budget, parsed, validation_errors
from gql.graphql.schema import Schema, fast_executor


async def answer_quickly(
    schema: Schema,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: Context,
) -> ExecutionResult | None:
    settings = context.settings
    document = parsed(query, settings)
    if not isinstance(document, DocumentNode):
        return None
    graphql_schema = schema._schema
    if validation_errors(graphql_schema, document, settings):
        return None
    if over_budget(graphql_schema, document, operation_name, variables, settings) is not None:
        return None
    answer = fast_executor.answer(
        graphql_schema, document, None, context, variables, operation_name
    )
    if answer is None:
        return None
    data = await answer
    return None if data is None else ExecutionResult(data=data, errors=None)
