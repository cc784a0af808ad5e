"""Applies the limits with the request's settings: tokens while parsing; depth, aliases and
introspection while validating (both cached, bounded); cost just before execution.

Parsing and validation results are cached per query text and limits, so a repeated
operation costs neither again.
"""

from __future__ import annotations

import contextlib
import functools
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Final

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    ValidationRule,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from gql.graphql.limits.aliases import max_aliases_rule
from gql.graphql.limits.cost import MAX_VARIABLE_ERRORS, QUERY_TOO_COMPLEX, operation_cost
from gql.graphql.limits.depth import max_depth_rule
from gql.settings import Settings

INTROSPECTION_DISABLED: Final = "INTROSPECTION_DISABLED"
CACHE_SIZE: Final = 1024


class _NoIntrospection(NoSchemaIntrospectionCustomRule):
    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": INTROSPECTION_DISABLED}
        super().report_error(error)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parse(query: str, max_tokens: int) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


@functools.cache
def _rules(
    max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ValidationRule], ...]:
    # Strawberry's own validation adds its two rules to graphql-core's; this replaces it.
    rules: list[type[ValidationRule]] = [
        MaybeNullValidationRule,
        OneOfInputValidationRule,
        max_depth_rule(max_depth),
        max_aliases_rule(max_aliases),
    ]
    if not introspection:
        rules.append(_NoIntrospection)
    return tuple(rules)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _validate(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    return validate(schema, document, rules, hide_suggestions=hide_suggestions)


class RequestLimits(SchemaExtension):
    def _settings(self) -> Settings:
        settings: Settings = self.execution_context.context.settings
        return settings

    def on_parse(self) -> Iterator[None]:
        execution_context = self.execution_context
        max_tokens = self._settings().max_tokens
        execution_context.parse_options["max_tokens"] = max_tokens
        if execution_context.query is not None:
            # On a syntax error Strawberry parses again and reports it the usual way.
            with contextlib.suppress(GraphQLError):
                execution_context.graphql_document = _parse(execution_context.query, max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        execution_context = self.execution_context
        settings = self._settings()
        document = execution_context.graphql_document
        if document is not None and execution_context.pre_execution_errors is None:
            rules = (
                *execution_context.validation_rules,
                *_rules(settings.max_depth, settings.max_aliases, settings.introspection),
            )
            execution_context.pre_execution_errors = _validate(
                execution_context.schema._schema,
                document,
                rules,
                not settings.field_suggestions,
            )
        yield

    def on_execute(self) -> Iterator[None]:
        execution_context = self.execution_context
        settings = self._settings()
        document = execution_context.graphql_document
        schema = execution_context.schema._schema
        if document is not None and not settings.field_suggestions:
            # graphql-core's executor would coerce the variables with suggestions.
            errors = _variable_errors(
                schema, document, execution_context.operation_name, execution_context.variables
            )
            if errors:
                execution_context.result = ExecutionResult(data=None, errors=errors)
        if document is not None and execution_context.result is None:
            cost = _costs.cost(
                schema,
                document,
                execution_context.operation_name,
                execution_context.variables,
                settings,
            )
            if cost > settings.max_cost:
                execution_context.result = ExecutionResult(
                    data=None, errors=[_too_complex(cost, settings.max_cost)]
                )
        yield


class _CostCache:
    """Costs of recent (document, operation, variables): a repeated request is not
    walked again. Documents come from the parse cache, so identity finds them."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._costs: OrderedDict[tuple[Any, ...], tuple[DocumentNode, int]] = OrderedDict()

    def cost(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        settings: Settings,
    ) -> int:
        try:
            variables_key = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
        except TypeError:
            variables_key = None
        key = (
            id(document),
            operation_name,
            variables_key,
            settings.default_page_size,
            settings.max_page_size,
        )
        cached = self._costs.get(key) if variables_key is not None else None
        if cached is not None and cached[0] is document:
            self._costs.move_to_end(key)
            return cached[1]
        cost = operation_cost(
            schema,
            document,
            operation_name,
            variables,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
        )
        if variables_key is not None:
            self._costs[key] = (document, cost)
            while len(self._costs) > self._size:
                self._costs.popitem(last=False)
        return cost


_costs = _CostCache(CACHE_SIZE)


def _variable_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> list[GraphQLError]:
    """The operation's variable errors, worded without "Did you mean ...?"."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return []
    coerced = get_variable_values(
        schema,
        operation.variable_definitions or (),
        dict(variables or {}),
        max_errors=MAX_VARIABLE_ERRORS,
        hide_suggestions=True,
    )
    return [] if isinstance(coerced, VariableValues) else coerced


def _too_complex(cost: int, limit: int) -> GraphQLError:
    extensions: dict[str, Any] = {"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": limit}
    return GraphQLError(
        f"The operation would cost {cost}; at most {limit} is allowed. Ask for smaller "
        "pages (first/last) or fewer fields.",
        extensions=extensions,
    )
