"""Subscriptions over Server-Sent Events (graphql-sse, distinct connections), against a
real server: events arrive in commit order, filtered, as `event: next` lines."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.conftest import run_cli
from tests.processes import Process, ocm_server

pytestmark = pytest.mark.e2e

WATCHED = 1_000_000_001
OTHER = 1_000_000_002
SUBSCRIPTION = (
    "subscription($ids: [Int!]) { connectionStatusChanged(filter: {ids: $ids}) "
    "{ connectionInfo { id } previousStatusTypeId statusTypeId } }"
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Process, str]]:
    folder = tmp_path_factory.mktemp("sse")
    db = folder / "sse.db"
    run_cli("seed", "--db", str(db), "--demo", "20")
    key = run_cli("keys", "create", "--db", str(db), "--name", "sse").strip().splitlines()[-1]
    server = ocm_server("--db", str(db), cwd=Path(folder))
    try:
        yield server, key
    finally:
        server.stop()


def _set_status(server: Process, key: str, connection_id: int, status: int) -> None:
    response = httpx2.post(
        f"{server.url}/graphql",
        json={
            "query": "mutation($id: Int!, $s: Int!) { setConnectionStatus(id: $id, "
            "statusTypeId: $s) { userErrors { code } } }",
            "variables": {"id": connection_id, "s": status},
        },
        headers={"x-api-key": key},
        timeout=10,
    )
    assert response.json()["data"]["setConnectionStatus"]["userErrors"] == []


def test_status_changes_stream_as_server_sent_events(served: tuple[Process, str]) -> None:
    server, key = served
    events: list[dict[str, Any]] = []
    opened = threading.Event()
    content_types: list[str] = []

    def listen() -> None:
        with httpx2.stream(
            "POST",
            f"{server.url}/graphql",
            json={"query": SUBSCRIPTION, "variables": {"ids": [WATCHED]}},
            headers={"accept": "text/event-stream"},
            timeout=20,
        ) as response:
            content_types.append(response.headers["content-type"])
            opened.set()
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line.removeprefix("data: ")))
                if len(events) == 4:
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(10)
    # The subscription is live once a change is heard; warm up until then, ending on 50.
    for _ in range(50):
        _set_status(server, key, WATCHED, 75)
        _set_status(server, key, WATCHED, 50)
        deadline = time.monotonic() + 0.2
        while len(events) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        if len(events) >= 2:
            break
    assert events
    assert events[-1]["data"]["connectionStatusChanged"]["statusTypeId"] == 50
    events.clear()
    statuses = [75, 50, 75, 50]
    for status in statuses:
        _set_status(server, key, OTHER, status)  # not matching: never streamed
        _set_status(server, key, WATCHED, status)
    listener.join(20)
    assert content_types[0].startswith("text/event-stream")
    changes = [event["data"]["connectionStatusChanged"] for event in events]
    assert [change["connectionInfo"]["id"] for change in changes] == [WATCHED] * 4
    assert [change["statusTypeId"] for change in changes] == statuses
    assert [change["previousStatusTypeId"] for change in changes] == [50, 75, 50, 75]
    print(f"graphql-sse: {len(changes)} events in order, none for the unwatched connection")
