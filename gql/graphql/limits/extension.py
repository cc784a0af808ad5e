"""Applies the limits with the request's settings: tokens while parsing; depth, aliases and
introspection while validating; cost just before execution.

Parsing, validation and costs are kept with each document in the document cache
(gql/graphql/documents.py), so a repeated operation costs none of them again; a refused
document is not kept.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from typing import Any, Final

import orjson
from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    NoSchemaIntrospectionCustomRule,
    ValidationRule,
    get_operation_ast,
    specified_rules,
    validate,
)
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from gql.graphql.documents import DERIVED_PER_DOCUMENT, Refusal, document_cache, handed_over
from gql.graphql.limits.aliases import max_aliases_rule
from gql.graphql.limits.cost import MAX_VARIABLE_ERRORS, QUERY_TOO_COMPLEX, operation_cost
from gql.graphql.limits.depth import max_depth_rule
from gql.graphql.limits.repeats import repeated_fields_error
from gql.observability import tracing
from gql.observability.metrics.caches import Cache, looked_up
from gql.settings import Settings

INTROSPECTION_DISABLED: Final = "INTROSPECTION_DISABLED"
QUERY_TOO_LARGE: Final = "QUERY_TOO_LARGE"


class _NoIntrospection(NoSchemaIntrospectionCustomRule):
    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": INTROSPECTION_DISABLED}
        super().report_error(error)


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


def validation_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    settings: Settings,
    base_rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules),
) -> list[GraphQLError]:
    """Repeats first (graphql-core's overlap check is quadratic in them), then graphql-core's
    rules with ours. A document that passes is remembered as passing; one that fails is
    dropped from the cache."""
    refused = handed_over(document)
    if refused is not None:
        return refused.validation_errors
    limits = (
        id(schema),
        base_rules,
        settings.max_repeated_fields,
        settings.max_depth,
        settings.max_aliases,
        settings.introspection,
        settings.field_suggestions,
    )
    entry = document_cache.entry(document)
    passed = entry is not None and limits in entry.accepted
    looked_up(Cache.VALIDATION, _text(document), hit=passed)
    if passed:
        return []
    repeated = repeated_fields_error(document, settings.max_repeated_fields)
    if repeated is not None:
        errors = [repeated]
    else:
        rules = (
            *base_rules,
            *_rules(settings.max_depth, settings.max_aliases, settings.introspection),
        )
        errors = validate(schema, document, rules, hide_suggestions=not settings.field_suggestions)
    if errors:
        document_cache.refuse(Refusal(_text(document), document, errors))
    elif entry is not None:
        entry.accepted.add(limits)
    return errors


def parsed(query: str, settings: Settings) -> DocumentNode | GraphQLError:
    """The document, or the error that refuses it before or while parsing."""
    if len(query) > settings.max_query_chars:
        return GraphQLError(
            f"The document is {len(query)} characters long; at most "
            f"{settings.max_query_chars} are allowed.",
            extensions={"code": QUERY_TOO_LARGE, "maxQueryChars": settings.max_query_chars},
        )
    document_cache.bound(settings.query_cache_bytes)
    return document_cache.parse(query, settings.max_tokens)


def over_budget(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    settings: Settings,
) -> GraphQLError | None:
    refused = handed_over(document)
    if refused is not None:
        return refused.over_budget
    cost = _cost(schema, document, operation_name, variables, settings)
    if cost <= settings.max_cost:
        return None
    refusal = _too_complex(cost, settings.max_cost)
    document_cache.refuse(Refusal(_text(document), document, [], refusal))
    return refusal


def _cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    settings: Settings,
) -> int:
    """The operation's cost, kept with its document per operation and variables (known by
    a digest, so large variables, such as `_entities`' representations, cost 16 bytes)."""

    def walked() -> int:
        return operation_cost(
            schema,
            document,
            operation_name,
            variables,
            default_page_size=settings.default_page_size,
            max_page_size=settings.max_page_size,
        )

    entry = document_cache.entry(document)
    if entry is None:
        return walked()
    try:
        variables_json = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return walked()
    key = (
        id(schema),
        operation_name,
        hashlib.blake2b(variables_json, digest_size=16).digest(),
        settings.default_page_size,
        settings.max_page_size,
    )
    cost = entry.costs.get(key)
    if cost is None:
        cost = walked()
        if len(entry.costs) < DERIVED_PER_DOCUMENT:
            entry.costs[key] = cost
    return cost


def _text(document: DocumentNode) -> str:
    return document.loc.source.body if document.loc is not None else ""


def admitted(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    settings: Settings,
) -> bool:
    """Whether validation and every limit RequestLimits applies let the operation start:
    asked by a transport that must choose its status before the operation runs (a
    stream), with the same cached checks the extension then makes."""
    return not (
        validation_errors(schema, document, settings)
        or _variable_errors(schema, document, operation_name, variables)
        or over_budget(schema, document, operation_name, variables, settings) is not None
    )


class RequestLimits(SchemaExtension):
    def _settings(self) -> Settings:
        settings: Settings = self.execution_context.context.settings
        return settings

    def _limit_parse(self) -> Iterator[None]:
        execution_context = self.execution_context
        settings = self._settings()
        query = execution_context.query
        execution_context.parse_options["max_tokens"] = settings.max_tokens
        if query is not None:
            document = parsed(query, settings)
            if isinstance(document, GraphQLError):
                # Raised with its code, so Strawberry does not parse the text a second time.
                raise document
            execution_context.graphql_document = document
        yield

    def _limit_validate(self) -> Iterator[None]:
        execution_context = self.execution_context
        settings = self._settings()
        document = execution_context.graphql_document
        if document is not None and execution_context.pre_execution_errors is None:
            execution_context.pre_execution_errors = validation_errors(
                execution_context.schema._schema,
                document,
                settings,
                execution_context.validation_rules,
            )
        yield

    def _limit_execute(self) -> Iterator[None]:
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
            refusal = over_budget(
                schema,
                document,
                execution_context.operation_name,
                execution_context.variables,
                settings,
            )
            if refusal is not None:
                execution_context.result = ExecutionResult(data=None, errors=[refusal])
        refused = execution_context.result
        if refused is not None and refused.errors and _subscribes(execution_context):
            # Strawberry starts a subscription whatever result is set here: only an
            # exception stops it, answered as the only error.
            raise refused.errors[0]
        yield

    # Each step in its span when tracing is on (parse, validate, execute), the limits'
    # work included; off, `tracing.span` is a shared do-nothing context manager.

    def on_parse(self) -> Iterator[None]:
        with tracing.span("graphql.parse"):
            yield from self._limit_parse()

    def on_validate(self) -> Iterator[None]:
        with tracing.span("graphql.validate"):
            yield from self._limit_validate()

    def on_execute(self) -> Iterator[None]:
        with tracing.span("graphql.execute"):
            yield from self._limit_execute()


def _subscribes(execution_context: ExecutionContext) -> bool:
    return execution_context.operation_type is OperationType.SUBSCRIPTION


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
