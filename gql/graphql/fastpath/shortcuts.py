"""What resolvers register for the fast executor: fields it reads for a whole level of
objects at once instead of calling their resolver per object."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

BatchResolver = Callable[[Sequence[Any], Any], "list[Any] | Awaitable[list[Any]]"]
"""(parent objects, context) -> the field's value for each parent, in order (at once,
or awaitable)."""
ArgumentsResolver = Callable[
    [Sequence[Any], Any, dict[str, Any]], "list[Any] | Awaitable[list[Any]]"
]
"""A BatchResolver of a field with arguments, given them as graphql-core coerces them
(GraphQL names, defaults filled in)."""


@dataclass(frozen=True, slots=True)
class Relation:
    """An object field read through a key: the parent's attribute ``key`` names the
    related object in a per-process table (key -> object), as its DataLoader would find
    it; a key with no object gives null. Tables are replaced, never changed in place, and
    their objects never change."""

    key: str
    objects: Callable[[Any], Mapping[Any, Any] | None]
    """context -> the table, when it is at hand without waiting; else None."""
    load: Callable[[Any], Awaitable[Any]]
    """context -> loads the table."""


@dataclass(frozen=True, slots=True)
class Shortcuts:
    """Fields the executor reads for a whole level at once instead of calling their
    resolver per object; each keyed by (type name, field name)."""

    batched: Mapping[tuple[str, str], BatchResolver] = field(default_factory=dict)
    """Fields without arguments."""
    with_arguments: Mapping[tuple[str, str], ArgumentsResolver] = field(default_factory=dict)
    stand_ins: Mapping[tuple[str, str], StandIn] = field(default_factory=dict)
    relations: Mapping[tuple[str, str], Relation] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StandIn:
    """A batched field whose values hold plain records where objects of ``type_name``
    would be: the records have the same attribute names, and skip making an object per
    row. Used only where every selected field of that type reads attributes or batches."""

    resolve: BatchResolver
    type_name: str
