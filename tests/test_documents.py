"""The document cache (gql/graphql/documents.py): a document is parsed, validated and costed
once, its plans live with it, the whole is bounded in bytes by an estimate that never falls
below what parsing allocates, and a refused document is not kept."""

from __future__ import annotations

import gc
import tracemalloc
import uuid
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import graphql
import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.graphql import documents
from gql.graphql.documents import DocumentCache, document_cache, estimated_size
from gql.graphql.fastpath.planner import Planner
from gql.graphql.limits import extension
from gql.settings import Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"


class Calls:
    def __init__(self) -> None:
        self.count = 0

    def counting(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return function(*args, **kwargs)

        return counted


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Calls:
    calls = Calls()
    monkeypatch.setattr(documents, "parse", calls.counting(graphql.parse))
    return calls


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> Calls:
    calls = Calls()
    monkeypatch.setattr(extension, "validate", calls.counting(graphql.validate))
    return calls


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> Calls:
    calls = Calls()
    original = Planner.object_plan
    monkeypatch.setattr(Planner, "object_plan", calls.counting(original))
    return calls


@pytest.fixture
def client(demo_db: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=demo_db))) as client:
        yield client


def _post(client: TestClient, query: str, **variables: Any) -> Any:
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    return response.json()


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


def _unique(template: str) -> str:
    """A document new to the process-wide cache: a unique alias."""
    return template.replace("ALIAS", f"a{uuid.uuid4().hex}")


def test_a_repeated_document_is_parsed_validated_and_planned_once(
    client: TestClient, parses: Calls, validations: Calls, plans: Calls
) -> None:
    query = _unique("{ ALIAS: connectionInfos(first: 2) { nodes { id level { id } } } }")
    assert "errors" not in _post(client, query)
    planned = plans.count
    for _ in range(2):
        assert "errors" not in _post(client, query)
    assert (parses.count, validations.count) == (1, 1)
    assert planned > 0
    assert plans.count == planned
    assert query in document_cache


def test_other_limits_validate_again_but_share_the_parse(
    demo_db: str, parses: Calls, validations: Calls
) -> None:
    query = _unique("{ ALIAS: connectionInfos(first: 2) { nodes { id } } }")
    for depth in (15, 7, 15):
        with TestClient(create_app(Settings(database_url=demo_db, max_depth=depth))) as client:
            assert "errors" not in _post(client, query)
    assert (parses.count, validations.count) == (1, 2)


def test_syntax_errors_are_parsed_once_and_kept(client: TestClient, parses: Calls) -> None:
    query = "{ levels { id " + uuid.uuid4().hex
    for _ in range(3):
        assert _codes(_post(client, query)) == ["GRAPHQL_PARSE_FAILED"]
    assert parses.count == 1


@pytest.mark.parametrize(
    ("template", "code"),
    [
        (
            "{ ALIAS: connectionInfos(first: 1000) { nodes { id " + "level { id } " * 4 + "} } "
            "b: connectionInfos(first: 1000) { nodes { id comments connectionType { title } "
            "statusType { title } currentType { title } } } "
            "c: connectionInfos(first: 1000) { nodes { id amps voltage reference quantity } } "
            "d: connectionInfos(first: 1000) { edges { cursor node { id powerKw } } } "
            "e: connectionInfos(first: 1000) { edges { node { level { title } } } } }",
            "QUERY_TOO_COMPLEX",
        ),
        ("{ ALIAS: levels { " + "id " * 11 + "} }", "TOO_MANY_REPEATED_FIELDS"),
        ("{ ALIAS: connectionInfos { nodes { level { id } nope } } }", "GRAPHQL_VALIDATION_FAILED"),
    ],
    ids=["cost", "repeats", "validation"],
)
def test_a_refused_document_is_parsed_once_per_request_and_not_kept(
    demo_db: str, parses: Calls, template: str, code: str
) -> None:
    query = _unique(template)
    with TestClient(create_app(Settings(database_url=demo_db, max_cost=20_000))) as client:
        for request in range(1, 4):
            assert code in _codes(_post(client, query))
            # The fast lane's parse is handed to the pipeline that words the refusal.
            assert parses.count == request
            assert query not in document_cache


def test_a_refused_document_is_freed_after_its_request(demo_db: str) -> None:
    query = _unique("{ ALIAS: levels { " + "id " * 11 + "} }")
    kept: list[weakref.ref[graphql.DocumentNode]] = []
    original = documents.parse

    def remembered(text: str, **options: Any) -> graphql.DocumentNode:
        document = original(text, **options)
        kept.append(weakref.ref(document))
        return document

    with TestClient(create_app(Settings(database_url=demo_db))) as client:
        documents.parse = remembered  # type: ignore[assignment]
        try:
            assert _codes(_post(client, query)) == ["TOO_MANY_REPEATED_FIELDS"]
        finally:
            documents.parse = original
    gc.collect()
    assert len(kept) == 1
    assert kept[0]() is None


def test_plans_go_with_their_document() -> None:
    cache = DocumentCache(max_bytes=200_000)
    document = cache.parse("{ levels { id } }", 2000)
    assert isinstance(document, graphql.DocumentNode)
    entry = cache.entry(document)
    assert entry is not None
    before = cache.bytes
    cache.add_plan(entry, "plan", object())
    assert cache.bytes > before
    alive = weakref.ref(document)
    del document, entry
    for n in range(200):  # other documents push it out
        cache.parse(f"{{ x{n}: levels {{ id title }} }}", 2000)
    gc.collect()
    assert alive() is None
    assert cache.bytes <= 200_000


def test_the_cache_holds_no_more_bytes_than_its_budget() -> None:
    cache = DocumentCache(max_bytes=1_000_000)
    big = " ".join(f"f{i}: levels {{ id }}" for i in range(150))
    for n in range(100):
        cache.parse(f"{{ n{n} {big} }}", 2000)
    assert 0 < cache.bytes <= 1_000_000
    assert len(cache) < 100


SHAPES = {
    "aliases": "{ "
    + " ".join(f"a{i}: connectionInfos(first: 3) {{ nodes {{ id powerKw }} }}" for i in range(90))
    + " }",
    "small": "{ levels { id title } }",
    "long string": '{ connectionInfos(after: "' + "x" * 4000 + '") { nodes { id } } }',
    "variables": "query Q(" + ", ".join(f"$v{i}: Int" for i in range(300)) + ") { levels { id } }",
    "fragment": "{ ...F } fragment F on Query { "
    + " ".join(f"b{i}: levels {{ id title }}" for i in range(200))
    + " }",
    "comment": "#" + "c" * 4000 + "\n{ levels { id } }",
    "nested": "{ " + "connectionInfos { nodes { " * 7 + "id" + " } }" * 7 + " }",
    "list": "{ connectionInfos(filter: {ids: ["
    + ",".join(str(i) for i in range(1500))
    + "]}) { nodes { id } } }",
    "unicode": '{ connectionInfos(after: "' + "é€😀" * 600 + '") { nodes { id } } }',
}


@pytest.mark.parametrize("query", SHAPES.values(), ids=SHAPES.keys())
def test_the_size_estimate_is_never_below_what_parsing_allocates(query: str) -> None:
    tracemalloc.start()
    try:
        document = graphql.parse(query)
        allocated, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = estimated_size(query, document)
    print(f"{len(query)} chars, {document.token_count} tokens: {allocated} B, estimate {estimate}")
    assert estimate >= allocated
    # ... nor far above it, or the budget would hold few documents.
    assert estimate <= 4 * allocated + 20_000


def test_costs_are_kept_per_variables_known_by_a_digest(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large variables (`_entities`' representations) are costed once too: the cache
    keeps a 16-byte digest of them, not the variables."""
    costed = Calls()
    monkeypatch.setattr(extension, "operation_cost", costed.counting(extension.operation_cost))
    query = _unique(
        "query($ids: [Int!]) { ALIAS: connectionInfos(filter: {ids: $ids}) { totalCount } }"
    )
    many = list(range(1, 5000))
    for ids in (many, many, [1], many):
        assert "errors" not in _post(client, query, ids=ids)
    assert costed.count == 2
