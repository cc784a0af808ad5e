"""Accept negotiation (gql/http/media.py), per the GraphQL-over-HTTP specification."""

from __future__ import annotations

import pytest

from gql.http.media import ResponseMedia, negotiate

GRAPHQL = "application/graphql-response+json"
JSON = "application/json"


def test_media_type_values_and_content_types() -> None:
    assert ResponseMedia.GRAPHQL_RESPONSE_JSON.value == GRAPHQL
    assert ResponseMedia.JSON.value == JSON
    assert ResponseMedia.GRAPHQL_RESPONSE_JSON.content_type == f"{GRAPHQL}; charset=utf-8"
    assert ResponseMedia.JSON.content_type == f"{JSON}; charset=utf-8"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # No preference at all: legacy application/json.
        (None, ResponseMedia.JSON),
        ("", ResponseMedia.JSON),
        ("   ", ResponseMedia.JSON),
        # Wildcards stand for application/json.
        ("*/*", ResponseMedia.JSON),
        ("application/*", ResponseMedia.JSON),
        ("text/html, */*;q=0.1", ResponseMedia.JSON),
        # Each type alone.
        (GRAPHQL, ResponseMedia.GRAPHQL_RESPONSE_JSON),
        (JSON, ResponseMedia.JSON),
        (f"{GRAPHQL};q=0.01", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        (f"{JSON};q=0.01", ResponseMedia.JSON),
        # Both, either one winning on q.
        (f"{GRAPHQL};q=0.9, {JSON};q=0.8", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL};q=0.8, {JSON};q=0.9", ResponseMedia.JSON),
        (f"{JSON}, {GRAPHQL};q=0.5", ResponseMedia.JSON),
        (f"{JSON};q=0.5, {GRAPHQL}", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        # Equal weight: the newer type, whatever the order.
        (f"{JSON}, {GRAPHQL}", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL}, {JSON}", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        (f"{JSON};q=0.7, {GRAPHQL};q=0.7", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        # A wildcard weighs for application/json against the specific type.
        (f"{GRAPHQL};q=0.5, */*", ResponseMedia.JSON),
        (f"{GRAPHQL}, */*;q=0.5", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL}, */*", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        # An explicit application/json weight wins over the wildcard's.
        (f"{JSON};q=0.2, {GRAPHQL};q=0.5, */*", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        # The highest q of a repeated range counts.
        (f"{JSON};q=0.1, {GRAPHQL};q=0.5, {JSON};q=0.9", ResponseMedia.JSON),
    ],
)
def test_negotiate(accept: str | None, expected: ResponseMedia) -> None:
    assert negotiate(accept) is expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{JSON}; charset=utf-8", ResponseMedia.JSON),
        (f"{GRAPHQL}; charset=utf-8", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL}; charset=utf-8; q=0.4, {JSON}; charset=utf-8; q=0.6", ResponseMedia.JSON),
        (f"{JSON}; q=0.4; charset=utf-8, {GRAPHQL}; q=0.6", ResponseMedia.GRAPHQL_RESPONSE_JSON),
    ],
)
def test_other_parameters_are_ignored(accept: str, expected: ResponseMedia) -> None:
    assert negotiate(accept) is expected


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "text/html, application/xhtml+xml, application/xml;q=0.9",
        "text/*",
        "application/graphql",  # neither response type, not a wildcard
        ",",
    ],
)
def test_nothing_acceptable(accept: str) -> None:
    assert negotiate(accept) is None


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (f"{JSON};q=0", None),
        (f"{GRAPHQL};q=0", None),
        ("*/*;q=0", None),
        ("application/*;q=0", None),
        (f"{JSON};q=0, {GRAPHQL};q=0", None),
        (f"{JSON};q=0.0, {GRAPHQL}", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL};q=0, {JSON}", ResponseMedia.JSON),
        (f"{GRAPHQL};q=0, */*", ResponseMedia.JSON),
        (f"{GRAPHQL};q=0, {JSON};q=0.001", ResponseMedia.JSON),
    ],
)
def test_q_zero_excludes(accept: str, expected: ResponseMedia | None) -> None:
    assert negotiate(accept) is expected


@pytest.mark.parametrize("wildcard", ["*/*", "application/*"])
def test_wildcard_covers_graphql_response_when_json_is_refused(wildcard: str) -> None:
    assert negotiate(f"{JSON};q=0, {wildcard}") is ResponseMedia.GRAPHQL_RESPONSE_JSON


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        # Unparseable q values count as q=0 ...
        (f"{JSON};q=abc", None),
        (f"{JSON};q=", None),
        (f"{JSON};q=nan", None),
        ("*/*;q=high", None),
        # ... so the other type wins even at a low weight.
        (f"{JSON};q=abc, {GRAPHQL};q=0.1", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL};q=oops, {JSON};q=0.1", ResponseMedia.JSON),
        # Out-of-range values are clamped to [0, 1].
        (f"{JSON};q=-1", None),
        (f"{JSON};q=5, {GRAPHQL}", ResponseMedia.GRAPHQL_RESPONSE_JSON),  # 5 -> 1: a tie
        (f"{JSON};q=inf, {GRAPHQL};q=0.9", ResponseMedia.JSON),
        # Spaces around the parameter are tolerated.
        (f"{JSON} ; q = 0.3 , {GRAPHQL} ; q = 0.2", ResponseMedia.JSON),
    ],
)
def test_odd_q_values(accept: str, expected: ResponseMedia | None) -> None:
    assert negotiate(accept) is expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("APPLICATION/JSON", ResponseMedia.JSON),
        ("Application/GraphQL-Response+JSON", ResponseMedia.GRAPHQL_RESPONSE_JSON),
        ("APPLICATION/*", ResponseMedia.JSON),
        (f"{GRAPHQL};Q=0.2, {JSON};Q=0.3", ResponseMedia.JSON),
        (f"{GRAPHQL};Q=0, Application/Json", ResponseMedia.JSON),
    ],
)
def test_case_insensitive(accept: str, expected: ResponseMedia) -> None:
    assert negotiate(accept) is expected
