"""The entry points: graphql-core's `execute` with the fast path in front of it, and the
fast path's answer on its own (for the lane)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Iterator
from contextvars import ContextVar
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationType,
    execute,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_variable_values

from gql.graphql.fastpath.columns import complete_objects
from gql.graphql.fastpath.fallback import Fallback, GiveUp
from gql.graphql.fastpath.planner import operation_plan
from gql.graphql.fastpath.plans import Run
from gql.graphql.fastpath.shortcuts import Shortcuts
from gql.observability.metrics import execution

_bypassed: ContextVar[bool] = ContextVar("fast_path_bypassed", default=False)


class FastExecutor:
    """graphql-core's `execute`, with a fast path in front of it."""

    def __init__(self, shortcuts: Shortcuts) -> None:
        self._shortcuts = shortcuts
        self.enabled = True

    def __call__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any = None,
        context_value: Any = None,
        variable_values: dict[str, Any] | None = None,
        operation_name: str | None = None,
        middleware: Any = None,
        **kwargs: Any,
    ) -> Any:
        def standard() -> Any:
            return execute(
                schema,
                document,
                root_value=root_value,
                context_value=context_value,
                variable_values=variable_values,
                operation_name=operation_name,
                middleware=middleware,
                **kwargs,
            )

        # Middleware (tracing) wraps every resolver: only the standard path calls them.
        if not self.enabled or _bypassed.get() or getattr(middleware, "middlewares", None):
            return standard()
        answer = self.answer(
            schema, document, root_value, context_value, variable_values, operation_name
        )
        if isinstance(answer, Fallback):
            execution.fell_back(answer)
            return standard()

        async def fast_or_standard() -> ExecutionResult:
            assert not isinstance(answer, Fallback)
            data = await answer
            if data is None:
                execution.fell_back(Fallback.GAVE_UP)
                result = standard()
                return await result if isawaitable(result) else result  # type: ignore[no-any-return]
            execution.answered()
            return ExecutionResult(data=data)

        return fast_or_standard()

    @contextlib.contextmanager
    def bypassed(self) -> Iterator[None]:
        """Within it, operations go straight to graphql-core's executor: for those the
        fast path has already given up on."""
        token = _bypassed.set(True)
        try:
            yield
        finally:
            _bypassed.reset(token)

    def answer(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        root_value: Any,
        context_value: Any,
        variable_values: dict[str, Any] | None,
        operation_name: str | None,
    ) -> Awaitable[dict[str, Any] | None] | Fallback:
        """The data of a valid document's query, when the fast path can give it: why not
        at once when it cannot even try; an awaitable of None when it gave up on the way."""
        if not self.enabled:
            return Fallback.UNSUPPORTED
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return Fallback.INVALID
        if operation.operation is not OperationType.QUERY:
            return Fallback.NOT_QUERY
        coerced = get_variable_values(
            schema, operation.variable_definitions or (), dict(variable_values or {})
        )
        if not isinstance(coerced, VariableValues):
            return Fallback.INVALID
        fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        run = Run(schema, operation, fragments, root_value, context_value, coerced)
        try:
            plan = operation_plan(document, operation_name, run, self._shortcuts)
        except GiveUp:
            return Fallback.UNSUPPORTED

        async def complete() -> dict[str, Any] | None:
            try:
                built = complete_objects(plan, [root_value], run)
                (data,) = built if type(built) is list else await built
            except Exception:
                # A resolver's or batch's error, or a value it cannot complete exactly:
                # graphql-core's executor reports it in its place.
                return None
            result: dict[str, Any] = data
            return result

        return complete()
