"""Query cost: what an operation would make the server do, computed before it runs.

Every field costs 1, times the number of items its parents return. Paged fields multiply
their selections by the page they ask for (`first`/`last`, or the default page size);
`_entities` by its representations; the reference lists by a fixed estimate of their
length. So `connectionInfos(first: 1000) { nodes { id } }` costs 1 + 1,000 + 1,000.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from graphql.type import GraphQLNamedType

QUERY_TOO_COMPLEX: Final = "QUERY_TOO_COMPLEX"
PAGED_FIELDS: Final = frozenset({"connectionInfos", "connectionInfoHistory", "chargePoints"})
# The reference lists are OCM's small lookup tables (tens of rows each).
REFERENCE_LIST_ESTIMATE: Final = 100
# Lists below the root, by (type, field): their expected length. OCM's sites have about
# two connections each (the sample: 271 on 139 sites); twice that leaves room for the
# large ones without pricing a page of sites out of reach.
NESTED_LIST_ESTIMATES: Final = {("ChargePoint", "connections"): 4}
# Costs above this are reported as this: it is the largest integer JSON clients read
# exactly (2^53 - 1), and larger ones would not even serialize (orjson stops at 64 bits).
MAX_COST: Final = 2**53 - 1
# As graphql-core's executor: past this many, coercing variables stops.
MAX_VARIABLE_ERRORS: Final = 50


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    *,
    default_page_size: int,
    max_page_size: int,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    coerced = get_variable_values(
        schema,
        operation.variable_definitions or (),
        dict(variables or {}),
        max_errors=MAX_VARIABLE_ERRORS,
    )
    if not isinstance(coerced, VariableValues):
        return 0  # the operation fails on its variables before it costs anything
    walker = _Walker(schema, fragments, coerced, default_page_size, max_page_size)
    return min(walker.selection_cost(operation.selection_set, root, frozenset()), MAX_COST)


class _Walker:
    """Costs selections for one item of their parent type: a field costs 1 plus its
    selections times the items it returns. A fragment's cost is computed once, however
    often it is spread (else nested spreads would take exponential time)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
        default_page_size: int,
        max_page_size: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.default_page_size = default_page_size
        self.max_page_size = max_page_size
        self.fragment_costs: dict[str, int] = {}

    def selection_cost(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        visiting: frozenset[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, visiting)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selection_cost(selection.selection_set, target or parent, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in self.fragment_costs:
                    fragment = self.fragments.get(name)
                    if fragment is None or name in visiting:
                        continue
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    self.fragment_costs[name] = self.selection_cost(
                        fragment.selection_set, target or parent, visiting | {name}
                    )
                total += self.fragment_costs[name]
        return total

    def _field_cost(
        self, node: FieldNode, parent: GraphQLNamedType, visiting: frozenset[str]
    ) -> int:
        if not isinstance(parent, GraphQLObjectType):
            return 1  # only __typename can be selected on an abstract type
        field = parent.fields.get(node.name.value)
        if field is None:
            return 1  # __typename, __schema, __type
        factor = self._list_factor(node, field, parent)
        return 1 + factor * self.selection_cost(
            node.selection_set, get_named_type(field.type), visiting
        )

    def _list_factor(self, node: FieldNode, field: Any, parent: GraphQLObjectType) -> int:
        name = node.name.value
        if parent is not self.schema.query_type:
            return NESTED_LIST_ESTIMATES.get((parent.name, name), 1)
        try:
            arguments = get_argument_values(field, node, self.variables)
        except GraphQLError:
            # Bad arguments fail later with their own error; assume the worst meanwhile.
            return self.max_page_size
        if name in PAGED_FIELDS:
            size = arguments.get("first") or arguments.get("last") or self.default_page_size
            return max(0, min(int(size), self.max_page_size))
        if name == "_entities":
            return len(arguments.get("representations") or ())
        if isinstance(get_nullable_type(field.type), GraphQLList):
            return REFERENCE_LIST_ESTIMATE
        return 1

    def _included(self, node: Any) -> bool:
        try:
            skip = get_directive_values(GraphQLSkipDirective, node, self.variables)
            include = get_directive_values(GraphQLIncludeDirective, node, self.variables)
        except GraphQLError:
            return True
        if skip is not None and skip.get("if") is True:
            return False
        return not (include is not None and include.get("if") is False)
