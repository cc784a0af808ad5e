"""What a plan is made of: for each field of an object type, a step reading its column and
one completing it; and what one execution of a plan needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
)
from graphql.execution.values import VariableValues

Column = Any
"""A column of values: a list, or an awaitable of one."""
Step = Callable[[list[Any], "Run"], Column]
"""A column step: a list at once, or an awaitable of one (then steps run concurrently,
so DataLoaders see every key of a level before they load)."""


@dataclass(slots=True)
class FieldPlan:
    key: str
    name: str
    definition: GraphQLField
    parent_type: GraphQLObjectType
    nodes: list[FieldNode]
    read: Step
    complete: Step
    kind: str = "resolved"
    """How values are read: typename, attribute, batched, with-arguments, stand-in or
    resolved."""


@dataclass(slots=True)
class ObjectPlan:
    type: GraphQLObjectType
    fields: list[FieldPlan] = field(default_factory=list)
    build: Callable[..., dict[str, Any]] = dict
    """Makes one result object from its field values, in the plan's key order."""


@dataclass(slots=True)
class Run:
    """What one execution of a plan needs."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    root_value: Any
    context: Any
    variables: VariableValues
