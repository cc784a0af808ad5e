"""connectionStatusChanged over WebSocket, in process: the graphql-transport-ws protocol
spoken by hand through Starlette's TestClient, status changes made by mutations over HTTP
with an API key, as a client would.

A subscription is live once its task has joined the broadcaster; the tests wait for that
(through the app's own loop) before they change anything, as there is no protocol message
that says so. "Nothing arrived" is shown by a later change that must arrive next."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import gql.app
from gql.app import create_app
from gql.broadcast import InProcessBroadcaster, StatusChanged
from gql.broadcast import memory as broadcast_memory
from gql.repository.models import ConnectionRecord
from gql.settings import Settings
from tests.conftest import run_cli
from tests.databases import copy_database

pytestmark = pytest.mark.timeout(120)

PROTOCOL = "graphql-transport-ws"
A, B, C = 1_000_000_001, 1_000_000_002, 1_000_000_003

SUBSCRIPTION = """
subscription Changes($filter: ConnectionInfoFilter) {
  connectionStatusChanged(filter: $filter) {
    connectionInfo { id statusTypeId statusType { id isOperational } }
    previousStatusTypeId
    statusTypeId
    changedAt
  }
}"""
SET_STATUS = """
mutation SetStatus($id: Int!, $status: Int!) {
  setConnectionStatus(id: $id, statusTypeId: $status) {
    previousStatusTypeId
    connectionInfo { statusTypeId }
    userErrors { code message }
  }
}"""
UPDATE = """
mutation Update($id: Int!, $input: UpdateConnectionInfoInput!) {
  updateConnectionInfo(id: $id, input: $input) {
    connectionInfo { statusTypeId }
    userErrors { code message }
  }
}"""
STATUS = "query Status($id: Int!) { connectionInfo(id: $id) { statusTypeId } }"
HISTORY = """
query History($id: Int!) {
  connectionInfoHistory(id: $id, first: 100) { nodes { changedAt after { statusTypeId } } }
}"""


class RecordingBroadcaster(InProcessBroadcaster):
    """The app's broadcaster, kept where the test can count its subscribers."""

    made: list[InProcessBroadcaster] = []  # noqa: RUF012
    backlog: int | None = None

    def __init__(self) -> None:
        if RecordingBroadcaster.backlog is None:
            super().__init__()
        else:
            super().__init__(RecordingBroadcaster.backlog)
        RecordingBroadcaster.made.append(self)


@pytest.fixture
def live_db(demo_db: str, database_url: str) -> tuple[str, str]:
    """A copy of the demo database (the tests write to it) and a writing key for it."""
    asyncio.run(copy_database(demo_db, database_url))
    output = run_cli(
        "keys", "create", "--database-url", database_url, "--name", "subscription-tests"
    )
    return database_url, output.strip().splitlines()[-1]


@dataclass
class Socket:
    """One WebSocket speaking graphql-transport-ws; answers the server's pings itself."""

    session: Any
    pings: list[float] = field(default_factory=list)

    def send(self, message: dict[str, Any]) -> None:
        self.session.send_json(message)

    def receive(self) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = self.session.receive_json()
            if message["type"] != "ping":
                return message
            self.pings.append(time.monotonic())
            self.send({"type": "pong"})

    def init(self) -> None:
        self.send({"type": "connection_init", "payload": {}})
        assert self.receive() == {"type": "connection_ack"}

    def subscribe(self, id: str, filter: dict[str, Any] | None = None) -> None:
        variables = {} if filter is None else {"filter": filter}
        payload = {"query": SUBSCRIPTION, "variables": variables}
        self.send({"id": id, "type": "subscribe", "payload": payload})

    def complete(self, id: str) -> None:
        self.send({"id": id, "type": "complete"})

    def next_event(self, id: str) -> dict[str, Any]:
        message = self.receive()
        assert message["type"] == "next", message
        assert message["id"] == id, message
        assert "errors" not in message["payload"], message
        event: dict[str, Any] = message["payload"]["data"]["connectionStatusChanged"]
        return event

    def events(self, count: int) -> dict[str, list[dict[str, Any]]]:
        """The next ``count`` events, by subscription id, in the order they arrived."""
        received: dict[str, list[dict[str, Any]]] = {}
        for _ in range(count):
            message = self.receive()
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
            event = message["payload"]["data"]["connectionStatusChanged"]
            received.setdefault(message["id"], []).append(event)
        return received


@dataclass
class Live:
    client: TestClient
    key: str
    broadcaster: InProcessBroadcaster
    statuses: dict[int, int | None] = field(default_factory=dict)

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"X-API-Key": self.key},
        )
        body: dict[str, Any] = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    def status(self, connection_id: int) -> int | None:
        if connection_id not in self.statuses:
            data = self.graphql(STATUS, {"id": connection_id})
            self.statuses[connection_id] = data["connectionInfo"]["statusTypeId"]
        return self.statuses[connection_id]

    def set_status(
        self, connection_id: int, status: int, *, same: bool = False
    ) -> tuple[int | None, int]:
        """Sets the status; (before, after) as the mutation reports them."""
        before = self.status(connection_id)
        assert (before == status) is same, (connection_id, before, status)
        payload = self.graphql(SET_STATUS, {"id": connection_id, "status": status})
        result = payload["setConnectionStatus"]
        assert result["userErrors"] == [], result
        assert result["previousStatusTypeId"] == before
        assert result["connectionInfo"]["statusTypeId"] == status
        self.statuses[connection_id] = status
        return before, status

    def change(self, connection_id: int) -> tuple[int | None, int]:
        """Sets a status other than the current one."""
        current = self.status(connection_id)
        return self.set_status(connection_id, 100 if current != 100 else 50)

    def update(self, connection_id: int, **changes: Any) -> dict[str, Any]:
        payload = self.graphql(UPDATE, {"id": connection_id, "input": changes})
        result: dict[str, Any] = payload["updateConnectionInfo"]
        if "statusTypeId" in changes and not result["userErrors"]:
            self.statuses[connection_id] = changes["statusTypeId"]
        return result

    def history(self, connection_id: int) -> list[dict[str, Any]]:
        nodes: list[dict[str, Any]] = self.graphql(HISTORY, {"id": connection_id})[
            "connectionInfoHistory"
        ]["nodes"]
        return nodes

    def on_loop(self, function: Callable[[], Any]) -> Any:
        """Runs ``function`` on the app's event loop (TestClient runs the app in a thread)."""
        assert self.client.portal is not None
        return self.client.portal.call(function)

    def subscribers(self) -> int:
        return int(self.on_loop(lambda: self.broadcaster.subscriber_count))

    def tasks(self) -> int:
        return int(self.on_loop(lambda: len(asyncio.all_tasks())))

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.001)

    def wait_for_subscribers(self, count: int) -> None:
        self.wait_for(lambda: self.subscribers() == count, f"{count} subscribers")

    @contextlib.contextmanager
    def socket(self, headers: dict[str, str] | None = None) -> Iterator[Socket]:
        with self.client.websocket_connect(
            "/graphql", subprotocols=[PROTOCOL], headers=headers or {}
        ) as session:
            assert session.accepted_subprotocol == PROTOCOL
            yield Socket(session)


@pytest.fixture
def open_live(
    live_db: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., contextlib.AbstractContextManager[Live]]:
    """Starts the app with the given settings (lifespan included)."""
    monkeypatch.setattr(RecordingBroadcaster, "made", [])
    monkeypatch.setattr(gql.app, "InProcessBroadcaster", RecordingBroadcaster)
    db, key = live_db

    @contextlib.contextmanager
    def start(**settings: Any) -> Iterator[Live]:
        with TestClient(create_app(Settings(database_url=db, **settings))) as client:
            yield Live(client, key, RecordingBroadcaster.made[-1])

    return start


@pytest.fixture
def live(open_live: Callable[..., contextlib.AbstractContextManager[Live]]) -> Iterator[Live]:
    with open_live() as running:
        yield running


def assert_event(event: dict[str, Any], connection_id: int, change: tuple[Any, int]) -> None:
    before, after = change
    assert event["connectionInfo"]["id"] == connection_id
    assert event["connectionInfo"]["statusTypeId"] == after
    assert event["connectionInfo"]["statusType"]["id"] == after
    assert event["previousStatusTypeId"] == before
    assert event["statusTypeId"] == after
    assert datetime.fromisoformat(event["changedAt"]).utcoffset() is not None


# -- the protocol ------------------------------------------------------------------------


def test_the_socket_speaks_graphql_transport_ws(live: Live) -> None:
    with live.socket() as ws:
        ws.init()
        ws.send({"type": "ping"})
        assert ws.receive() == {"type": "pong"}


def test_subscribing_before_connection_init_closes_the_socket(live: Live) -> None:
    with live.socket() as ws:
        ws.subscribe("early")
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
    assert closed.value.code == 4401
    live.wait_for_subscribers(0)


def test_only_graphql_transport_ws_is_offered(live: Live) -> None:
    """The legacy graphql-ws protocol (subscriptions-transport-ws) is not served."""
    with live.client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as session:
        assert session.accepted_subprotocol is None
        with pytest.raises(WebSocketDisconnect) as closed:
            session.receive_json()
    assert closed.value.code == 4406


def test_a_document_that_does_not_validate_gets_an_error_message(live: Live) -> None:
    with live.socket() as ws:
        ws.init()
        payload = {"query": "subscription { connectionStatusChanged { nope } }"}
        ws.send({"id": "bad", "type": "subscribe", "payload": payload})
        message = ws.receive()
        assert message["type"] == "error"
        assert message["id"] == "bad"
        assert "nope" in message["payload"][0]["message"]
        # The socket goes on.
        ws.subscribe("good", {"ids": [A]})
        live.wait_for_subscribers(1)
        change = live.change(A)
        assert_event(ws.next_event("good"), A, change)


def test_errors_over_the_socket_carry_codes(live: Live) -> None:
    with live.socket() as ws:
        ws.init()
        payload = {"query": "subscription { connectionStatusChanged { nope } }"}
        ws.send({"id": "invalid", "type": "subscribe", "payload": payload})
        invalid = ws.receive()
        payload = {"query": SUBSCRIPTION, "variables": {"filter": {"ids": "x"}}}
        ws.send({"id": "variables", "type": "subscribe", "payload": payload})
        variables = ws.receive()
    assert invalid["payload"][0].get("extensions", {}).get("code") == "GRAPHQL_VALIDATION_FAILED"
    assert variables["payload"][0].get("extensions", {}).get("code") == "BAD_USER_INPUT"


# -- what arrives --------------------------------------------------------------------------


def test_every_change_arrives_once_in_commit_order(live: Live) -> None:
    with live.socket() as ws:
        ws.init()
        ws.subscribe("all")
        live.wait_for_subscribers(1)
        plan = [A, B, C, A, A, C, B, A, C, B, B, A]
        changes = [(connection_id, live.change(connection_id)) for connection_id in plan]
        events = ws.events(len(plan))["all"]
    assert [e["connectionInfo"]["id"] for e in events] == plan
    for event, (connection_id, change) in zip(events, changes, strict=True):
        assert_event(event, connection_id, change)
    # changedAt is the change log's time, and the log's order is the events' order.
    times = [datetime.fromisoformat(e["changedAt"]) for e in events]
    assert times == sorted(times)
    for connection_id in (A, B, C):
        logged = [
            datetime.fromisoformat(entry["changedAt"])
            for entry in reversed(live.history(connection_id))
        ]
        announced = [
            t
            for t, e in zip(times, events, strict=True)
            if e["connectionInfo"]["id"] == connection_id
        ]
        assert announced == logged
    live.wait_for_subscribers(0)


def test_a_filter_lets_through_only_matching_connections(live: Live) -> None:
    with live.socket() as ws:
        ws.init()
        ws.subscribe("ab", {"ids": [A, B]})
        ws.subscribe("stopped", {"statusTypeIds": [100]})
        ws.subscribe("operational", {"isOperational": True, "ids": [A, B, C]})
        live.wait_for_subscribers(3)
        plan = [(C, 20), (A, 100), (C, 100), (B, 100), (A, 50), (C, 30), (B, 150), (A, 100)]
        changes = [(connection_id, live.set_status(connection_id, s)) for connection_id, s in plan]
        expected = {
            "ab": [(i, c) for i, c in changes if i in (A, B)],
            "stopped": [(i, c) for i, c in changes if c[1] == 100],
            "operational": [(i, c) for i, c in changes if c[1] in (20, 30, 50)],
        }
        received = ws.events(sum(len(v) for v in expected.values()))
        # Then a change that every subscription matches must come next: nothing else came.
        barrier = (A, live.set_status(A, 50)), (B, live.set_status(B, 100))
        after = ws.events(4)
    assert set(received) == set(expected)
    for name, wanted in expected.items():
        events = received[name]
        assert [e["connectionInfo"]["id"] for e in events] == [i for i, _ in wanted], name
        for event, (connection_id, change) in zip(events, wanted, strict=True):
            assert_event(event, connection_id, change)
    assert [e["connectionInfo"]["id"] for e in after["ab"]] == [A, B]
    assert [e["connectionInfo"]["id"] for e in after["operational"]] == [A]
    assert [e["connectionInfo"]["id"] for e in after["stopped"]] == [B]
    assert_event(after["ab"][0], *barrier[0])


def test_several_sockets_each_get_each_event_once(live: Live) -> None:
    with live.socket() as first, live.socket() as second:
        first.init()
        second.init()
        first.subscribe("1", {"ids": [A]})
        second.subscribe("2", {"ids": [A]})
        live.wait_for_subscribers(2)
        changes = [live.change(A) for _ in range(5)]
        for ws, id in ((first, "1"), (second, "2")):
            events = [ws.next_event(id) for _ in changes]
            for event, change in zip(events, changes, strict=True):
                assert_event(event, A, change)
        live.change(B)  # matches neither
        last = live.change(A)
        assert_event(first.next_event("1"), A, last)
        assert_event(second.next_event("2"), A, last)


def test_changes_that_keep_the_status_emit_nothing(live: Live) -> None:
    with live.socket() as ws:
        ws.init()
        ws.subscribe("a", {"ids": [A]})
        live.wait_for_subscribers(1)
        current = live.status(A)
        assert current is not None
        logged = len(live.history(A))
        live.set_status(A, current, same=True)
        assert len(live.history(A)) == logged  # a no-op is not a change: nothing logged
        assert live.update(A, comments="checked on site")["userErrors"] == []
        assert live.update(A, statusTypeId=current, quantity=2)["userErrors"] == []
        refused = live.graphql(SET_STATUS, {"id": A, "status": 999_999})["setConnectionStatus"]
        assert refused["userErrors"], refused  # no such status: nothing written
        # A status changed by updateConnectionInfo is a status change too.
        target = 30 if current != 30 else 50
        assert live.update(A, statusTypeId=target, comments="broken")["userErrors"] == []
        assert_event(ws.next_event("a"), A, (current, target))


def test_a_completed_subscription_stops_and_the_others_go_on(live: Live) -> None:
    with live.socket() as ws:
        ws.init()
        ws.subscribe("stays", {"ids": [A]})
        ws.subscribe("goes", {"ids": [A]})
        live.wait_for_subscribers(2)
        ws.complete("goes")
        live.wait_for_subscribers(1)
        change = live.change(A)
        assert_event(ws.next_event("stays"), A, change)
        # The id is free again.
        ws.subscribe("goes", {"ids": [B]})
        live.wait_for_subscribers(2)
        change = live.change(B)
        assert_event(ws.next_event("goes"), B, change)


# -- limits ---------------------------------------------------------------------------------


def test_subscriptions_per_connection_are_limited(
    open_live: Callable[..., contextlib.AbstractContextManager[Live]],
) -> None:
    with open_live(max_subscriptions_per_connection=2) as live, live.socket() as ws:
        ws.init()
        ws.subscribe("1", {"ids": [A]})
        ws.subscribe("2", {"ids": [B]})
        ws.subscribe("3", {"ids": [A, B]})
        refused = ws.receive()
        assert refused["type"] == "error", refused
        assert refused["id"] == "3"
        [error] = refused["payload"]
        assert error["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"
        assert "2" in error["message"]
        live.wait_for_subscribers(2)
        # The two running ones keep working.
        change_a, change_b = live.change(A), live.change(B)
        received = ws.events(2)
        assert_event(received["1"][0], A, change_a)
        assert_event(received["2"][0], B, change_b)
        # The limit is per socket: another one has its own.
        with live.socket() as other:
            other.init()
            other.subscribe("1", {"ids": [A]})
            other.subscribe("2", {"ids": [A]})
            live.wait_for_subscribers(4)
        live.wait_for_subscribers(2)
        # Completing one frees its place.
        ws.complete("1")
        live.wait_for_subscribers(1)
        ws.subscribe("3", {"ids": [A, B]})
        live.wait_for_subscribers(2)
        change = live.change(A)
        assert_event(ws.next_event("3"), A, change)


async def no_wait(_slice: object) -> None:
    return None


def flood(live: Live, events: int) -> Callable[[], Awaitable[None]]:
    """Publishes ``events`` status changes of A with no pause: a subscription cannot read
    any in between."""

    async def publish_all() -> None:
        for change_id in range(events):
            await live.broadcaster.publish(
                StatusChanged(
                    connection=ConnectionRecord(id=A, status_type_id=50),
                    previous_status_type_id=100,
                    status_type_id=50,
                    changed_at="2025-01-01T00:00:00.000Z",
                    change_id=change_id,
                )
            )

    return publish_all


def test_a_subscriber_too_slow_is_ended_with_a_coded_error(
    open_live: Callable[..., contextlib.AbstractContextManager[Live]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(RecordingBroadcaster, "backlog", 3)
    # The dispatcher waits for no slice to come through, as for a stuck socket.
    monkeypatch.setattr(broadcast_memory, "_through", no_wait)
    with open_live() as live, live.socket() as ws:
        ws.init()
        ws.subscribe("slow")
        live.wait_for_subscribers(1)

        live.on_loop(flood(live, 5))
        for _ in range(3):
            assert ws.next_event("slow")["statusTypeId"] == 50
        ended = ws.receive()
        assert ended["type"] == "next", ended
        assert ended["payload"]["data"] is None
        [error] = ended["payload"]["errors"]
        assert error["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
        assert ws.receive() == {"id": "slow", "type": "complete"}
        assert live.subscribers() == 0
        # Subscribing again works.
        ws.subscribe("slow")
        live.wait_for_subscribers(1)
        change = live.change(A)
        assert_event(ws.next_event("slow"), A, change)


# -- origins and keep-alive ------------------------------------------------------------------

ALLOWED = "https://app.example"


@pytest.mark.parametrize(
    ("cors_origins", "origin"),
    [
        ((ALLOWED,), "https://evil.example"),
        ((ALLOWED,), "http://app.example"),
        ((ALLOWED,), "https://app.example.evil.example"),
        ((ALLOWED,), "null"),
        # The server's own origin is no exception when origins are listed: a page that
        # DNS rebinding put on this host has it too.
        ((ALLOWED,), "http://testserver"),
        ((ALLOWED,), "https://testserver"),  # an https page onto the http host
        ((), "http://testserver"),
    ],
)
def test_a_browser_on_an_unlisted_origin_is_refused(
    open_live: Callable[..., contextlib.AbstractContextManager[Live]],
    cors_origins: tuple[str, ...],
    origin: str,
) -> None:
    with open_live(cors_origins=cors_origins) as live:
        with pytest.raises(WebSocketDisconnect) as refused, live.socket({"origin": origin}):
            pytest.fail("the handshake was accepted")
        assert refused.value.code == 1008  # closed before accepting: HTTP 403
        assert live.subscribers() == 0


@pytest.mark.parametrize(
    ("cors_origins", "origin"),
    [
        ((ALLOWED,), ALLOWED),
        ((ALLOWED,), "https://APP.example:443"),  # the same origin, written otherwise
        ((ALLOWED, "https://other.example"), "https://other.example"),
        ((ALLOWED,), None),  # not a browser
        ((ALLOWED, "http://testserver"), "http://testserver"),  # the server's own, listed
        (("*",), "https://anywhere.example"),
    ],
)
def test_allowed_origins_connect_and_subscribe(
    open_live: Callable[..., contextlib.AbstractContextManager[Live]],
    cors_origins: tuple[str, ...],
    origin: str | None,
) -> None:
    headers = {} if origin is None else {"origin": origin}
    with open_live(cors_origins=cors_origins) as live, live.socket(headers) as ws:
        ws.init()
        ws.subscribe("s", {"ids": [A]})
        live.wait_for_subscribers(1)
        change = live.change(A)
        assert_event(ws.next_event("s"), A, change)


def test_no_cors_means_no_other_origin(
    open_live: Callable[..., contextlib.AbstractContextManager[Live]],
) -> None:
    with (
        open_live(cors_origins=()) as live,
        pytest.raises(WebSocketDisconnect) as refused,
        live.socket({"origin": ALLOWED}),
    ):
        pytest.fail("the handshake was accepted")
    assert refused.value.code == 1008


def test_keep_alive_pings_arrive_and_the_subscription_goes_on(
    open_live: Callable[..., contextlib.AbstractContextManager[Live]],
) -> None:
    with open_live(keep_alive_seconds=1) as live, live.socket() as ws:
        ws.init()
        ws.subscribe("s", {"ids": [A]})
        live.wait_for_subscribers(1)
        deadline = time.monotonic() + 60  # a guard against hanging, not a measurement
        while len(ws.pings) < 3:
            ws.send({"type": "ping"})  # answered by a pong; server pings come in between
            assert ws.receive() == {"type": "pong"}
            time.sleep(0.05)
            assert time.monotonic() < deadline, "no keep-alive pings"
        gaps = [later - earlier for earlier, later in zip(ws.pings, ws.pings[1:], strict=False)]
        # Never more often than the interval allows (a loaded machine only delays them).
        assert min(gaps) > 0.5, gaps
        change = live.change(A)
        assert_event(ws.next_event("s"), A, change)


def test_no_pings_before_the_connection_is_acknowledged(
    open_live: Callable[..., contextlib.AbstractContextManager[Live]],
) -> None:
    with open_live(keep_alive_seconds=1) as live, live.socket() as ws:
        time.sleep(1.5)
        ws.init()  # the first message after the handshake is still the acknowledgement


# -- clean-up ---------------------------------------------------------------------------------


def test_a_thousand_connections_leave_no_subscriber_and_no_task(live: Live) -> None:
    """Connect, subscribe (live), disconnect, 1,000 times, ending each way a client can:
    closing the socket outright, completing first, with two subscriptions running, or
    after one refused."""
    with live.socket() as warm_up:  # first use builds caches that stay
        warm_up.init()
    live.wait_for_subscribers(0)
    tasks_before = live.tasks()
    for cycle in range(1000):
        with live.socket() as ws:
            ws.init()
            ws.subscribe("s", {"ids": [A, cycle]} if cycle % 2 else None)
            live.wait_for_subscribers(1)
            if cycle % 3 == 1:
                ws.complete("s")
                live.wait_for_subscribers(0)
            elif cycle % 3 == 2:
                ws.subscribe("s2", {"isOperational": True})
                live.wait_for_subscribers(2)
            if cycle % 5 == 4:
                payload = {"query": "subscription { connectionStatusChanged { nope } }"}
                ws.send({"id": "bad", "type": "subscribe", "payload": payload})
                assert ws.receive()["type"] == "error"
    live.wait_for(lambda: live.subscribers() == 0, "no subscriber left")
    live.wait_for(lambda: live.tasks() == tasks_before, f"{tasks_before} tasks, as before")
    # And the server still works.
    with live.socket() as ws:
        ws.init()
        ws.subscribe("s", {"ids": [A]})
        live.wait_for_subscribers(1)
        change = live.change(A)
        assert_event(ws.next_event("s"), A, change)
