"""WebSocket operations go through what HTTP requests go through: the document source
(trusted documents, APQ), the rate limit, the execution timeout; messages are capped in
size and checked in shape; browsers' origins are checked against the CORS list.

In process through Starlette's TestClient (graphql-transport-ws spoken by hand, as in
test_subscriptions.py), and against a real server where the point needs a real socket:
uvicorn's own size cap, and a log free of tracebacks."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx2
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

import gql.app
from gql.app import create_app
from gql.settings import Settings
from tests.conftest import run_cli
from tests.persisted_queries import apq_extensions, write_manifest
from tests.processes import Process, ocm_server
from tests.slow_pages import SlowPages, slow_app
from tests.test_subscriptions import PROTOCOL, SET_STATUS, SUBSCRIPTION, A, RecordingBroadcaster

pytestmark = pytest.mark.timeout(120)

LEVELS = "{ levels { id } }"
PAGE = "{ connectionInfos(first: 3) { nodes { id } } }"


class Socket:
    """One graphql-transport-ws socket of the TestClient; answers the server's pings."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def send(self, message: object) -> None:
        self.session.send_text(json.dumps(message))

    def receive(self) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = self.session.receive_json()
            if message["type"] != "ping":
                return message
            self.send({"type": "pong"})

    def init(self) -> None:
        self.send({"type": "connection_init"})
        assert self.receive() == {"type": "connection_ack"}

    def subscribe(self, id: str, payload: dict[str, Any]) -> None:
        self.send({"id": id, "type": "subscribe", "payload": payload})

    def run(self, id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Runs a query: its one result, checked to be followed by `complete`."""
        self.subscribe(id, payload)
        message = self.receive()
        assert message["type"] == "next", message
        assert message["id"] == id
        assert self.receive() == {"id": id, "type": "complete"}
        result: dict[str, Any] = message["payload"]
        return result

    def refusal(self, id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Sends a subscribe that must be refused: its one error, with the socket still
        answering pings after it."""
        self.subscribe(id, payload)
        message = self.receive()
        assert message["type"] == "error", message
        assert message["id"] == id
        [error] = message["payload"]
        self.send({"type": "ping"})
        assert self.receive() == {"type": "pong"}
        return cast(dict[str, Any], error)

    def closed(self) -> WebSocketDisconnect:
        with pytest.raises(WebSocketDisconnect) as closed:
            self.receive()
        return closed.value


@contextlib.contextmanager
def _socket(client: TestClient, headers: dict[str, str] | None = None) -> Iterator[Socket]:
    with client.websocket_connect(
        "/graphql", subprotocols=[PROTOCOL], headers=headers or {}
    ) as session:
        yield Socket(session)


@pytest.fixture
def open_app(demo_db: str) -> Callable[..., contextlib.AbstractContextManager[TestClient]]:
    @contextlib.contextmanager
    def start(**settings: Any) -> Iterator[TestClient]:
        with TestClient(create_app(Settings(database_url=demo_db, **settings))) as client:
            yield client

    return start


def _code(error: dict[str, Any]) -> str:
    return str(error["extensions"]["code"])


# -- the document source -----------------------------------------------------------------


def test_trusted_documents_run_only_listed_operations_over_the_socket(
    open_app: Callable[..., contextlib.AbstractContextManager[TestClient]], tmp_path: Path
) -> None:
    listed = "query Levels { levels { id title } }"
    manifest = write_manifest(tmp_path / "manifest.json", listed)
    with open_app(trusted_documents=manifest) as client, _socket(client) as ws:
        ws.init()
        # The door of the issue: any query sent as text.
        assert _code(ws.refusal("any", {"query": LEVELS})) == "QUERY_NOT_IN_SAFELIST"
        refused = ws.refusal("sub", {"query": SUBSCRIPTION})
        assert _code(refused) == "QUERY_NOT_IN_SAFELIST"
        by_hash = ws.run("hash", {"extensions": apq_extensions(listed)})
        assert by_hash["data"]["levels"]
        assert ws.run("text", {"query": listed}) == by_hash
        unlisted = {"query": LEVELS, "extensions": apq_extensions(LEVELS)}
        assert _code(ws.refusal("apq", unlisted)) == "PERSISTED_QUERY_NOT_IN_LIST"
        other = {"query": LEVELS, "extensions": apq_extensions(listed)}
        assert _code(ws.refusal("other", other)) == "BAD_REQUEST"


def test_apq_is_shared_between_http_and_the_socket(
    open_app: Callable[..., contextlib.AbstractContextManager[TestClient]],
) -> None:
    query = "{ levels { id title } }"
    second = "{ levels { title } }"
    invalid = "{ levels { nope } }"
    with open_app() as client, _socket(client) as ws:
        ws.init()
        hash_only = {"extensions": apq_extensions(query)}
        assert _code(ws.refusal("unknown", hash_only)) == "PERSISTED_QUERY_NOT_FOUND"
        # Registered over HTTP, it runs by hash over the socket...
        registered = client.post("/graphql", json={"query": query, **hash_only})
        assert registered.json()["data"]["levels"]
        assert ws.run("known", hash_only)["data"] == registered.json()["data"]
        # ... and one registered over the socket runs by hash over HTTP.
        assert ws.run("register", {"query": second, "extensions": apq_extensions(second)})["data"]
        by_hash = client.get("/graphql", params={"extensions": json.dumps(apq_extensions(second))})
        assert by_hash.json()["data"]["levels"]
        # A document that does not validate is not kept.
        assert ws.refusal("invalid", {"query": invalid, "extensions": apq_extensions(invalid)})
        again = ws.refusal("again", {"extensions": apq_extensions(invalid)})
        assert _code(again) == "PERSISTED_QUERY_NOT_FOUND"
        mismatch = {"query": LEVELS, "extensions": apq_extensions(query)}
        assert _code(ws.refusal("mismatch", mismatch)) == "BAD_REQUEST"


def test_the_document_limits_apply_over_the_socket(
    open_app: Callable[..., contextlib.AbstractContextManager[TestClient]],
) -> None:
    settings = {"max_depth": 3, "max_query_chars": 200, "max_tokens": 30, "max_cost": 150}
    with open_app(**settings) as client, _socket(client) as ws:
        ws.init()
        deep = "{ connectionInfos { nodes { connectionType { id } } } }"
        assert _code(ws.refusal("deep", {"query": deep})) == "QUERY_TOO_DEEP"
        long = LEVELS + " " * 200
        assert _code(ws.refusal("long", {"query": long})) == "QUERY_TOO_LARGE"
        many = "{ " + "a: levels { id } " * 10 + "}"
        assert _code(ws.refusal("tokens", {"query": many})) == "TOO_MANY_TOKENS"
        assert _code(ws.refusal("syntax", {"query": "{ levels { id }"})) == "GRAPHQL_PARSE_FAILED"
        # Refused by the limits' execute step, which Strawberry reports as a result.
        costly = {"query": "{ connectionInfos(first: 500) { nodes { id } } }"}
        result = ws.run("cost", costly)
        assert result["data"] is None
        assert [_code(error) for error in result["errors"]] == ["QUERY_TOO_COMPLEX"]
        deep_live = (
            "subscription { connectionStatusChanged { connectionInfo { statusType { id } } } }"
        )
        assert _code(ws.refusal("live", {"query": deep_live})) == "QUERY_TOO_DEEP"
        # Refused documents leave the socket as it was.
        assert ws.run("fine", {"query": LEVELS})["data"]["levels"]


# -- the rate limit ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def keyed_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    db = tmp_path_factory.mktemp("ws-limits") / "keyed.db"
    run_cli("seed", "--db", str(db), "--demo", "10", "--seed", "1")
    key = run_cli("keys", "create", "--db", str(db), "--name", "ws").strip().splitlines()[-1]
    return db, key


def _rated(db: Path) -> TestClient:
    # Slow enough that no token comes back during the test: a burst of 3, then refusals.
    return TestClient(create_app(Settings(db=db, rate_limit_per_second=0.001, rate_limit_burst=3)))


def test_subscribe_messages_take_tokens_from_the_http_bucket(
    keyed_db: tuple[Path, str],
) -> None:
    with _rated(keyed_db[0]) as client, _socket(client) as ws:
        ws.init()
        assert client.post("/graphql", json={"query": LEVELS}).status_code == 200
        for id in ("1", "2"):
            assert ws.run(id, {"query": LEVELS})["data"]["levels"]
        # The third operation on the socket is the client's fourth: over the burst.
        refused = ws.refusal("3", {"query": LEVELS})
        assert _code(refused) == "RATE_LIMITED"
        assert refused["extensions"]["retryAfter"] == 1000
        assert _code(ws.refusal("4", {"query": SUBSCRIPTION})) == "RATE_LIMITED"
        # HTTP draws from the same (empty) bucket.
        assert client.post("/graphql", json={"query": LEVELS}).status_code == 429


def test_a_socket_with_a_valid_key_has_the_key_s_bucket(keyed_db: tuple[Path, str]) -> None:
    db, key = keyed_db
    with _rated(db) as client:
        for _ in range(3):
            assert client.post("/graphql", json={"query": LEVELS}).status_code == 200
        with _socket(client) as anonymous:
            anonymous.init()
            assert _code(anonymous.refusal("a", {"query": LEVELS})) == "RATE_LIMITED"
        with _socket(client, {"x-api-key": key}) as keyed:
            keyed.init()
            for id in ("1", "2", "3"):
                assert keyed.run(id, {"query": LEVELS})["data"]["levels"]
            assert _code(keyed.refusal("4", {"query": LEVELS})) == "RATE_LIMITED"
        assert (
            client.post("/graphql", json={"query": LEVELS}, headers={"x-api-key": key}).status_code
            == 429
        )


# -- the timeout -------------------------------------------------------------------------


@pytest.fixture
def slow_live(
    keyed_db: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, SlowPages, RecordingBroadcaster, str]]:
    source, key = keyed_db
    db = tmp_path / "slow.db"
    with (
        contextlib.closing(sqlite3.connect(source)) as original,
        contextlib.closing(sqlite3.connect(db)) as copy,
    ):
        original.backup(copy)
    monkeypatch.setattr(RecordingBroadcaster, "made", [])
    monkeypatch.setattr(gql.app, "InProcessBroadcaster", RecordingBroadcaster)
    app, wrappers = slow_app(Settings(db=db, execution_timeout_ms=200))
    with TestClient(app) as client:
        yield client, wrappers[0], cast(RecordingBroadcaster, RecordingBroadcaster.made[-1]), key


def test_queries_over_the_socket_time_out_and_subscriptions_do_not(
    slow_live: tuple[TestClient, SlowPages, RecordingBroadcaster, str],
) -> None:
    client, slow, broadcaster, key = slow_live
    assert client.portal is not None
    portal = client.portal

    def subscribers() -> int:
        return int(portal.call(lambda: broadcaster.subscriber_count))

    with _socket(client) as ws:
        ws.init()
        ws.subscribe("live", {"query": SUBSCRIPTION, "variables": {"filter": {"ids": [A]}}})
        while subscribers() == 0:
            pass
        slow.delay = 60
        refused = ws.refusal("slow", {"query": PAGE})
        assert refused == {
            "message": "The operation ran longer than 200 ms and was stopped.",
            "extensions": {"code": "OPERATION_TIMED_OUT"},
        }
        assert slow.cancelled == 1  # the work itself was cancelled
        slow.delay = 0
        assert len(ws.run("quick", {"query": PAGE})["data"]["connectionInfos"]["nodes"]) == 3
        # The subscription, older than the timeout by now, still delivers.
        changed = client.post(
            "/graphql",
            json={"query": SET_STATUS, "variables": {"id": A, "status": 150}},
            headers={"x-api-key": key},
        )
        assert changed.json()["data"]["setConnectionStatus"]["userErrors"] == []
        event = ws.receive()
        assert event["id"] == "live"
        assert event["payload"]["data"]["connectionStatusChanged"]["statusTypeId"] == 150
        assert subscribers() == 1


# -- malformed and oversized messages -------------------------------------------------------

MALFORMED: list[object] = [
    [1, 2, 3],
    "subscribe",
    7,
    None,
    {"type": 1},
    {"id": "1", "type": "subscribe", "payload": "x"},
    {"id": "1", "type": "subscribe", "payload": [LEVELS]},
    {"id": "1", "type": "subscribe", "payload": {}},
    {"id": "1", "type": "subscribe", "payload": {"query": 1}},
    {"id": "1", "type": "subscribe", "payload": {"query": LEVELS, "variables": "x"}},
    {"id": "1", "type": "subscribe", "payload": {"query": LEVELS, "extensions": [1]}},
    {"id": "1", "type": "subscribe", "payload": {"query": LEVELS, "operationName": 5}},
    {"id": 1, "type": "subscribe", "payload": {"query": LEVELS}},
    {"id": ["x"], "type": "complete"},
    {"type": "complete"},
    {"type": "nonsense"},
]


@pytest.mark.parametrize("message", MALFORMED, ids=json.dumps)
def test_a_malformed_message_closes_the_socket_with_4400(
    open_app: Callable[..., contextlib.AbstractContextManager[TestClient]], message: object
) -> None:
    # TestClient raises any exception of the app here: a clean close shows there was none.
    with open_app() as client, _socket(client) as ws:
        ws.init()
        ws.send(message)
        closed = ws.closed()
    assert closed.code == 4400
    assert 0 < len(closed.reason.encode()) <= 123  # a close frame's reason must fit


def test_a_message_over_the_cap_closes_the_socket_with_1009(
    open_app: Callable[..., contextlib.AbstractContextManager[TestClient]],
) -> None:
    cap = 1000

    def subscribe(query: str) -> str:
        return json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}})

    at_cap = subscribe(LEVELS + " " * (cap - len(subscribe(LEVELS))))
    assert len(at_cap.encode()) == cap
    with open_app(max_websocket_message_bytes=cap, max_query_chars=10_000) as client:
        with _socket(client) as ws:
            ws.init()
            ws.session.send_text(at_cap)
            assert ws.receive()["type"] == "next"
        for too_big in (
            at_cap + " ",
            # Fewer characters than the cap, more bytes: two per "é".
            subscribe(LEVELS + " #" + "é" * (cap // 2)),
        ):
            with _socket(client) as ws:
                ws.init()
                ws.session.send_text(too_big)
                closed = ws.closed()
            assert closed.code == 1009
            assert str(cap) in closed.reason


# -- origins -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://testserver"},  # the Host's own origin (as after DNS rebinding)
        {"origin": "https://testserver"},  # an https page onto the http host
        {"origin": "https://evil.example", "sec-fetch-site": "same-origin"},
    ],
)
def test_with_listed_origins_only_they_connect(
    open_app: Callable[..., contextlib.AbstractContextManager[TestClient]],
    headers: dict[str, str],
) -> None:
    with open_app(cors_origins=("https://app.example",)) as client:
        with pytest.raises(WebSocketDisconnect) as refused, _socket(client, headers):
            pytest.fail("the handshake was accepted")
        assert refused.value.code == 1008  # refused before accepting: HTTP 403
        with _socket(client, {"origin": "https://app.example"}) as listed:
            listed.init()
        with _socket(client) as not_a_browser:
            not_a_browser.init()


# -- against a real server -------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    folder = tmp_path_factory.mktemp("ws-server")
    db = folder / "ws.db"
    run_cli("seed", "--db", str(db), "--demo", "10")
    running = ocm_server(
        "--db",
        str(db),
        "--host",
        "127.0.0.1",
        cwd=folder,
        env={"OCM_GQL_MAX_WEBSOCKET_MESSAGE_BYTES": "4096"},
    )
    yield running
    running.stop()


@contextlib.contextmanager
def _real_socket(server: Process) -> Iterator[ClientConnection]:
    url = f"ws://127.0.0.1:{server.port}/graphql"
    with connect(url, subprotocols=[PROTOCOL], open_timeout=30, close_timeout=10) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=30)) == {"type": "connection_ack"}
        yield ws


def _close_code(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=30)  # nothing comes before the close: no ping within 15 s
    received = closed.value.rcvd
    return None if received is None else received.code


def _query(ws: ClientConnection, id: str) -> dict[str, Any]:
    ws.send(json.dumps({"id": id, "type": "subscribe", "payload": {"query": LEVELS}}))
    answer: dict[str, Any] = json.loads(ws.recv(timeout=30))
    assert json.loads(ws.recv(timeout=30)) == {"id": id, "type": "complete"}
    return answer


@pytest.mark.e2e
def test_a_real_server_closes_oversized_and_malformed_sockets_and_stays_well(
    server: Process,
) -> None:
    with _real_socket(server) as ws:
        assert _query(ws, "before")["payload"]["data"]["levels"]
        payload = {"query": LEVELS + " " * 5000}
        ws.send(json.dumps({"id": "big", "type": "subscribe", "payload": payload}))
        assert _close_code(ws) == 1009
    for message in MALFORMED:
        with _real_socket(server) as ws:
            ws.send(json.dumps(message))
            assert _close_code(ws) == 4400, message
    with _real_socket(server) as ws:
        assert _query(ws, "after")["payload"]["data"]["levels"]
    assert httpx2.get(f"{server.url}/healthz", timeout=30).status_code == 200
    output = server.stop()
    assert "Traceback" not in output, output
    assert "Exception in ASGI application" not in output, output
