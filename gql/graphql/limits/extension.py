"""Applies the limits with the request's settings: tokens while parsing; depth, aliases and
introspection while validating (both cached, bounded); cost just before execution.

Parsing and validation results are cached per query text and limits, so a repeated
operation costs neither again.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any, Final

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    ValidationRule,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension

from gql.graphql.limits.aliases import max_aliases_rule
from gql.graphql.limits.cost import QUERY_TOO_COMPLEX, operation_cost
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
    rules = [max_depth_rule(max_depth), max_aliases_rule(max_aliases)]
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
        if document is not None:
            cost = operation_cost(
                execution_context.schema._schema,
                document,
                execution_context.operation_name,
                execution_context.variables,
                default_page_size=settings.default_page_size,
                max_page_size=settings.max_page_size,
            )
            if cost > settings.max_cost:
                execution_context.result = ExecutionResult(
                    data=None, errors=[_too_complex(cost, settings.max_cost)]
                )
        yield


def _too_complex(cost: int, limit: int) -> GraphQLError:
    extensions: dict[str, Any] = {"code": QUERY_TOO_COMPLEX, "cost": cost, "maxCost": limit}
    return GraphQLError(
        f"The operation would cost {cost}; at most {limit} is allowed. Ask for smaller "
        "pages (first/last) or fewer fields.",
        extensions=extensions,
    )
