"""The depth rule (gql/graphql/limits/depth.py) on its own, against the real schema."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLError, get_introspection_query, parse, validate

from gql.graphql.limits import depth as depth_module
from gql.graphql.limits.depth import QUERY_TOO_DEEP, max_depth_rule
from gql.graphql.schema import schema

SCHEMA = schema._schema


def _errors(query: str, limit: int) -> list[GraphQLError]:
    return validate(SCHEMA, parse(query), [max_depth_rule(limit)])


def _depth(query: str) -> int:
    """The depth the rule computes: with a limit of 0 it reports it."""
    [error] = _errors(query, 0)
    return int(error.extensions["depth"])  # type: ignore[index]


def test_each_field_level_counts_one() -> None:
    assert _depth("{ __typename }") == 1
    assert _depth("{ connectionInfos { totalCount } }") == 2
    assert _depth("{ connectionInfos { nodes { id } } }") == 3
    assert _depth("{ connectionInfos { edges { node { level { title } } } } }") == 5


def test_the_deepest_branch_decides() -> None:
    query = (
        "{ levels { id } connectionInfos { pageInfo { endCursor } nodes { statusType { id } } } }"
    )
    assert _depth(query) == 4


def test_at_the_limit_passes_and_one_over_is_refused() -> None:
    query = "{ connectionInfos(first: 1) { nodes { connectionType { title } } } }"  # 4 deep
    assert _errors(query, 4) == []
    [error] = _errors(query, 3)
    assert error.extensions == {"code": QUERY_TOO_DEEP, "depth": 4, "maxDepth": 3}
    assert error.message == "'anonymous operation' is 4 levels deep; at most 3 are allowed."
    assert error.locations is not None
    assert (error.locations[0].line, error.locations[0].column) == (1, 1)


def test_named_operations_are_named_and_each_is_checked() -> None:
    document = """
        query Shallow { levels { id } }
        query Deep { connectionInfos { nodes { level { title } } } }
    """
    [error] = _errors(document, 3)
    assert error.message == "'Deep' is 4 levels deep; at most 3 are allowed."


def test_fragments_are_followed_and_add_no_level_of_their_own() -> None:
    spread = """
        { connectionInfos { nodes { ...Relations } } }
        fragment Relations on ConnectionInfo { id level { ...Title } }
        fragment Title on LevelType { title }
    """
    assert _depth(spread) == 4
    inline = "{ connectionInfos { nodes { ... on ConnectionInfo { ... { level { title } } } } } }"
    assert _depth(inline) == 4
    root = "query { ...Root } fragment Root on Query { levels { id } }"
    assert _depth(root) == 2


def test_unknown_and_cyclic_fragments_do_not_hang_it() -> None:
    # Both documents are invalid; graphql-core's rules report why. This rule must end.
    unknown = "{ connectionInfos { nodes { ...Missing } } }"
    assert _errors(unknown, 10) == []
    cyclic = """
        { connectionInfos { nodes { ...A } } }
        fragment A on ConnectionInfo { id level { title } ...B }
        fragment B on ConnectionInfo { powerKw ...A }
    """
    assert _depth(cyclic) == 4


def test_fragments_spread_many_times_are_measured_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each fragment spreads the next twice: walked naively, 2^60 visits.
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60)]
    document = "\n".join(["query { ...F0 }", *fragments, "fragment F60 on Query { levels { id } }"])
    visits: list[object] = []
    walk = depth_module._depth

    def counted(*args: Any) -> int:
        visits.append(args[0])
        return walk(*args)

    monkeypatch.setattr(depth_module, "_depth", counted)
    [error] = _errors(document, 1)
    # Each of the 62 selection sets (and `levels`'s) once.
    assert len(visits) <= 2 * 63
    assert error.extensions is not None
    assert error.extensions["depth"] == 2


def test_the_introspection_query_fits_the_default_limit() -> None:
    # GraphiQL and codegen tools send this (15 levels, through TypeRef's ofType chain).
    full = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    assert _depth(full) == 15
    assert _errors(full, 15) == []
