"""The caps on subscriptions (per process and per client address) for every transport,
and that a write is answered while its fan-out to many subscribers goes on.

In process: the app through Starlette's TestClient, behind a small ASGI wrapper that sets
the client address from a test header (TestClient has one address). Events are published
on the app's broadcaster directly: what a mutation announces is covered in
test_subscriptions.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

import gql.app
from gql.app import create_app
from gql.broadcast import (
    SUBSCRIBER_BACKLOG,
    InProcessBroadcaster,
    NoSubscriptionSlot,
    StatusChanged,
)
from gql.broadcast import memory as broadcast_memory
from gql.broadcast.slots import SubscriptionSlots
from gql.domain.keys import create_key
from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.reference_cache import ReferenceCache
from gql.repository.factory import open_repository
from gql.repository.models import ConnectionRecord
from gql.settings import Settings
from gql.writes import ConnectionWrites
from tests.conftest import run_cli
from tests.databases import copy_database, throwaway_database

pytestmark = pytest.mark.timeout(120)

PROTOCOL = "graphql-transport-ws"
A = 1_000_000_001
SUBSCRIPTION = "subscription { connectionStatusChanged { connectionInfo { id } statusTypeId } }"
ADDRESS_HEADER = "x-test-client-address"


# -- the slot registry ---------------------------------------------------------------------


def test_slots_count_the_process_and_each_address() -> None:
    slots = SubscriptionSlots()
    caps = {"max_total": 3, "max_per_client": 2}
    with contextlib.ExitStack() as stack:
        stack.enter_context(slots.hold("10.0.0.1", **caps))
        stack.enter_context(slots.hold("10.0.0.1", **caps))
        with pytest.raises(NoSubscriptionSlot) as per_client:
            stack.enter_context(slots.hold("10.0.0.1", **caps))
        assert per_client.value.limit == "client"
        stack.enter_context(slots.hold("10.0.0.2", **caps))  # another address has its own
        with pytest.raises(NoSubscriptionSlot) as process:
            stack.enter_context(slots.hold("10.0.0.3", **caps))
        assert process.value.limit == "process"
        assert (slots.total, slots.clients) == (3, 2)
    assert (slots.total, slots.clients) == (0, 0)


def test_a_slot_is_given_back_when_the_holder_fails() -> None:
    slots = SubscriptionSlots()
    with pytest.raises(RuntimeError), slots.hold("10.0.0.1", max_total=1, max_per_client=1):
        raise RuntimeError("the subscription failed")
    assert (slots.total, slots.clients) == (0, 0)
    with slots.hold("10.0.0.1", max_total=1, max_per_client=1):
        assert slots.total == 1


def test_a_cap_of_zero_refuses_every_subscription() -> None:
    slots = SubscriptionSlots()
    with pytest.raises(NoSubscriptionSlot), slots.hold("10.0.0.1", max_total=0, max_per_client=5):
        pass
    assert slots.total == 0


# -- over WebSocket and Server-Sent Events, in process -------------------------------------


class ClientAddressFromHeader:
    """Sets the ASGI scope's client address from a test header, as a proxy would."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            for name, value in scope["headers"]:
                if name.decode() == ADDRESS_HEADER:
                    scope = {**scope, "client": (value.decode(), 50000)}
        await self._app(scope, receive, send)


class KeptBroadcaster(InProcessBroadcaster):
    """The app's broadcaster, kept where the test can count its subscribers and slots."""

    made: list[InProcessBroadcaster] = []  # noqa: RUF012
    backlog = SUBSCRIBER_BACKLOG

    def __init__(self) -> None:
        super().__init__(KeptBroadcaster.backlog)
        KeptBroadcaster.made.append(self)


def event(change_id: int) -> StatusChanged:
    return StatusChanged(
        connection=ConnectionRecord(id=A, status_type_id=50),
        previous_status_type_id=100,
        status_type_id=50,
        changed_at="2025-01-01T00:00:00.000Z",
        change_id=change_id,
    )


async def no_wait(_slice: object) -> None:
    return None


def refusal(message: dict[str, Any], limit: str) -> None:
    """A subscription ended before any event with TOO_MANY_SUBSCRIPTIONS for ``limit``."""
    assert message["type"] == "next", message
    # No data: null over WebSocket; absent over SSE (a result that never ran).
    assert message["payload"].get("data") is None, message
    [error] = message["payload"]["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS", error
    assert error["extensions"]["limit"] == limit, error


@dataclass
class Server:
    client: TestClient
    broadcaster: InProcessBroadcaster

    def on_loop(self, function: Callable[[], Any]) -> Any:
        assert self.client.portal is not None
        return self.client.portal.call(function)

    def counts(self) -> tuple[int, int, int]:
        """Subscribers, slots held, addresses holding one: read on the app's loop."""
        broadcaster = self.broadcaster
        counts: tuple[int, int, int] = self.on_loop(
            lambda: (
                broadcaster.subscriber_count,
                broadcaster.slots.total,
                broadcaster.slots.clients,
            )
        )
        return counts

    def wait_for_subscribers(self, count: int) -> None:
        deadline = time.monotonic() + 10
        while self.counts()[0] != count:
            assert time.monotonic() < deadline, f"timed out waiting for {count} subscribers"
            time.sleep(0.001)

    @contextlib.contextmanager
    def socket(self, address: str) -> Iterator[Any]:
        with self.client.websocket_connect(
            "/graphql", subprotocols=[PROTOCOL], headers={ADDRESS_HEADER: address}
        ) as ws:
            ws.send_json({"type": "connection_init"})
            assert ws.receive_json() == {"type": "connection_ack"}
            yield ws

    def subscribe(self, ws: Any, id: str) -> None:
        ws.send_json({"id": id, "type": "subscribe", "payload": {"query": SUBSCRIPTION}})

    def refused_over_sse(self, address: str, limit: str) -> None:
        """An event stream from ``address`` is refused before any event."""
        with self.client.stream(
            "POST",
            "/graphql",
            json={"query": SUBSCRIPTION},
            headers={"accept": "text/event-stream", ADDRESS_HEADER: address},
        ) as response:
            assert response.status_code == 200
            lines = [line for line in response.iter_lines() if line.startswith("data: {")]
        [first] = lines
        refusal({"type": "next", "payload": json.loads(first.removeprefix("data: "))}, limit)

    def publish(self, *change_ids: int) -> None:
        """Publishes the events on the app's loop, with no pause between them."""

        async def publish_all() -> None:
            for change_id in change_ids:
                await self.broadcaster.publish(event(change_id))

        self.on_loop(publish_all)


def next_event(ws: Any, id: str) -> dict[str, Any]:
    message: dict[str, Any] = ws.receive_json()
    assert (message["type"], message["id"]) == ("next", id), message
    assert "errors" not in message["payload"], message
    return message


@pytest.fixture(scope="module")
def small_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(backend, tmp_path_factory.mktemp("limits")) as db:
        run_cli("seed", "--database-url", db, "--demo", "20", "--seed", "1")
        yield db


@pytest.fixture
def serve(
    small_db: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., contextlib.AbstractContextManager[Server]]:
    monkeypatch.setattr(KeptBroadcaster, "made", [])
    monkeypatch.setattr(gql.app, "InProcessBroadcaster", KeptBroadcaster)

    @contextlib.contextmanager
    def start(**settings: Any) -> Iterator[Server]:
        app = ClientAddressFromHeader(create_app(Settings(database_url=small_db, **settings)))
        with TestClient(app) as client:
            yield Server(client, KeptBroadcaster.made[-1])

    return start


def test_the_process_cap_holds_across_sockets_addresses_and_transports(
    serve: Callable[..., contextlib.AbstractContextManager[Server]],
) -> None:
    with serve(max_subscriptions=2, max_subscriptions_per_client=10) as server:
        with server.socket("10.0.0.1") as first, server.socket("10.0.0.2") as second:
            server.subscribe(first, "1")
            server.subscribe(first, "2")
            server.wait_for_subscribers(2)
            server.subscribe(second, "3")
            refusal(second.receive_json(), "process")
            assert second.receive_json() == {"id": "3", "type": "complete"}
            server.refused_over_sse("10.0.0.3", "process")
            assert server.counts() == (2, 2, 1)
            # A subscriber that leaves frees its slot for anyone.
            first.send_json({"id": "1", "type": "complete"})
            server.wait_for_subscribers(1)
            server.subscribe(second, "3")
            server.wait_for_subscribers(2)
            server.publish(1)
            assert next_event(second, "3")["payload"]["data"]["connectionStatusChanged"]
            assert next_event(first, "2")
            assert server.counts() == (2, 2, 2)
        # Closing the sockets gives back every slot.
        server.wait_for_subscribers(0)
        assert server.counts() == (0, 0, 0)


def test_the_per_client_cap_holds_for_one_address_only(
    serve: Callable[..., contextlib.AbstractContextManager[Server]],
) -> None:
    with serve(max_subscriptions=100, max_subscriptions_per_client=2) as server:
        with server.socket("10.0.0.1") as first:
            server.subscribe(first, "1")
            server.subscribe(first, "2")
            server.wait_for_subscribers(2)
            # The cap is per address, not per socket.
            with server.socket("10.0.0.1") as again:
                server.subscribe(again, "3")
                refusal(again.receive_json(), "client")
            server.refused_over_sse("10.0.0.1", "client")
            with server.socket("10.0.0.2") as other:
                server.subscribe(other, "1")
                server.subscribe(other, "2")
                server.wait_for_subscribers(4)
                assert server.counts() == (4, 4, 2)
            server.wait_for_subscribers(2)
        server.wait_for_subscribers(0)
        assert server.counts() == (0, 0, 0)
        # The address's slots are free again.
        with server.socket("10.0.0.1") as later:
            server.subscribe(later, "1")
            server.wait_for_subscribers(1)
            server.publish(1)
            assert next_event(later, "1")


def test_a_subscriber_too_slow_gives_back_its_slot(
    serve: Callable[..., contextlib.AbstractContextManager[Server]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(KeptBroadcaster, "backlog", 1)
    # The dispatcher waits for no slice to come through, as for a stuck socket: the
    # subscription falls behind.
    monkeypatch.setattr(broadcast_memory, "_through", no_wait)
    with serve(max_subscriptions=1) as server, server.socket("10.0.0.1") as ws:
        server.subscribe(ws, "slow")
        server.wait_for_subscribers(1)
        server.publish(1, 2, 3)  # the subscription reads none in between
        messages = [ws.receive_json() for _ in range(3)]
        assert messages[-1] == {"id": "slow", "type": "complete"}
        assert messages[1]["payload"]["errors"][0]["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
        server.wait_for_subscribers(0)
        assert server.counts() == (0, 0, 0)
        server.subscribe(ws, "again")
        server.wait_for_subscribers(1)


# -- a write and its fan-out -----------------------------------------------------------------

SET_STATUS = """
mutation SetStatus($id: Int!, $status: Int!) {
  setConnectionStatus(id: $id, statusTypeId: $status) { userErrors { code } }
}"""


@pytest.fixture
async def writable(small_db: str, database_url: str) -> AsyncIterator[tuple[Context, Context]]:
    """A writer's context and a subscriber's, sharing one broadcaster as the app's do."""
    await copy_database(small_db, database_url)
    settings = Settings(database_url=database_url)
    repository = await open_repository(settings)
    references = ReferenceCache(repository)
    broadcaster = InProcessBroadcaster()
    writes = ConnectionWrites(repository, references, broadcaster)
    key = await create_key(repository, "writer", read_only=False)

    def context(credential: str | None) -> Context:
        return Context.for_request(
            settings,
            repository,
            references,
            broadcaster=broadcaster,
            writes=writes,
            credential=credential,
        )

    yield context(key), context(None)
    await repository.close()


async def test_a_write_is_answered_before_its_fan_out_ends(
    writable: tuple[Context, Context],
) -> None:
    writer, reader = writable
    broadcaster = reader.broadcaster
    assert isinstance(broadcaster, InProcessBroadcaster)
    subscribers = 2000
    received: list[int] = []
    joined = asyncio.Event()

    async def subscriber() -> None:
        async with broadcaster.subscribe() as events:
            if broadcaster.subscriber_count == subscribers:
                joined.set()
            received.append((await anext(events)).change_id)

    tasks = [asyncio.create_task(subscriber()) for _ in range(subscribers)]
    await joined.wait()
    result = await schema.execute(
        SET_STATUS, variable_values={"id": A, "status": 30}, context_value=writer
    )
    assert result.errors is None
    assert result.data is not None
    assert result.data["setConnectionStatus"]["userErrors"] == []
    # The answer is ready; as it goes out (a turn of the loop), the fan-out is not done.
    await asyncio.sleep(0)
    assert len(received) < subscribers
    async with asyncio.timeout(30):
        await asyncio.gather(*tasks)
    assert len(received) == subscribers
    assert len(set(received)) == 1
