"""The alias rule (gql/graphql/limits/aliases.py) on its own, against the real schema."""

from __future__ import annotations

from graphql import GraphQLError, parse, validate

from gql.graphql.limits.aliases import TOO_MANY_ALIASES, max_aliases_rule
from gql.graphql.schema import schema

SCHEMA = schema._schema


def _errors(query: str, limit: int) -> list[GraphQLError]:
    return validate(SCHEMA, parse(query), [max_aliases_rule(limit)])


def _aliased_levels(count: int) -> str:
    return "{ " + " ".join(f"a{i}: levels {{ id }}" for i in range(count)) + " }"


def test_a_document_without_aliases_passes_even_a_limit_of_zero() -> None:
    assert _errors("{ levels { id } connectionInfos { nodes { id } } }", 0) == []


def test_at_the_limit_passes_and_one_over_is_refused() -> None:
    assert _errors(_aliased_levels(3), 3) == []
    [error] = _errors(_aliased_levels(4), 3)
    assert error.extensions == {"code": TOO_MANY_ALIASES, "aliases": 4, "maxAliases": 3}
    assert error.message == "The document has 4 aliases; at most 3 are allowed."


def test_every_alias_counts_wherever_it_is() -> None:
    document = """
        query A { one: levels { levelId: id } ...Q }
        query B { two: statusTypes { id } }
        fragment Q on Query { three: connectionInfos { nodes { powerKw, kw: powerKw } } }
    """
    [error] = _errors(document, 4)
    assert error.extensions is not None
    assert error.extensions["aliases"] == 5
    # An alias that repeats the field's own name is still an alias.
    [same_name] = _errors("{ levels: levels { id } }", 0)
    assert same_name.extensions is not None
    assert same_name.extensions["aliases"] == 1


def test_counted_per_document_once_even_for_a_fragment_spread_twice() -> None:
    # The limit is on the document's text ("50 per document"); repeated work through
    # spreads is what the cost limit measures.
    document = """
        { a: connectionInfos { nodes { ...Two } } b: connectionInfos { nodes { ...Two } } }
        fragment Two on ConnectionInfo { x: id y: amps }
    """
    assert _errors(document, 4) == []
    assert len(_errors(document, 3)) == 1


def test_one_error_per_document_however_far_over() -> None:
    errors = _errors(_aliased_levels(200), 1)
    assert len(errors) == 1
    assert errors[0].extensions is not None
    assert errors[0].extensions["aliases"] == 200
