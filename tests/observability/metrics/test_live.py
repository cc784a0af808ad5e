"""Live metrics over real sockets (uvicorn on loopback, in this process): open WebSockets
and event streams, running subscriptions, events published and delivered; and a
subscriber ended for falling behind."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from websockets.sync.client import connect

from gql.broadcast import memory as broadcast_memory
from gql.settings import Settings
from tests.observability.metrics.samples import Growth
from tests.observability.metrics.serving import serving, wait_for
from tests.redis_servers import redis_prefix
from tests.test_broadcast import event, take
from tests.test_broadcast_redis import processes
from tests.test_subscriptions import (  # live_db, open_live: that test's fixtures
    PROTOCOL,
    SET_STATUS,
    STATUS,
    SUBSCRIPTION,
    A,
    Live,
    RecordingBroadcaster,
    flood,
    live_db,  # noqa: F401
    no_wait,
    open_live,  # noqa: F401
)

pytestmark = pytest.mark.timeout(120)


def _graphql(base: str, query: str, variables: dict[str, Any], key: str) -> dict[str, Any]:
    response = httpx2.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"X-API-Key": key},
        timeout=30,
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def _change_status(base: str, key: str) -> int:
    current = _graphql(base, STATUS, {"id": A}, key)["connectionInfo"]["statusTypeId"]
    status = 100 if current != 100 else 50
    _graphql(base, SET_STATUS, {"id": A, "status": status}, key)
    return status


def _becomes(growth: Growth, name: str, expected: float, **labels: str) -> None:
    wait_for(lambda: growth(name, **labels) == expected, f"{name}{labels} to grow by {expected}")


def test_a_websocket_subscription_counts_while_it_runs(
    live_db: tuple[str, str],  # noqa: F811
) -> None:
    db, key = live_db
    growth = Growth()
    with serving(Settings(database_url=db)) as base:
        url = base.replace("http", "ws", 1) + "/graphql"
        with connect(url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
            _becomes(growth, "ocm_gql_websocket_connections", 1)
            ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(ws.recv())["type"] == "connection_ack"
            ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
            )
            _becomes(growth, "ocm_gql_active_subscriptions", 1, transport="websocket")
            status = _change_status(base, key)
            message = json.loads(ws.recv())
            assert message["type"] == "next", message
            change = message["payload"]["data"]["connectionStatusChanged"]
            assert change["statusTypeId"] == status
            assert growth("ocm_gql_events_published_total", event="status_changed") == 1
            assert growth("ocm_gql_events_delivered_total", event="status_changed") == 1
            ws.send(json.dumps({"id": "1", "type": "complete"}))
            _becomes(growth, "ocm_gql_active_subscriptions", 0, transport="websocket")
            assert growth("ocm_gql_websocket_connections") == 1
        _becomes(growth, "ocm_gql_websocket_connections", 0)
    assert growth("ocm_gql_slow_subscribers_ended_total", transport="websocket") == 0


def test_an_event_stream_counts_while_it_is_open(
    live_db: tuple[str, str],  # noqa: F811
) -> None:
    db, key = live_db
    growth = Growth()
    with serving(Settings(database_url=db)) as base, httpx2.Client(timeout=30) as client:
        with client.stream(
            "POST",
            f"{base}/graphql",
            json={"query": SUBSCRIPTION},
            headers={"Accept": "text/event-stream"},
        ) as stream:
            assert stream.status_code == 200
            _becomes(growth, "ocm_gql_sse_connections", 1)
            _becomes(growth, "ocm_gql_active_subscriptions", 1, transport="sse")
            assert growth("ocm_gql_websocket_connections") == 0
            _change_status(base, key)
            lines = stream.iter_lines()
            assert next(line for line in lines if line.startswith("data:"))
            assert growth("ocm_gql_events_delivered_total", event="status_changed") == 1
        _becomes(growth, "ocm_gql_sse_connections", 0)
        _becomes(growth, "ocm_gql_active_subscriptions", 0, transport="sse")


def test_a_subscriber_ended_for_being_slow_is_counted(
    open_live: Callable[..., contextlib.AbstractContextManager[Live]],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As in test_subscriptions.py: a backlog of 3, and a dispatcher that waits for no one.
    monkeypatch.setattr(RecordingBroadcaster, "backlog", 3)
    monkeypatch.setattr(broadcast_memory, "_through", no_wait)
    growth = Growth()
    with open_live() as live, live.socket() as ws:
        ws.init()
        ws.subscribe("slow")
        live.wait_for_subscribers(1)
        live.on_loop(flood(live, 5))
        for _ in range(3):
            ws.next_event("slow")
        ended = ws.receive()
        assert ended["payload"]["errors"][0]["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
        assert growth("ocm_gql_slow_subscribers_ended_total", transport="websocket") == 1
        assert growth("ocm_gql_events_published_total", event="status_changed") == 5
        assert growth("ocm_gql_events_delivered_total", event="status_changed") == 3


async def test_through_redis_an_event_is_published_once_and_delivered_to_each() -> None:
    # Two broadcasters stand for two processes: the publisher counts the event once,
    # and each delivers it to its own subscriber.
    growth = Growth()
    with redis_prefix() as (url, prefix):
        async with (
            processes(url, prefix) as (a, b),
            a.broadcaster.subscribe() as at_a,
            b.broadcaster.subscribe() as at_b,
        ):
            await a.broadcaster.publish(event(1))
            assert await take(at_a, 1) == [1]
            assert await take(at_b, 1) == [1]
    assert growth("ocm_gql_events_published_total", event="status_changed") == 1
    assert growth("ocm_gql_events_delivered_total", event="status_changed") == 2
