"""Maximum repeats of one response key (or one fragment spread) in a selection set.

Checked before validation: graphql-core proves repeated fields can be merged by
comparing them pairwise, so a few thousand copies of `levels { id }` (well within the
token limit) would hold the event loop for a second. Real documents repeat a key a few
times at most, when fragments and direct selections meet.
"""

from __future__ import annotations

from collections import Counter
from typing import Final

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

TOO_MANY_REPEATED_FIELDS: Final = "TOO_MANY_REPEATED_FIELDS"


def repeated_fields_error(document: DocumentNode, limit: int) -> GraphQLError | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            found = _most_repeated(definition.selection_set)
            if found is not None and found[1] > limit:
                key, count = found
                return GraphQLError(
                    f"'{key}' is selected {count} times in one selection set; at most "
                    f"{limit} are allowed.",
                    extensions={
                        "code": TOO_MANY_REPEATED_FIELDS,
                        "repeats": count,
                        "maxRepeats": limit,
                    },
                )
    return None


def _most_repeated(selection_set: SelectionSetNode) -> tuple[str, int] | None:
    """The most repeated key, over this selection set and every one nested in it."""
    counts: Counter[str] = Counter()
    worst: tuple[str, int] | None = None
    pending = [selection_set]
    while pending:
        current = pending.pop()
        counts.clear()
        _count(current, counts, pending)
        if counts:
            key, count = counts.most_common(1)[0]
            if worst is None or count > worst[1]:
                worst = (key, count)
    return worst


def _count(
    selection_set: SelectionSetNode, counts: Counter[str], pending: list[SelectionSetNode]
) -> None:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            counts[selection.alias.value if selection.alias else selection.name.value] += 1
            if selection.selection_set is not None:
                pending.append(selection.selection_set)
        elif isinstance(selection, FragmentSpreadNode):
            counts[f"...{selection.name.value}"] += 1
        elif isinstance(selection, InlineFragmentNode):
            # Its fields land in the same selection set as its siblings.
            _count(selection.selection_set, counts, pending)
