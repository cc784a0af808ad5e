"""Subscriptions over Server-Sent Events (graphql-sse, distinct connections), against a
real server: events arrive in commit order, filtered, as `event: next` lines."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.conftest import run_cli
from tests.databases import throwaway_database
from tests.persisted_queries import write_manifest
from tests.processes import Process, ocm_server

pytestmark = pytest.mark.e2e

WATCHED = 1_000_000_001
OTHER = 1_000_000_002
SUBSCRIPTION = (
    "subscription($ids: [Int!]) { connectionStatusChanged(filter: {ids: $ids}) "
    "{ connectionInfo { id } previousStatusTypeId statusTypeId } }"
)


@pytest.fixture(scope="module")
def served(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Process, str]]:
    folder = tmp_path_factory.mktemp("sse")
    with throwaway_database(backend, folder) as db:
        run_cli("seed", "--database-url", db, "--demo", "20")
        created = run_cli("keys", "create", "--database-url", db, "--name", "sse")
        server = ocm_server("--database-url", db, cwd=Path(folder))
        try:
            yield server, created.strip().splitlines()[-1]
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


# --- the limits over a real socket --------------------------------------------------

LISTED_QUERY = "query Levels { levels { id } }"
LISTED_SUBSCRIPTION = "subscription Changes { connectionStatusChanged { statusTypeId } }"
BODY_LIMIT = 4096


@pytest.fixture(scope="module")
def guarded(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    """A server with a small body limit that runs only its trusted documents."""
    folder = tmp_path_factory.mktemp("sse-limits")
    manifest = write_manifest(folder / "manifest.json", LISTED_QUERY, LISTED_SUBSCRIPTION)
    env = {"OCM_GQL_MAX_BODY_BYTES": str(BODY_LIMIT), "OCM_GQL_TRUSTED_DOCUMENTS": str(manifest)}
    with throwaway_database(backend, folder) as db:
        run_cli("seed", "--database-url", db, "--demo", "20")
        server = ocm_server("--database-url", db, cwd=Path(folder), env=env)
        try:
            yield server
        finally:
            server.stop()


def _raw_post(server: Process, head: str, body_chunks: Iterator[bytes]) -> tuple[int, int]:
    """Sends ``head``, then body chunks for as long as the server has not answered: the
    status it answered and the body bytes sent by then."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        sock.sendall(head.encode())
        sent = 0
        for chunk in body_chunks:
            if select.select([sock], [], [], 0.01)[0]:
                break  # answered
            try:
                sock.sendall(chunk)
            except OSError:  # answered and closed, or stopped reading (20 s)
                break
            sent += len(chunk)
        status_line = sock.recv(65536).split(b"\r\n", 1)[0]
        return int(status_line.split()[1]), sent


def _head(**headers: str) -> str:
    fields = {
        "Host": "127.0.0.1",
        "Accept": "text/event-stream",
        "Content-Type": "application/json",
        **headers,
    }
    return (
        "POST /graphql HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    )


def test_an_oversized_declared_body_is_refused_unread(guarded: Process) -> None:
    # 72 MB declared, none of it sent: the answer comes at once, not after reading it.
    status, sent = _raw_post(guarded, _head(**{"Content-Length": str(72 * 2**20)}), iter([]))
    assert (status, sent) == (413, 0)


def test_an_oversized_chunked_body_is_cut_at_the_limit(guarded: Process) -> None:
    chunk = b" " * 1024
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    # Up to 64 MB offered; the server answers once it has more than 4 KB.
    status, sent = _raw_post(
        guarded, _head(**{"Transfer-Encoding": "chunked"}), (framed for _ in range(65536))
    )
    offered = 65536 * len(framed)
    assert status == 413
    assert sent < offered // 100  # far less than offered: it was not read
    print(f"chunked body over SSE: 413 after {sent:,} of {offered:,} bytes offered")


def test_only_trusted_documents_stream(guarded: Process) -> None:
    refused = httpx2.post(
        f"{guarded.url}/graphql",
        json={"query": "{ levels { id title } }"},
        headers={"accept": "text/event-stream"},
        timeout=20,
    )
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
    answered = httpx2.post(
        f"{guarded.url}/graphql",
        json={"query": LISTED_QUERY},
        headers={"accept": "text/event-stream"},
        timeout=20,
    )
    assert answered.status_code == 200
    assert answered.text.startswith("event: next\r\ndata: ")
    assert answered.text.endswith("event: complete\r\ndata: \r\n\r\n")
    with httpx2.stream(
        "POST",
        f"{guarded.url}/graphql",
        json={"query": LISTED_SUBSCRIPTION},
        headers={"accept": "text/event-stream"},
        timeout=20,
    ) as subscribed:
        assert subscribed.status_code == 200
        assert subscribed.headers["content-type"].startswith("text/event-stream")
