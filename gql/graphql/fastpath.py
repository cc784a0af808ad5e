"""A faster executor for the common case, falling back to graphql-core's for the rest.

graphql-core completes values one field of one object at a time, which costs a few
microseconds each: a page of 1,000 connections with their relations is some 20,000 such
steps. This executor plans an operation once per (document, operation, directive
variables) and then completes it a column at a time: a field is read for every object of
a level at once (attribute reads, or one batched call for the relations), and the objects
of the next level are gathered across all parents.

It is optimistic: queries only; unions and interfaces only through their own type
resolver; no introspection but `__typename`; no @defer/@stream. Anything it does not handle exactly
like graphql-core (an unsupported document, a resolver error, a null in a non-null
field, a value its scalar does not serialize as is) makes it give up and the operation
runs again on graphql-core's executor, which reports errors the standard way. Queries
have no side effects, so a rerun is safe. Differential tests compare both executors'
responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import operator
from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Hashable,
    Iterator,
    Mapping,
    Sequence,
)
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from inspect import isawaitable
from typing import Any, Final, TypeGuard

from graphql import (
    DirectiveNode,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    Visitor,
    execute,
    get_nullable_type,
    get_operation_ast,
    visit,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
    get_variable_values,
)
from graphql.pyutils import Path
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective

from gql.graphql.documents import document_cache
from gql.observability.metrics import execution
from gql.observability.metrics.caches import Cache, looked_up

_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1

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


_Column = Any
"""A column of values: a list, or an awaitable of one."""
_Step = Callable[[list[Any], "_Run"], _Column]
"""A column step: a list at once, or an awaitable of one (then steps run concurrently,
so DataLoaders see every key of a level before they load)."""


_bypassed: ContextVar[bool] = ContextVar("fast_path_bypassed", default=False)


class Fallback(StrEnum):
    """Why an operation went to graphql-core's executor instead (the metrics' reason)."""

    NOT_PARSED = "not_parsed"
    """The document does not parse, or is over the size or token limit."""
    INVALID = "invalid"
    """It fails validation, names no operation it holds, or its variables do not coerce."""
    OVER_BUDGET = "over_budget"
    """Its cost is over the limit."""
    NOT_QUERY = "not_query"
    """A mutation or subscription."""
    UNSUPPORTED = "unsupported"
    """The planner met what it does not handle (introspection, @defer, a type check...)."""
    GAVE_UP = "gave_up"
    """It started, and met an error or a value it cannot complete as graphql-core would."""


class _GiveUp(Exception):
    """The fast path cannot answer exactly as graphql-core would; run graphql-core."""


@dataclass(slots=True)
class _FieldPlan:
    key: str
    name: str
    definition: GraphQLField
    parent_type: GraphQLObjectType
    nodes: list[FieldNode]
    read: _Step
    complete: _Step
    kind: str = "resolved"
    """How values are read: typename, attribute, batched, with-arguments, stand-in or
    resolved."""


@dataclass(slots=True)
class _ObjectPlan:
    type: GraphQLObjectType
    fields: list[_FieldPlan] = field(default_factory=list)
    build: Callable[..., dict[str, Any]] = dict
    """Makes one result object from its field values, in the plan's key order."""


def _row_builder(keys: Sequence[str]) -> Callable[..., dict[str, Any]]:
    """A function building ``{key0: value0, ...}`` from positional values: a dict display
    is the fastest way Python has to build a small dict. Keys are GraphQL names or
    aliases (letters, digits, underscores), written as literals."""
    names = [f"v{i}" for i in range(len(keys))]
    items = ", ".join(f"{key!r}: {name}" for key, name in zip(keys, names, strict=True))
    builder: Callable[..., dict[str, Any]] = eval(f"lambda {', '.join(names)}: {{{items}}}")
    return builder


@dataclass(slots=True)
class _Run:
    """What one execution of a plan needs."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    root_value: Any
    context: Any
    variables: VariableValues


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
        run = _Run(schema, operation, fragments, root_value, context_value, coerced)
        try:
            plan = self._plan(document, operation_name, run)
        except _GiveUp:
            return Fallback.UNSUPPORTED

        async def complete() -> dict[str, Any] | None:
            try:
                built = _complete_objects(plan, [root_value], run)
                (data,) = built if type(built) is list else await built
            except Exception:
                # A resolver's or batch's error, or a value it cannot complete exactly:
                # graphql-core's executor reports it in its place.
                return None
            result: dict[str, Any] = data
            return result

        return complete()

    def _plan(self, document: DocumentNode, operation_name: str | None, run: _Run) -> _ObjectPlan:
        # Plans live with their document in the document cache, and go when it goes.
        entry = document_cache.entry(document)
        names_key = ("@include/@skip variables", operation_name)
        names = entry.plans.get(names_key) if entry is not None else None
        if not isinstance(names, tuple):
            names = _variables_in_directives(run.operation, tuple(run.fragments.values()))
            if entry is not None:
                document_cache.add_plan(entry, names_key, names)
        directive_values = tuple((name, repr(run.variables.coerced.get(name))) for name in names)
        key = (operation_name, directive_values)
        cached = entry.plans.get(key) if entry is not None else None
        _plan_looked_up(document, key, isinstance(cached, _ObjectPlan))
        if isinstance(cached, _ObjectPlan):
            return cached
        root_type = run.schema.query_type
        assert root_type is not None
        planner = _Planner(run, self._shortcuts)
        plan = planner.object_plan(root_type, [run.operation.selection_set])
        if entry is not None:
            document_cache.add_plan(entry, key, plan)
        return plan


def _plan_looked_up(document: DocumentNode, key: Hashable, hit: bool) -> None:
    text = document.loc.source.body if document.loc is not None else ""
    looked_up(Cache.PLAN, (text, key), hit)


def _variables_in_directives(
    operation: OperationDefinitionNode, fragments: tuple[FragmentDefinitionNode, ...]
) -> tuple[str, ...]:
    names: set[str] = set()

    class Collect(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names.add(argument.value.name.value)

    for definition in (operation, *fragments):
        visit(definition, Collect())
    return tuple(sorted(names))


class _Planner:
    def __init__(self, run: _Run, shortcuts: Shortcuts) -> None:
        self._run = run
        self._shortcuts = shortcuts
        self._made: list[_ObjectPlan] = []

    def object_plan(
        self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> _ObjectPlan:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(object_type, selection_set, grouped, set())
        plan = _ObjectPlan(object_type)
        self._made.append(plan)
        for key, nodes in grouped.items():
            plan.fields.append(self._field_plan(object_type, key, nodes))
        plan.build = _row_builder([field_plan.key for field_plan in plan.fields])
        return plan

    def _collect(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, object_type):
                    self._collect(object_type, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if selection.arguments or name in visited:
                    if selection.arguments:
                        raise _GiveUp  # fragment arguments are experimental
                    continue
                visited.add(name)
                fragment = self._run.fragments.get(name)
                if fragment is None:
                    raise _GiveUp
                if self._applies(fragment.type_condition, object_type):
                    self._collect(object_type, fragment.selection_set, grouped, visited)

    def _applies(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        conditional = self._run.schema.get_type(condition.name.value)
        if conditional is object_type:
            return True
        if isinstance(conditional, GraphQLUnionType | GraphQLInterfaceType):
            return self._run.schema.is_sub_type(conditional, object_type)
        return False

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in ("include", "skip"):
                raise _GiveUp  # @defer, @stream, or anything else
        skip = get_directive_values(GraphQLSkipDirective, node, self._run.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self._run.variables)
        return not (include is not None and include.get("if") is False)

    def _field_plan(
        self, parent_type: GraphQLObjectType, key: str, nodes: list[FieldNode]
    ) -> _FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            type_name = parent_type.name

            def typename(parents: list[Any], _run: _Run) -> list[Any]:
                return [type_name] * len(parents)

            return _FieldPlan(
                key, name, _TYPENAME_FIELD, parent_type, nodes, typename, _as_is, "typename"
            )
        definition = parent_type.fields.get(name)
        if definition is None:
            raise _GiveUp  # introspection (__schema, __type) or an unknown field
        relation = self._shortcuts.relations.get((parent_type.name, name))
        if relation is not None and not definition.args:
            return self._relation_plan(relation, parent_type, key, definition, nodes)
        shared = (parent_type.name, name) in self._shortcuts.batched
        stand_in = self._shortcuts.stand_ins.get((parent_type.name, name))
        if stand_in is not None and not definition.args:
            made = len(self._made)
            complete = self._completer(definition.type, nodes, parent_type, shared=shared)
            # Plain records may stand in for their type only where every selected field
            # of it is read as an attribute or in a batch (a resolver would get a record).
            if all(
                field_plan.kind in _PLAIN_KINDS
                for plan in self._made[made:]
                if plan.type.name == stand_in.type_name
                for field_plan in plan.fields
            ):
                read = _batched_reader(stand_in.resolve)
                return _FieldPlan(
                    key, name, definition, parent_type, nodes, read, complete, "stand-in"
                )
        read, kind = self._reader(parent_type, name, definition, nodes)
        complete = self._completer(definition.type, nodes, parent_type, shared=shared)
        return _FieldPlan(key, name, definition, parent_type, nodes, read, complete, kind)

    def _relation_plan(
        self,
        relation: Relation,
        parent_type: GraphQLObjectType,
        key: str,
        definition: GraphQLField,
        nodes: list[FieldNode],
    ) -> _FieldPlan:
        """A relation's keys are read as a column; their objects come from its table."""
        read_key = operator.attrgetter(relation.key)

        def read_keys(parents: list[Any], run: _Run) -> _Column:
            keys = list(map(read_key, parents))
            if relation.objects(run.context) is not None:
                return keys

            async def once_loaded() -> list[Any]:
                await relation.load(run.context)
                return keys

            return once_loaded()

        non_null = isinstance(definition.type, GraphQLNonNull)
        related = get_nullable_type(definition.type)
        if not isinstance(related, GraphQLObjectType):
            raise _GiveUp
        made = len(self._made)
        objects_complete = self._completer(definition.type, nodes, parent_type, shared=True)
        sub_plan = self._made[made]
        assert sub_plan.type is related
        if _reads_only_attributes(sub_plan):
            complete = _completed_by_key(relation, sub_plan, non_null)
        else:

            def complete(keys: list[Any], run: _Run) -> _Column:
                return objects_complete(list(map(_objects_of(relation, run).get, keys)), run)

        return _FieldPlan(
            key, nodes[0].name.value, definition, parent_type, nodes, read_keys, complete, "batched"
        )

    def _abstract_completer(
        self,
        abstract: GraphQLUnionType | GraphQLInterfaceType,
        non_null: bool,
        nodes: list[FieldNode],
        parent_type: GraphQLObjectType,
    ) -> _Step:
        """A union or interface: each object's type is resolved as graphql-core resolves
        it, then each type's objects are completed together with that type's plan."""
        resolve_type = abstract.resolve_type
        if resolve_type is None:
            raise _GiveUp  # graphql-core's default resolver, which may await is_type_of
        selection_sets = [node.selection_set for node in nodes if node.selection_set]
        plans: dict[str, _ObjectPlan] = {}
        for object_type in self._run.schema.get_possible_types(abstract):
            if object_type.is_type_of is not None:
                raise _GiveUp
            plans[object_type.name] = self.object_plan(object_type, selection_sets)
        name = nodes[0].name.value

        def complete_abstract(values: list[Any], run: _Run) -> _Column:
            info = _resolve_info(run, name, nodes, abstract, parent_type, Path(None, 0, None))
            groups: dict[str, list[int]] = {}
            for index, value in enumerate(values):
                if value is None:
                    if non_null:
                        raise _GiveUp
                    continue
                type_name = resolve_type(value, info, abstract)
                if type(type_name) is not str or type_name not in plans:
                    raise _GiveUp  # awaitable, or not one of the abstract type's objects
                groups.setdefault(type_name, []).append(index)
            indices = list(groups.values())
            columns = [
                _complete_objects(plans[type_name], [values[i] for i in group], run)
                for type_name, group in groups.items()
            ]

            def place(built: list[list[Any]]) -> list[Any]:
                results: list[Any] = [None] * len(values)
                for group, column in zip(indices, built, strict=True):
                    for index, result in zip(group, column, strict=True):
                        results[index] = result
                return results

            if all(type(column) is list for column in columns):
                return place(columns)
            return _then(_settle(columns), place)

        return complete_abstract

    def _reader(
        self,
        parent_type: GraphQLObjectType,
        name: str,
        definition: GraphQLField,
        nodes: list[FieldNode],
    ) -> tuple[_Step, str]:
        batched = self._shortcuts.batched.get((parent_type.name, name))
        if batched is not None and not definition.args:
            return _batched_reader(batched), "batched"
        with_arguments = self._shortcuts.with_arguments.get((parent_type.name, name))
        if with_arguments is not None:

            def read_with_arguments(parents: list[Any], run: _Run) -> _Column:
                arguments = get_argument_values(definition, nodes[0], run.variables)
                return with_arguments(parents, run.context, arguments)

            return read_with_arguments, "with-arguments"
        strawberry_field = (definition.extensions or {}).get("strawberry-definition")
        if (
            strawberry_field is not None
            and strawberry_field.base_resolver is None
            and not definition.args
        ):
            getter = operator.attrgetter(strawberry_field.python_name)

            def read_attribute(parents: list[Any], _run: _Run) -> list[Any]:
                return list(map(getter, parents))

            return read_attribute, "attribute"
        resolve = definition.resolve
        if resolve is None:
            raise _GiveUp

        async def read_resolved(parents: list[Any], run: _Run) -> list[Any]:
            arguments = get_argument_values(definition, nodes[0], run.variables)
            values: list[Any] = []
            for index, parent in enumerate(parents):
                info = _resolve_info(
                    run, name, nodes, definition.type, parent_type, Path(None, index, None)
                )
                values.append(resolve(parent, info, **arguments))
            pending = [i for i, value in enumerate(values) if isawaitable(value)]
            if len(pending) == 1:
                # One awaitable needs no task of its own.
                values[pending[0]] = await values[pending[0]]
            elif pending:
                done = await asyncio.gather(*(values[i] for i in pending))
                for i, value in zip(pending, done, strict=True):
                    values[i] = value
            return values

        return read_resolved, "resolved"

    def _completer(
        self,
        return_type: GraphQLOutputType,
        nodes: list[FieldNode],
        parent_type: GraphQLObjectType,
        *,
        shared: bool = False,
    ) -> _Step:
        non_null = isinstance(return_type, GraphQLNonNull)
        inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if isinstance(inner, GraphQLList):
            item_complete = self._completer(inner.of_type, nodes, parent_type)

            def complete_list(values: list[Any], run: _Run) -> _Column:
                lengths = []
                items: list[Any] = []
                for value in values:
                    if value is None:
                        if non_null:
                            raise _GiveUp
                        lengths.append(-1)
                        continue
                    if isinstance(value, (str, bytes, Mapping)):
                        raise _GiveUp
                    chunk = list(value)
                    lengths.append(len(chunk))
                    items.extend(chunk)
                kinds = set(map(type, items))
                if any(issubclass(kind, Exception) for kind in kinds):
                    raise _GiveUp  # an error in place of an item
                if any(hasattr(kind, "__await__") for kind in kinds):
                    # Items still to come (a DataLoader's futures): each is awaited, as
                    # graphql-core awaits them.
                    settled = _settle_items(items)
                    return _then(
                        _then(settled, lambda done: item_complete(done, run)),
                        lambda done: _split(done, lengths),
                    )
                return _then(item_complete(items, run), lambda done: _split(done, lengths))

            return complete_list
        if isinstance(inner, GraphQLObjectType):
            if inner.is_type_of is not None:
                raise _GiveUp  # a check per object that graphql-core would run
            selection_sets = [node.selection_set for node in nodes if node.selection_set]
            sub_plan = self.object_plan(inner, selection_sets)

            def complete_object(values: list[Any], run: _Run) -> _Column:
                if non_null and None in values:
                    raise _GiveUp
                if not shared:
                    if None not in values:
                        return _complete_objects(sub_plan, values, run)
                    present = [value for value in values if value is not None]

                    def refill(built: list[Any]) -> list[Any]:
                        each = iter(built)
                        return [None if value is None else next(each) for value in values]

                    return _then(_complete_objects(sub_plan, present, run), refill)
                # Batched relations hand many parents one shared object (the same
                # connection type on a whole page): each is completed once, its result
                # shared.
                distinct = dict(zip(map(id, values), values, strict=True))
                distinct.pop(_NONE_ID, None)

                def share(built: list[Any]) -> list[Any]:
                    by_identity = dict(zip(distinct, built, strict=True))
                    return list(map(by_identity.get, map(id, values)))

                return _then(_complete_objects(sub_plan, list(distinct.values()), run), share)

            return complete_object
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            serialize = _serializer(inner)

            column_ok = _column_check(inner)

            def complete_leaf(values: list[Any], _run: _Run) -> list[Any]:
                kinds = set(map(type, values))
                if non_null and _NONE_TYPE in kinds:
                    raise _GiveUp
                if column_ok is not None and column_ok(kinds, values):
                    return values  # already what serialize would give
                results = [None if value is None else serialize(value) for value in values]
                # A value that serializes to null is an error.
                if sum(r is None for r in results) != sum(v is None for v in values):
                    raise _GiveUp
                return results

            return complete_leaf
        if isinstance(inner, GraphQLUnionType | GraphQLInterfaceType):
            return self._abstract_completer(inner, non_null, nodes, parent_type)
        raise _GiveUp


async def _settle_items(items: list[Any]) -> list[Any]:
    """The items with each awaitable one replaced by its result."""
    pending = [i for i, item in enumerate(items) if isawaitable(item)]
    return await _settle_at(items, pending)


def _reads_only_attributes(plan: _ObjectPlan) -> bool:
    """Whether the plan's results depend on nothing but its objects' attributes: no
    resolvers, no arguments, no context, only leaves."""
    return all(
        field_plan.kind in ("typename", "attribute")
        and isinstance(get_nullable_type(field_plan.definition.type), _LEAF_TYPES)
        for field_plan in plan.fields
    )


def _objects_of(relation: Relation, run: _Run) -> Mapping[Any, Any]:
    objects = relation.objects(run.context)
    if objects is None:
        raise _GiveUp  # dropped by a write since the keys were read
    return objects


def _completed_by_key(relation: Relation, plan: _ObjectPlan, non_null: bool) -> _Step:
    """Results of a relation whose plan reads only attributes: each object of the table
    is completed once, when first asked for, and its result serves every later request
    until the table is replaced (tables are never changed in place)."""
    made: tuple[Mapping[Any, Any], dict[Any, Any]] = ({}, {})

    def complete_by_key(keys: list[Any], run: _Run) -> list[Any]:
        nonlocal made
        objects = _objects_of(relation, run)
        if made[0] is not objects:
            made = (objects, {})
        results = made[1]
        missing = set(keys).difference(results)
        if missing:
            found = [key for key in missing if objects.get(key) is not None]
            built = _complete_objects(plan, [objects[key] for key in found], run)
            assert type(built) is list  # attribute reads and leaves finish at once
            results.update(dict.fromkeys(missing))
            results.update(zip(found, built, strict=True))
        completed = list(map(results.__getitem__, keys))
        if non_null and None in completed:
            raise _GiveUp
        return completed

    return complete_by_key


def _complete_objects(plan: _ObjectPlan, objects: list[Any], run: _Run) -> _Column:
    """The result objects of one level: a list when every step could finish at once,
    else an awaitable of it (steps that must wait run concurrently)."""
    if not objects:
        return []
    if not plan.fields:
        # Every field skipped (@skip/@include): graphql-core answers an empty object
        # each, and `map` below needs at least one column.
        return [{} for _ in objects]
    values: list[_Column] = []
    try:
        for field_plan in plan.fields:
            values.append(field_plan.read(objects, run))
    except Exception:
        _close(values)
        raise
    if not all(type(value) is list for value in values):
        return _complete_objects_later(plan, values, run)
    return _build(plan, values, run)


async def _complete_objects_later(plan: _ObjectPlan, values: list[_Column], run: _Run) -> list[Any]:
    built = _build(plan, await _settle(values), run)
    return built if type(built) is list else await built


def _build(plan: _ObjectPlan, values: list[Any], run: _Run) -> _Column:
    columns: list[_Column] = []
    try:
        for field_plan, column in zip(plan.fields, values, strict=True):
            columns.append(field_plan.complete(column, run))
    except Exception:
        _close(columns)
        raise
    if not all(type(column) is list for column in columns):
        return _then(_settle(columns), lambda done: list(map(plan.build, *done)))
    return list(map(plan.build, *columns))


def _close(steps: list[_Column]) -> None:
    """Closes the steps' coroutines that will not be awaited, now that a sibling failed."""
    for step in steps:
        if asyncio.iscoroutine(step):
            step.close()


def _then(column: _Column, finish: Callable[[list[Any]], _Column]) -> _Column:
    """``finish(column)``, now or once the column is ready."""
    if type(column) is list:
        return finish(column)

    async def later() -> list[Any]:
        finished = finish(await column)
        return finished if type(finished) is list else await finished

    return later()


def _split(items: list[Any], lengths: list[int]) -> list[Any]:
    results: list[Any] = []
    start = 0
    for length in lengths:
        if length < 0:
            results.append(None)
        else:
            results.append(items[start : start + length])
            start += length
    return results


async def _settle(steps: list[Any]) -> list[Any]:
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


def _as_is(values: list[Any], _run: _Run) -> list[Any]:
    return values


_NONE_ID: Final = id(None)
_TYPENAME_FIELD: Final = GraphQLField(GraphQLNonNull(GraphQLString))


def _batched_reader(batched: BatchResolver) -> _Step:
    def read_batched(parents: list[Any], run: _Run) -> _Column:
        return batched(parents, run.context)

    return read_batched


_PLAIN_KINDS: Final = frozenset({"typename", "attribute", "batched"})
_LEAF_TYPES: Final = (GraphQLScalarType, GraphQLEnumType)


def _resolve_info(
    run: _Run,
    name: str,
    nodes: list[FieldNode],
    return_type: GraphQLOutputType,
    parent_type: GraphQLObjectType,
    path: Path,
) -> GraphQLResolveInfo[Any]:
    return GraphQLResolveInfo(
        name,
        nodes,
        return_type,
        parent_type,
        path,
        run.schema,
        run.fragments,
        run.root_value,
        run.operation,
        run.variables,
        run.context,
        _is_awaitable,
        None,
        None,  # type: ignore[arg-type]
    )


def _is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    return isawaitable(value)


_ColumnCheck = Callable[[set[type], list[Any]], bool]


def _column_check(leaf: GraphQLScalarType | GraphQLEnumType) -> _ColumnCheck | None:
    """For built-in scalars, a check over a whole column (given the types in it) that
    graphql-core's serialize would return every value unchanged, nulls included."""
    if leaf is GraphQLInt:
        return lambda kinds, values: (
            kinds <= _INT_OR_NONE
            and _in_int_range(_present(values) if _NONE_TYPE in kinds else values)
        )
    if leaf is GraphQLFloat:
        # A finite sum means no value is infinite or NaN (a sum that overflows only sends
        # the column the slow way).
        return lambda kinds, values: (
            kinds <= _FLOAT_OR_NONE
            and math.isfinite(sum(_present(values) if _NONE_TYPE in kinds else values))
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


_NONE_TYPE: Final = type(None)
_INT_OR_NONE: Final = frozenset({int, _NONE_TYPE})
_FLOAT_OR_NONE: Final = frozenset({float, _NONE_TYPE})
_STR_OR_NONE: Final = frozenset({str, _NONE_TYPE})
_BOOL_OR_NONE: Final = frozenset({bool, _NONE_TYPE})


def _serializer(leaf: GraphQLScalarType | GraphQLEnumType) -> Callable[[Any], Any]:
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
