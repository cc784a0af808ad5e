"""Abusive requests, each with the codes it must be refused with: what the limits are for.
Shared by the load test and the memory test."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

ORDERS = ["ID_ASC", "ID_DESC", "POWER_KW_ASC", "POWER_KW_DESC"]


def too_deep(rng: random.Random) -> dict[str, Any]:
    depth = rng.randint(17, 40)
    return {
        "query": "{ "
        + "connectionInfos { nodes { " * (depth // 2)
        + "id"
        + " } }" * (depth // 2)
        + " }"
    }


def too_many_aliases(rng: random.Random) -> dict[str, Any]:
    count = rng.randint(51, 120)
    return {"query": "{ " + " ".join(f"a{i}: levels {{ id }}" for i in range(count)) + " }"}


def too_costly(rng: random.Random) -> dict[str, Any]:
    """Pages of 1,000 with every field and relation cost 22,001 each (README): five or
    more are over the 100,000 limit."""
    node = (
        "id connectionTypeId reference statusTypeId amps voltage powerKw currentTypeId"
        " quantity comments chargePointId connectionType { id title formalName isDiscontinued"
        " isObsolete } statusType { id title isOperational isUserSelectable } level { id title"
        " comments isFastChargeCapable } currentType { id title description }"
    )
    pages = " ".join(
        f"p{i}: connectionInfos(first: 1000, orderBy: {rng.choice(ORDERS)})"
        f" {{ nodes {{ {node} }} }}"
        for i in range(rng.randint(5, 9))
    )
    return {"query": "{ " + pages + " }"}


def too_many_tokens(rng: random.Random) -> dict[str, Any]:
    return {"query": "{ levels { " + "id " * rng.randint(10_001, 12_000) + "} }"}


def too_large(rng: random.Random) -> bytes:
    padding = " " * (1_048_576 + rng.randint(1, 100_000))
    return json.dumps({"query": "{ levels { id } }" + padding}).encode()


def garbage_cursor(rng: random.Random) -> dict[str, Any]:
    return {
        "query": "query($c: String) { connectionInfos(first: 20, after: $c) { totalCount } }",
        "variables": {"c": rng.randbytes(rng.randint(1, 60)).hex()},
    }


def nested_variables(rng: random.Random) -> bytes:
    depth = rng.randint(2000, 20_000)
    return (
        '{"query": "query($ids: [Int!]) { connectionInfos(filter: {ids: $ids}) { totalCount } }",'
        ' "variables": {"ids": ' + "[" * depth + "]" * depth + "}}"
    ).encode()


def huge_string(rng: random.Random) -> dict[str, Any]:
    """A document that carries a 900 KB string: each is new text, refused unparsed."""
    cursor = rng.randbytes(450_000).hex()
    return {"query": f'{{ connectionInfos(first: 5, after: "{cursor}") {{ totalCount }} }}'}


def repeated_fields(rng: random.Random) -> dict[str, Any]:
    """Within the size and token limits, one field hundreds of times: graphql-core would
    compare them pairwise; they are refused before validation."""
    return {"query": "{ " + "levels { id } " * rng.randint(100, 480) + "}"}


ABUSES: dict[str, tuple[Callable[[random.Random], dict[str, Any] | bytes], set[str]]] = {
    "too-deep": (too_deep, {"QUERY_TOO_DEEP"}),
    "too-many-aliases": (too_many_aliases, {"TOO_MANY_ALIASES"}),
    "too-costly": (too_costly, {"QUERY_TOO_COMPLEX"}),
    "too-many-tokens": (too_many_tokens, {"TOO_MANY_TOKENS", "QUERY_TOO_LARGE"}),
    "too-large": (too_large, {"PAYLOAD_TOO_LARGE"}),
    "garbage-cursor": (garbage_cursor, {"BAD_USER_INPUT"}),
    "nested-variables": (nested_variables, {"BAD_REQUEST"}),
    "huge-string": (huge_string, {"QUERY_TOO_LARGE"}),
    "repeated-fields": (repeated_fields, {"TOO_MANY_REPEATED_FIELDS"}),
}
