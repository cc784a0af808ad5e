"""Maximum selection depth, fragments followed (a cycle is another rule's error).

Each fragment's depth is computed once per document: a fragment spread many times, by
fragments that are themselves spread many times, would otherwise be walked an
exponential number of times.
"""

from __future__ import annotations

from typing import Any, Final

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

QUERY_TOO_DEEP: Final = "QUERY_TOO_DEEP"


def max_depth_rule(limit: int) -> type[ValidationRule]:
    class MaxDepthRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._fragment_depths: dict[str, int] = {}

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = _depth(node.selection_set, self.context, frozenset(), self._fragment_depths)
            if depth > limit:
                name = node.name.value if node.name else "anonymous operation"
                self.report_error(
                    GraphQLError(
                        f"'{name}' is {depth} levels deep; at most {limit} are allowed.",
                        node,
                        extensions={"code": QUERY_TOO_DEEP, "depth": depth, "maxDepth": limit},
                    )
                )

    return MaxDepthRule


def _depth(
    selection_set: SelectionSetNode | None,
    context: ValidationContext,
    visiting: frozenset[str],
    fragment_depths: dict[str, int],
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            below = _depth(selection.selection_set, context, visiting, fragment_depths)
            deepest = max(deepest, 1 + below)
        elif isinstance(selection, InlineFragmentNode):
            below = _depth(selection.selection_set, context, visiting, fragment_depths)
            deepest = max(deepest, below)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in fragment_depths:
                fragment = context.get_fragment(name)
                if fragment is None or name in visiting:
                    continue
                fragment_depths[name] = _depth(
                    fragment.selection_set, context, visiting | {name}, fragment_depths
                )
            deepest = max(deepest, fragment_depths[name])
    return deepest
