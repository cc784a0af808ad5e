"""Leaves: scalar and enum columns checked whole, so values pass through unchanged, and
graphql-core's serialize for the rest."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from typing import Any, Final

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLScalarType,
    GraphQLString,
)

_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1


_ColumnCheck = Callable[[set[type], list[Any]], bool]


def column_check(leaf: GraphQLScalarType | GraphQLEnumType) -> _ColumnCheck | None:
    """For built-in scalars, a check over a whole column (given the types in it) that
    graphql-core's serialize would return every value unchanged, nulls included."""
    if leaf is GraphQLInt:
        return lambda kinds, values: (
            kinds <= _INT_OR_NONE
            and _in_int_range(_present(values) if NONE_TYPE in kinds else values)
        )
    if leaf is GraphQLFloat:
        # A finite sum means no value is infinite or NaN (a sum that overflows only sends
        # the column the slow way).
        return lambda kinds, values: (
            kinds <= _FLOAT_OR_NONE
            and math.isfinite(sum(_present(values) if NONE_TYPE in kinds else values))
        )
    if leaf is GraphQLString or leaf is GraphQLID:
        return lambda kinds, _values: kinds <= _STR_OR_NONE
    if leaf is GraphQLBoolean:
        return lambda kinds, _values: kinds <= _BOOL_OR_NONE
    return None


def _present(values: list[Any]) -> Collection[Any]:
    """The distinct values other than None."""
    distinct = set(values)
    distinct.discard(None)
    return distinct


def _in_int_range(values: Collection[int]) -> bool:
    return not values or (min(values) >= _INT_MIN and max(values) <= _INT_MAX)


NONE_TYPE: Final = type(None)
_INT_OR_NONE: Final = frozenset({int, NONE_TYPE})
_FLOAT_OR_NONE: Final = frozenset({float, NONE_TYPE})
_STR_OR_NONE: Final = frozenset({str, NONE_TYPE})
_BOOL_OR_NONE: Final = frozenset({bool, NONE_TYPE})


def serializer(leaf: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
    """graphql-core's serialize, with the common built-in cases answered inline."""
    serialize = leaf.serialize
    if leaf is GraphQLInt:
        return lambda v: v if type(v) is int and _INT_MIN <= v <= _INT_MAX else serialize(v)
    if leaf is GraphQLFloat:
        return lambda v: v if type(v) is float and math.isfinite(v) else serialize(v)
    if leaf is GraphQLString or leaf is GraphQLID:
        return lambda v: v if type(v) is str else serialize(v)
    if leaf is GraphQLBoolean:
        return lambda v: v if type(v) is bool else serialize(v)
    return serialize
