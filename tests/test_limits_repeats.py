"""Repeated response keys are counted per selection set, before validation."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from gql.graphql.limits import repeats as repeats_module
from gql.graphql.limits.repeats import TOO_MANY_REPEATED_FIELDS, repeated_fields_error


@pytest.mark.parametrize(
    ("query", "repeats"),
    [
        ("{ levels { id } levels { title } }", 2),
        ("{ a: levels { id } a: statusTypes { id } levels { id } }", 2),
        ("{ levels { id id id } }", 3),
        ("{ ... on Query { levels { id } } levels { id } }", 2),
        ("{ ...F ...F ...F } fragment F on Query { levels { id } }", 3),
        ("query { levels { id } } fragment F on Query { x { y y y y } }", 4),
    ],
)
def test_the_most_repeated_key_counts(query: str, repeats: int) -> None:
    assert repeated_fields_error(parse(query), repeats) is None
    error = repeated_fields_error(parse(query), repeats - 1)
    assert error is not None
    assert error.extensions == {
        "code": TOO_MANY_REPEATED_FIELDS,
        "repeats": repeats,
        "maxRepeats": repeats - 1,
    }


def test_distinct_fields_are_not_repeats() -> None:
    query = "{ levels { id title comments } statusTypes { id title } }"
    assert repeated_fields_error(parse(query), 1) is None


def test_each_selection_is_counted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """graphql-core compares repeats pairwise (450 of them: ~100,000 comparisons); this
    check visits each selection set once."""
    document = parse("{ " + "levels { id } " * 450 + "}", max_tokens=10_000)
    visits: list[object] = []
    count = repeats_module._count

    def counted(selection_set: Any, *args: Any) -> None:
        visits.append(selection_set)
        count(selection_set, *args)

    monkeypatch.setattr(repeats_module, "_count", counted)
    assert repeated_fields_error(document, 10) is not None
    # The operation's selection set and each of the 450 `levels { id }`.
    assert len(visits) == 451
