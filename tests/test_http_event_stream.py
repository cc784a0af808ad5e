"""Server-Sent Events in process (gql/http/event_stream.py): the graphql-sse wire format,
and every limit of plain POST holding over SSE, answered the same way before the stream
starts. tests/test_event_streams.py runs the same against a real server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import Message

from gql.app import create_app
from gql.broadcast import InProcessBroadcaster
from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.reference_cache import ReferenceCache
from gql.repository.factory import open_repository
from gql.settings import Settings
from tests.persisted_queries import apq_extensions, write_manifest
from tests.slow_pages import slow_app

STREAM = {"accept": "text/event-stream"}
QUERY = "{ levels { id } }"
SUBSCRIPTION = "subscription { connectionStatusChanged { statusTypeId } }"
DEEP_SUBSCRIPTION = (
    "subscription { connectionStatusChanged { connectionInfo { connectionType { id } } } }"
)


def _client(database_url: str, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(database_url=database_url, **settings)))


@pytest.fixture
def client(demo_db: str) -> Iterator[TestClient]:
    with _client(demo_db) as test_client:
        yield test_client


def _stream(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post(
        "/graphql",
        content=json.dumps(body),
        headers=STREAM | {"content-type": "application/json"} | headers,
    )


def _events(response: Any) -> list[tuple[str, str]]:
    """(event, data) pairs of an event stream."""
    events = []
    for block in response.text.split("\r\n\r\n"):
        if not block:
            continue
        fields = dict(
            line.split(": ", 1) if ": " in line else (line, "") for line in block.split("\r\n")
        )
        events.append((fields["event"], fields["data"].removeprefix(" ")))
    return events


def _refusal(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/graphql-response+json")
    body = response.json()
    assert "data" not in body
    return str(body["errors"][0]["extensions"]["code"])


# --- the wire format ---------------------------------------------------------------


def test_a_query_is_one_next_event_then_complete(client: TestClient) -> None:
    plain = client.post("/graphql", json={"query": QUERY}).json()
    response = _stream(client, {"query": QUERY})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache, no-transform"
    assert _events(response) == [
        ("next", json.dumps(plain, separators=(",", ":"))),
        ("complete", ""),
    ]
    assert response.text.endswith("event: complete\r\ndata: \r\n\r\n")


def test_get_streams_queries_and_refuses_mutations(client: TestClient) -> None:
    answered = client.get("/graphql", params={"query": QUERY}, headers=STREAM)
    assert [event for event, _ in _events(answered)] == ["next", "complete"]
    mutation = "mutation { deleteConnectionInfo(id: 1) { userErrors { code } } }"
    refused = client.get("/graphql", params={"query": mutation}, headers=STREAM)
    assert _refusal(refused, 405) == "METHOD_NOT_ALLOWED"
    assert refused.headers["allow"] == "POST"


def test_errors_of_a_run_are_streamed_with_their_data(client: TestClient) -> None:
    response = _stream(client, {"query": "{ connectionInfo(id: -5) { id } }"})
    assert response.status_code == 200
    [(event, data), _] = _events(response)
    assert event == "next"
    assert "data" in json.loads(data)


# --- limits answered before the stream, as over plain POST ----------------------------


@pytest.mark.parametrize(
    ("body", "status", "code", "as_over_post"),
    [
        ({"query": "{ levels { id "}, 400, "GRAPHQL_PARSE_FAILED", True),
        ({"query": "{ nope }"}, 400, "GRAPHQL_VALIDATION_FAILED", True),
        ({"query": QUERY, "operationName": "Missing"}, 400, "OPERATION_RESOLUTION_FAILURE", True),
        ({}, 400, "BAD_REQUEST", True),
        (
            {"extensions": apq_extensions("{ levels { title } }")},
            404,
            "PERSISTED_QUERY_NOT_FOUND",
            True,
        ),
        # Only streams serve these two.
        ({"query": "subscription { nope }"}, 400, "GRAPHQL_VALIDATION_FAILED", False),
        ([{"query": QUERY}, {"query": QUERY}], 400, "BATCHING_NOT_STREAMED", False),
    ],
)
def test_refusals_are_the_plain_endpoints(
    client: TestClient, body: Any, status: int, code: str, as_over_post: bool
) -> None:
    over_sse = _stream(client, body)
    assert _refusal(over_sse, status) == code
    if as_over_post:
        plain = client.post(
            "/graphql", json=body, headers={"accept": "application/graphql-response+json"}
        )
        assert plain.status_code == status
        assert over_sse.json() == plain.json()


def test_a_body_over_the_limit_is_413(demo_db: str) -> None:
    with _client(demo_db, max_body_bytes=256) as client:
        padded = json.dumps({"query": QUERY}).ljust(300)
        assert _refusal(_stream(client, padded), 413) == "PAYLOAD_TOO_LARGE"
        assert _stream(client, {"query": QUERY}).status_code == 200


def test_a_url_over_the_limit_is_414_and_a_wrong_content_type_415(demo_db: str) -> None:
    with _client(demo_db, max_url_bytes=100) as client:
        long_url = client.get("/graphql", params={"query": QUERY.ljust(200)}, headers=STREAM)
        assert _refusal(long_url, 414) == "URI_TOO_LONG"
        text = client.post(
            "/graphql", content=QUERY, headers=STREAM | {"content-type": "text/plain"}
        )
        assert _refusal(text, 415) == "UNSUPPORTED_MEDIA_TYPE"


async def test_a_body_is_read_no_further_than_the_limit(demo_db: str) -> None:
    """Straight over ASGI, counting what the server takes: a declared length over the
    limit is refused unread, an undeclared one is cut once it passes the limit."""
    app = create_app(Settings(database_url=demo_db, max_body_bytes=1000))

    async def post(headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
        taken = 0
        sent: list[Message] = []

        async def receive() -> Message:
            nonlocal taken
            taken += 1
            return {"type": "http.request", "body": b" " * 300, "more_body": taken < 1000}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"accept", b"text/event-stream"),
                (b"content-type", b"application/json"),
                *headers,
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
        }
        await asyncio.wait_for(app(scope, receive, send), 30)
        return sent[0]["status"], taken

    assert await post([(b"content-length", b"300000")]) == (413, 0)
    # 300-byte chunks: the fourth passes 1,000 bytes, and none after it is read.
    assert await post([(b"transfer-encoding", b"chunked")]) == (413, 4)


def test_trusted_documents_hold_over_sse(demo_db: str, tmp_path: Path) -> None:
    listed = "query Levels { levels { id title } }"
    manifest = write_manifest(tmp_path / "manifest.json", listed)
    with _client(demo_db, trusted_documents=manifest) as client:
        assert _refusal(_stream(client, {"query": QUERY}), 400) == "QUERY_NOT_IN_SAFELIST"
        assert _refusal(_stream(client, {"query": SUBSCRIPTION}), 400) == "QUERY_NOT_IN_SAFELIST"
        by_hash = _stream(client, {"extensions": apq_extensions(listed)})
        [(event, data), _] = _events(by_hash)
        assert event == "next"
        assert json.loads(data)["data"]["levels"]
        assert _events(_stream(client, {"query": listed})) == _events(by_hash)


def test_automatic_persisted_queries_over_sse(client: TestClient) -> None:
    query = "{ levels { id title } }"
    missing = _stream(client, {"extensions": apq_extensions(query)})
    assert _refusal(missing, 404) == "PERSISTED_QUERY_NOT_FOUND"
    registered = _stream(client, {"query": query, "extensions": apq_extensions(query)})
    assert [event for event, _ in _events(registered)] == ["next", "complete"]
    by_hash = _stream(client, {"extensions": apq_extensions(query)})
    assert _events(by_hash) == _events(registered)


def test_a_subscription_over_a_limit_gets_its_code(demo_db: str) -> None:
    with _client(demo_db, max_depth=2) as client:
        assert _refusal(_stream(client, {"query": DEEP_SUBSCRIPTION}), 400) == "QUERY_TOO_DEEP"
    with _client(demo_db, max_cost=1) as client:
        refused = _stream(client, {"query": DEEP_SUBSCRIPTION})
        assert _refusal(refused, 400) == "QUERY_TOO_COMPLEX"
        assert refused.json()["errors"][0]["extensions"]["maxCost"] == 1
    with _client(demo_db) as client:
        variables = {
            "query": "subscription($id: Int!) { connectionStatusChanged(filter: {ids: [$id]}) "
            "{ statusTypeId } }",
            "variables": {"id": "one"},
        }
        assert _refusal(_stream(client, variables), 400) == "BAD_USER_INPUT"


async def test_request_limits_refuse_a_costly_subscription_for_every_transport(
    demo_db: str,
) -> None:
    """The extension itself stops it (Strawberry would start a subscription whatever
    result on_execute sets): WebSocket gets the same refusal as SSE."""
    settings = Settings(database_url=demo_db, max_cost=1)
    repository = await open_repository(settings)
    try:
        context = Context.for_request(
            settings,
            repository,
            ReferenceCache(repository),
            broadcaster=InProcessBroadcaster(),
        )
        results = await schema.subscribe(DEEP_SUBSCRIPTION, context_value=context)
        first = await asyncio.wait_for(anext(results), 10)
        await results.aclose()
    finally:
        await repository.close()
    assert first.data is None
    assert [(error.extensions or {}).get("code") for error in first.errors or ()] == [
        "QUERY_TOO_COMPLEX"
    ]


def test_a_query_over_the_time_limit_is_504(demo_db: str) -> None:
    app, wrappers = slow_app(Settings(database_url=demo_db, execution_timeout_ms=200))
    with TestClient(app) as client:
        wrappers[0].delay = 60
        page = "{ connectionInfos(first: 3) { nodes { id } } }"
        refused = _stream(client, {"query": page})
        assert _refusal(refused, 504) == "OPERATION_TIMED_OUT"
        assert refused.json()["errors"][0]["message"] == (
            "The operation ran longer than 200 ms and was stopped."
        )
        assert wrappers[0].cancelled == 1
        wrappers[0].delay = 0
        assert _stream(client, {"query": page}).status_code == 200


def test_the_rate_limit_applies(demo_db: str) -> None:
    with _client(demo_db, rate_limit_per_second=0.001, rate_limit_burst=2) as client:
        assert [_stream(client, {"query": QUERY}).status_code for _ in range(2)] == [200, 200]
        refused = _stream(client, {"query": QUERY})
        assert refused.status_code == 429
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
