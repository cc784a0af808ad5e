"""Completing a level a column at a time: each field's column read for every object at
once, awaitable columns settled together, and the result objects built row by row."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from inspect import isawaitable
from typing import Any

from gql.graphql.fastpath.fallback import GiveUp
from gql.graphql.fastpath.plans import Column, ObjectPlan, Run, Step
from gql.graphql.fastpath.shortcuts import BatchResolver, Relation


def row_builder(keys: Sequence[str]) -> Callable[..., dict[str, Any]]:
    """A function building ``{key0: value0, ...}`` from positional values: a dict display
    is the fastest way Python has to build a small dict. Keys are GraphQL names or
    aliases (letters, digits, underscores), written as literals."""
    names = [f"v{i}" for i in range(len(keys))]
    items = ", ".join(f"{key!r}: {name}" for key, name in zip(keys, names, strict=True))
    builder: Callable[..., dict[str, Any]] = eval(f"lambda {', '.join(names)}: {{{items}}}")
    return builder


async def settle_items(items: list[Any]) -> list[Any]:
    """The items with each awaitable one replaced by its result."""
    pending = [i for i, item in enumerate(items) if isawaitable(item)]
    return await _settle_at(items, pending)


def objects_of(relation: Relation, run: Run) -> Mapping[Any, Any]:
    objects = relation.objects(run.context)
    if objects is None:
        raise GiveUp  # dropped by a write since the keys were read
    return objects


def completed_by_key(relation: Relation, plan: ObjectPlan, non_null: bool) -> Step:
    """Results of a relation whose plan reads only attributes: each object of the table
    is completed once, when first asked for, and its result serves every later request
    until the table is replaced (tables are never changed in place)."""
    made: tuple[Mapping[Any, Any], dict[Any, Any]] = ({}, {})

    def complete_by_key(keys: list[Any], run: Run) -> list[Any]:
        nonlocal made
        objects = objects_of(relation, run)
        if made[0] is not objects:
            made = (objects, {})
        results = made[1]
        missing = set(keys).difference(results)
        if missing:
            found = [key for key in missing if objects.get(key) is not None]
            built = complete_objects(plan, [objects[key] for key in found], run)
            assert type(built) is list  # attribute reads and leaves finish at once
            results.update(dict.fromkeys(missing))
            results.update(zip(found, built, strict=True))
        completed = list(map(results.__getitem__, keys))
        if non_null and None in completed:
            raise GiveUp
        return completed

    return complete_by_key


def complete_objects(plan: ObjectPlan, objects: list[Any], run: Run) -> Column:
    """The result objects of one level: a list when every step could finish at once,
    else an awaitable of it (steps that must wait run concurrently)."""
    if not objects:
        return []
    if not plan.fields:
        # Every field skipped (@skip/@include): graphql-core answers an empty object
        # each, and `map` below needs at least one column.
        return [{} for _ in objects]
    values: list[Column] = []
    try:
        for field_plan in plan.fields:
            values.append(field_plan.read(objects, run))
    except Exception:
        _close(values)
        raise
    if not all(type(value) is list for value in values):
        return _complete_objects_later(plan, values, run)
    return _build(plan, values, run)


async def _complete_objects_later(plan: ObjectPlan, values: list[Column], run: Run) -> list[Any]:
    built = _build(plan, await settle(values), run)
    return built if type(built) is list else await built


def _build(plan: ObjectPlan, values: list[Any], run: Run) -> Column:
    columns: list[Column] = []
    try:
        for field_plan, column in zip(plan.fields, values, strict=True):
            columns.append(field_plan.complete(column, run))
    except Exception:
        _close(columns)
        raise
    if not all(type(column) is list for column in columns):
        return then(settle(columns), lambda done: list(map(plan.build, *done)))
    return list(map(plan.build, *columns))


def _close(steps: list[Column]) -> None:
    """Closes the steps' coroutines that will not be awaited, now that a sibling failed."""
    for step in steps:
        if asyncio.iscoroutine(step):
            step.close()


def then(column: Column, finish: Callable[[list[Any]], Column]) -> Column:
    """``finish(column)``, now or once the column is ready."""
    if type(column) is list:
        return finish(column)

    async def later() -> list[Any]:
        finished = finish(await column)
        return finished if type(finished) is list else await finished

    return later()


def split(items: list[Any], lengths: list[int]) -> list[Any]:
    results: list[Any] = []
    start = 0
    for length in lengths:
        if length < 0:
            results.append(None)
        else:
            results.append(items[start : start + length])
            start += length
    return results


async def settle(steps: list[Any]) -> list[Any]:
    """Awaits the awaitable steps (those that are not lists yet), together when there
    are several, so DataLoaders see all their keys in one batch. Futures progress on
    their own: they are awaited in turn, without a task each."""
    return await _settle_at(steps, [i for i, step in enumerate(steps) if type(step) is not list])


async def _settle_at(values: list[Any], pending: list[int]) -> list[Any]:
    if len(pending) == 1 or all(isinstance(values[i], asyncio.Future) for i in pending):
        for i in pending:
            values[i] = await values[i]
    elif pending:
        results = await asyncio.gather(*(values[i] for i in pending))
        for i, result in zip(pending, results, strict=True):
            values[i] = result
    return values


def as_is(values: list[Any], _run: Run) -> list[Any]:
    return values


def batched_reader(batched: BatchResolver) -> Step:
    def read_batched(parents: list[Any], run: Run) -> Column:
        return batched(parents, run.context)

    return read_batched
