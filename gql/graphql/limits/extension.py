"""Applies the limits with the request's settings: tokens while parsing; depth, aliases and
introspection while validating (both cached, bounded); cost just before execution.

Parsing and validation results are cached per query text and limits, so a repeated
operation costs neither again.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any, Final

import orjson
from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    NoSchemaIntrospectionCustomRule,
    ValidationRule,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
)
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from gql.graphql.errors import with_syntax_code
from gql.graphql.limits.aliases import max_aliases_rule
from gql.graphql.limits.cost import MAX_VARIABLE_ERRORS, QUERY_TOO_COMPLEX, operation_cost
from gql.graphql.limits.depth import max_depth_rule
from gql.graphql.limits.repeats import repeated_fields_error
from gql.settings import Settings

INTROSPECTION_DISABLED: Final = "INTROSPECTION_DISABLED"
CACHE_SIZE: Final = 1024
CACHEABLE_QUERY_CHARS: Final = 5_000
"""Longer documents are parsed and validated each time instead of cached, so the caches
stay within CACHE_SIZE x (a small document)."""
QUERY_TOO_LARGE: Final = "QUERY_TOO_LARGE"


class _NoIntrospection(NoSchemaIntrospectionCustomRule):
    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": INTROSPECTION_DISABLED}
        super().report_error(error)


def _parse(query: str, max_tokens: int) -> DocumentNode | GraphQLError:
    """Parsed through the cache when the text is short: the cache holds entries, not
    bytes, and a long document's syntax tree is large."""
    if len(query) > CACHEABLE_QUERY_CHARS:
        return _parse_now(query, max_tokens)
    return _parse_cached(query, max_tokens)


def _parse_now(query: str, max_tokens: int) -> DocumentNode | GraphQLError:
    """The document, or its syntax error with its code: both are cached (the cache is
    bounded in entries, and `max_query_chars` bounds each entry)."""
    try:
        return parse(query, max_tokens=max_tokens)
    except GraphQLSyntaxError as error:
        return with_syntax_code(error)


_parse_cached = functools.lru_cache(maxsize=CACHE_SIZE)(_parse_now)


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


def _cacheable(document: DocumentNode) -> bool:
    return document.loc is not None and len(document.loc.source.body) <= CACHEABLE_QUERY_CHARS


def validation_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    settings: Settings,
    base_rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules),
) -> list[GraphQLError]:
    """Repeats first (graphql-core's overlap check is quadratic in them), then graphql-core's
    rules with ours, cached for short documents."""
    limits = (
        settings.max_repeated_fields,
        settings.max_depth,
        settings.max_aliases,
        settings.introspection,
        settings.field_suggestions,
    )
    key = (id(schema), id(document), base_rules, limits)
    known = _checked.get(key)
    if known is not None and known[0] is document:
        # Found by identity: hashing a syntax tree (as the validation cache does) costs
        # more than the lookup is worth on every request.
        return known[1]
    repeated = repeated_fields_error(document, settings.max_repeated_fields)
    if repeated is not None:
        errors = [repeated]
    else:
        rules = (
            *base_rules,
            *_rules(settings.max_depth, settings.max_aliases, settings.introspection),
        )
        check = _validate if _cacheable(document) else _validate.__wrapped__
        errors = check(schema, document, rules, not settings.field_suggestions)
    if _cacheable(document):
        _checked[key] = (document, errors)
        while len(_checked) > CACHE_SIZE:
            _checked.popitem(last=False)
    return errors


_checked: OrderedDict[tuple[Any, ...], tuple[DocumentNode, list[GraphQLError]]] = OrderedDict()


def parsed(query: str, settings: Settings) -> DocumentNode | GraphQLError:
    """The document, or the error that refuses it before or while parsing."""
    if len(query) > settings.max_query_chars:
        return GraphQLError(
            f"The document is {len(query)} characters long; at most "
            f"{settings.max_query_chars} are allowed.",
            extensions={"code": QUERY_TOO_LARGE, "maxQueryChars": settings.max_query_chars},
        )
    return _parse(query, settings.max_tokens)


def over_budget(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    settings: Settings,
) -> GraphQLError | None:
    cost = _costs.cost(schema, document, operation_name, variables, settings)
    return _too_complex(cost, settings.max_cost) if cost > settings.max_cost else None


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

    def on_parse(self) -> Iterator[None]:
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

    def on_validate(self) -> Iterator[None]:
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
