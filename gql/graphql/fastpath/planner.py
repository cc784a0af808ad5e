"""The planner: an operation's plan, made once per (document, operation, @include/@skip
values) and kept with the document in the document cache."""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Awaitable, Hashable, Mapping
from inspect import isawaitable
from typing import Any, Final, TypeGuard

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLString,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    Visitor,
    get_nullable_type,
    visit,
)
from graphql.execution.values import get_argument_values, get_directive_values
from graphql.pyutils import Path
from graphql.type import GraphQLIncludeDirective, GraphQLSkipDirective

from gql.graphql.documents import document_cache
from gql.graphql.fastpath.columns import (
    as_is,
    batched_reader,
    complete_objects,
    completed_by_key,
    objects_of,
    row_builder,
    settle,
    settle_items,
    split,
    then,
)
from gql.graphql.fastpath.fallback import GiveUp
from gql.graphql.fastpath.leaves import NONE_TYPE, column_check, serializer
from gql.graphql.fastpath.plans import Column, FieldPlan, ObjectPlan, Run, Step
from gql.graphql.fastpath.shortcuts import Relation, Shortcuts
from gql.observability.metrics.caches import Cache, looked_up


def operation_plan(
    document: DocumentNode, operation_name: str | None, run: Run, shortcuts: Shortcuts
) -> ObjectPlan:
    """The plan of the run's operation: the cached one, or one made now and cached."""
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
    _plan_looked_up(document, key, isinstance(cached, ObjectPlan))
    if isinstance(cached, ObjectPlan):
        return cached
    root_type = run.schema.query_type
    assert root_type is not None
    planner = Planner(run, shortcuts)
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


class Planner:
    def __init__(self, run: Run, shortcuts: Shortcuts) -> None:
        self._run = run
        self._shortcuts = shortcuts
        self._made: list[ObjectPlan] = []

    def object_plan(
        self, object_type: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> ObjectPlan:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(object_type, selection_set, grouped, set())
        plan = ObjectPlan(object_type)
        self._made.append(plan)
        for key, nodes in grouped.items():
            plan.fields.append(self._field_plan(object_type, key, nodes))
        plan.build = row_builder([field_plan.key for field_plan in plan.fields])
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
                        raise GiveUp  # fragment arguments are experimental
                    continue
                visited.add(name)
                fragment = self._run.fragments.get(name)
                if fragment is None:
                    raise GiveUp
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
                raise GiveUp  # @defer, @stream, or anything else
        skip = get_directive_values(GraphQLSkipDirective, node, self._run.variables)
        if skip is not None and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, self._run.variables)
        return not (include is not None and include.get("if") is False)

    def _field_plan(
        self, parent_type: GraphQLObjectType, key: str, nodes: list[FieldNode]
    ) -> FieldPlan:
        name = nodes[0].name.value
        if name == "__typename":
            type_name = parent_type.name

            def typename(parents: list[Any], _run: Run) -> list[Any]:
                return [type_name] * len(parents)

            return FieldPlan(
                key, name, _TYPENAME_FIELD, parent_type, nodes, typename, as_is, "typename"
            )
        definition = parent_type.fields.get(name)
        if definition is None:
            raise GiveUp  # introspection (__schema, __type) or an unknown field
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
                read = batched_reader(stand_in.resolve)
                return FieldPlan(
                    key, name, definition, parent_type, nodes, read, complete, "stand-in"
                )
        read, kind = self._reader(parent_type, name, definition, nodes)
        complete = self._completer(definition.type, nodes, parent_type, shared=shared)
        return FieldPlan(key, name, definition, parent_type, nodes, read, complete, kind)

    def _relation_plan(
        self,
        relation: Relation,
        parent_type: GraphQLObjectType,
        key: str,
        definition: GraphQLField,
        nodes: list[FieldNode],
    ) -> FieldPlan:
        """A relation's keys are read as a column; their objects come from its table."""
        read_key = operator.attrgetter(relation.key)

        def read_keys(parents: list[Any], run: Run) -> Column:
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
            raise GiveUp
        made = len(self._made)
        objects_complete = self._completer(definition.type, nodes, parent_type, shared=True)
        sub_plan = self._made[made]
        assert sub_plan.type is related
        if _reads_only_attributes(sub_plan):
            complete = completed_by_key(relation, sub_plan, non_null)
        else:

            def complete(keys: list[Any], run: Run) -> Column:
                return objects_complete(list(map(objects_of(relation, run).get, keys)), run)

        return FieldPlan(
            key, nodes[0].name.value, definition, parent_type, nodes, read_keys, complete, "batched"
        )

    def _abstract_completer(
        self,
        abstract: GraphQLUnionType | GraphQLInterfaceType,
        non_null: bool,
        nodes: list[FieldNode],
        parent_type: GraphQLObjectType,
    ) -> Step:
        """A union or interface: each object's type is resolved as graphql-core resolves
        it, then each type's objects are completed together with that type's plan."""
        resolve_type = abstract.resolve_type
        if resolve_type is None:
            raise GiveUp  # graphql-core's default resolver, which may await is_type_of
        selection_sets = [node.selection_set for node in nodes if node.selection_set]
        plans: dict[str, ObjectPlan] = {}
        for object_type in self._run.schema.get_possible_types(abstract):
            if object_type.is_type_of is not None:
                raise GiveUp
            plans[object_type.name] = self.object_plan(object_type, selection_sets)
        name = nodes[0].name.value

        def complete_abstract(values: list[Any], run: Run) -> Column:
            info = _resolve_info(run, name, nodes, abstract, parent_type, Path(None, 0, None))
            groups: dict[str, list[int]] = {}
            for index, value in enumerate(values):
                if value is None:
                    if non_null:
                        raise GiveUp
                    continue
                type_name = resolve_type(value, info, abstract)
                if type(type_name) is not str or type_name not in plans:
                    raise GiveUp  # awaitable, or not one of the abstract type's objects
                groups.setdefault(type_name, []).append(index)
            indices = list(groups.values())
            columns = [
                complete_objects(plans[type_name], [values[i] for i in group], run)
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
            return then(settle(columns), place)

        return complete_abstract

    def _reader(
        self,
        parent_type: GraphQLObjectType,
        name: str,
        definition: GraphQLField,
        nodes: list[FieldNode],
    ) -> tuple[Step, str]:
        batched = self._shortcuts.batched.get((parent_type.name, name))
        if batched is not None and not definition.args:
            return batched_reader(batched), "batched"
        with_arguments = self._shortcuts.with_arguments.get((parent_type.name, name))
        if with_arguments is not None:

            def read_with_arguments(parents: list[Any], run: Run) -> Column:
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

            def read_attribute(parents: list[Any], _run: Run) -> list[Any]:
                return list(map(getter, parents))

            return read_attribute, "attribute"
        resolve = definition.resolve
        if resolve is None:
            raise GiveUp

        async def read_resolved(parents: list[Any], run: Run) -> list[Any]:
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
    ) -> Step:
        non_null = isinstance(return_type, GraphQLNonNull)
        inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        if isinstance(inner, GraphQLList):
            item_complete = self._completer(inner.of_type, nodes, parent_type)

            def complete_list(values: list[Any], run: Run) -> Column:
                lengths = []
                items: list[Any] = []
                for value in values:
                    if value is None:
                        if non_null:
                            raise GiveUp
                        lengths.append(-1)
                        continue
                    if isinstance(value, (str, bytes, Mapping)):
                        raise GiveUp
                    chunk = list(value)
                    lengths.append(len(chunk))
                    items.extend(chunk)
                kinds = set(map(type, items))
                if any(issubclass(kind, Exception) for kind in kinds):
                    raise GiveUp  # an error in place of an item
                if any(hasattr(kind, "__await__") for kind in kinds):
                    # Items still to come (a DataLoader's futures): each is awaited, as
                    # graphql-core awaits them.
                    settled = settle_items(items)
                    return then(
                        then(settled, lambda done: item_complete(done, run)),
                        lambda done: split(done, lengths),
                    )
                return then(item_complete(items, run), lambda done: split(done, lengths))

            return complete_list
        if isinstance(inner, GraphQLObjectType):
            if inner.is_type_of is not None:
                raise GiveUp  # a check per object that graphql-core would run
            selection_sets = [node.selection_set for node in nodes if node.selection_set]
            sub_plan = self.object_plan(inner, selection_sets)

            def complete_object(values: list[Any], run: Run) -> Column:
                if non_null and None in values:
                    raise GiveUp
                if not shared:
                    if None not in values:
                        return complete_objects(sub_plan, values, run)
                    present = [value for value in values if value is not None]

                    def refill(built: list[Any]) -> list[Any]:
                        each = iter(built)
                        return [None if value is None else next(each) for value in values]

                    return then(complete_objects(sub_plan, present, run), refill)
                # Batched relations hand many parents one shared object (the same
                # connection type on a whole page): each is completed once, its result
                # shared.
                distinct = dict(zip(map(id, values), values, strict=True))
                distinct.pop(_NONE_ID, None)

                def share(built: list[Any]) -> list[Any]:
                    by_identity = dict(zip(distinct, built, strict=True))
                    return list(map(by_identity.get, map(id, values)))

                return then(complete_objects(sub_plan, list(distinct.values()), run), share)

            return complete_object
        if isinstance(inner, GraphQLScalarType | GraphQLEnumType):
            serialize = serializer(inner)

            column_ok = column_check(inner)

            def complete_leaf(values: list[Any], _run: Run) -> list[Any]:
                kinds = set(map(type, values))
                if non_null and NONE_TYPE in kinds:
                    raise GiveUp
                if column_ok is not None and column_ok(kinds, values):
                    return values  # already what serialize would give
                results = [None if value is None else serialize(value) for value in values]
                # A value that serializes to null is an error.
                if sum(r is None for r in results) != sum(v is None for v in values):
                    raise GiveUp
                return results

            return complete_leaf
        if isinstance(inner, GraphQLUnionType | GraphQLInterfaceType):
            return self._abstract_completer(inner, non_null, nodes, parent_type)
        raise GiveUp


def _reads_only_attributes(plan: ObjectPlan) -> bool:
    """Whether the plan's results depend on nothing but its objects' attributes: no
    resolvers, no arguments, no context, only leaves."""
    return all(
        field_plan.kind in ("typename", "attribute")
        and isinstance(get_nullable_type(field_plan.definition.type), _LEAF_TYPES)
        for field_plan in plan.fields
    )


_NONE_ID: Final = id(None)
_TYPENAME_FIELD: Final = GraphQLField(GraphQLNonNull(GraphQLString))
_PLAIN_KINDS: Final = frozenset({"typename", "attribute", "batched"})
_LEAF_TYPES: Final = (GraphQLScalarType, GraphQLEnumType)


def _resolve_info(
    run: Run,
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
