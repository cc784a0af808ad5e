"""Maximum selection depth, fragments followed (a cycle is another rule's error)."""

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
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = _depth(node.selection_set, self.context, set())
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
    selection_set: SelectionSetNode | None, context: ValidationContext, visiting: set[str]
) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.selection_set is not None:
                deepest = max(deepest, 1 + _depth(selection.selection_set, context, visiting))
            else:
                deepest = max(deepest, 1)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, context, visiting))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is None or name in visiting:
                continue
            deepest = max(deepest, _depth(fragment.selection_set, context, visiting | {name}))
    return deepest
