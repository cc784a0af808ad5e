"""ocm_gql_cache_lookups_total: each cache's hits and misses, one lookup per request and
key however many steps of the request ask (the pipeline, the fast lane and the limits
extension all ask for the parsed document).

Requests go through the whole app in process (Starlette's TestClient), so each has the
observing middleware's record, as under a server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.settings import Settings
from tests.observability.metrics.samples import Growth
from tests.persisted_queries import apq_extensions

LOOKUPS = "ocm_gql_cache_lookups_total"


@pytest.fixture
def client(demo_db: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=demo_db))) as client:
        yield client


def _post(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/graphql", json=body)
    answer: dict[str, Any] = response.json()
    return answer


def _unique(query: str) -> str:
    """The query as a text no earlier test sent (the document cache is the process's)."""
    return f"# {uuid.uuid4().hex}\n{query}"


def _lookups(growth: Growth, cache: str) -> tuple[float, float]:
    """(hits, misses) since ``growth`` began."""
    return (
        growth(LOOKUPS, cache=cache, result="hit"),
        growth(LOOKUPS, cache=cache, result="miss"),
    )


def test_a_repeated_query_misses_once_then_hits_once_a_request(client: TestClient) -> None:
    query = _unique("{ connectionInfos(first: 3) { nodes { id } } }")
    growth = Growth()
    assert "errors" not in _post(client, {"query": query})
    assert _lookups(growth, "parse") == (0, 1)
    assert _lookups(growth, "validation") == (0, 1)
    assert _lookups(growth, "plan") == (0, 1)
    growth = Growth()
    for _ in range(3):
        assert "errors" not in _post(client, {"query": query})
    assert _lookups(growth, "parse") == (3, 0)
    assert _lookups(growth, "validation") == (3, 0)
    assert _lookups(growth, "plan") == (3, 0)


def test_a_refused_document_is_never_kept_so_it_misses_each_time(client: TestClient) -> None:
    query = _unique("{ connectionInfos(first: 3) { nodes { nope } } }")
    growth = Growth()
    for _ in range(2):
        [error] = _post(client, {"query": query})["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    # Looked up by the pipeline, the fast lane and the extension: counted once each time.
    assert _lookups(growth, "parse") == (0, 2)
    assert _lookups(growth, "validation") == (0, 2)
    assert _lookups(growth, "plan") == (0, 0)


def test_a_syntax_error_is_kept_and_hits(client: TestClient) -> None:
    query = _unique("{ connectionInfos(first: 3) { nodes { id }")
    growth = Growth()
    for _ in range(2):
        [error] = _post(client, {"query": query})["errors"]
        assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert _lookups(growth, "parse") == (1, 1)
    assert _lookups(growth, "validation") == (0, 0)


def test_apq_misses_an_unknown_hash_and_hits_a_registered_one(client: TestClient) -> None:
    query = _unique("{ levels { id } }")
    extensions = apq_extensions(query)
    growth = Growth()
    [error] = _post(client, {"extensions": extensions})["errors"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert _lookups(growth, "apq") == (0, 1)
    # Registering sends the text: the store is written, not asked.
    assert "errors" not in _post(client, {"query": query, "extensions": extensions})
    assert _lookups(growth, "apq") == (0, 1)
    assert "errors" not in _post(client, {"extensions": extensions})
    assert _lookups(growth, "apq") == (1, 1)


def test_a_reference_list_misses_once_in_a_new_process_cache(client: TestClient) -> None:
    # The app's reference cache is new: its first request loads the list it reads.
    query = "{ connectionInfos(first: 20) { nodes { connectionType { id } } } }"
    growth = Growth()
    assert "errors" not in _post(client, {"query": query})
    assert _lookups(growth, "references") == (0, 1)
    growth = Growth()
    assert "errors" not in _post(client, {"query": query})
    assert "errors" not in _post(client, {"query": query})
    # Asked for each level it completes, counted once a request.
    assert _lookups(growth, "references") == (2, 0)


def test_each_operation_on_a_websocket_counts_as_a_request(client: TestClient) -> None:
    query = _unique("{ levels { id } }")
    growth = Growth()
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        for id in ("1", "2"):
            ws.send_json({"id": id, "type": "subscribe", "payload": {"query": query}})
            assert ws.receive_json()["type"] == "next"
            assert ws.receive_json() == {"id": id, "type": "complete"}
    assert _lookups(growth, "parse") == (1, 1)
    assert _lookups(growth, "validation") == (1, 1)
    assert _lookups(growth, "plan") == (1, 1)
