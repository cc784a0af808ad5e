"""Slow clients against a real server: header, body and idle deadlines close their
connections, and the connection cap answers 503 instead of the OS refusing everyone."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx2
import pytest
import websockets
from starlette.types import Message

from gql.app import create_app
from gql.settings import Settings
from tests.conftest import REPO_ROOT, run_cli
from tests.processes import Process, ocm_server

pytestmark = pytest.mark.e2e

GUARD = 30  # seconds: only a failure guard, never a measurement
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
HEALTHZ_END = b'"}'
"""The end of /healthz's JSON body (no header holds it)."""


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("slow") / "slow.db"
    run_cli("seed", "--db", str(db))
    return db


@pytest.fixture(scope="module")
def deadlines(db: Path) -> Iterator[Process]:
    """Header, body and idle deadlines of 1 s."""
    server = ocm_server(
        "--db",
        str(db),
        cwd=REPO_ROOT,
        env={
            "OCM_GQL_HEADER_TIMEOUT_SECONDS": "1",
            "OCM_GQL_BODY_TIMEOUT_SECONDS": "1",
            "OCM_GQL_IDLE_TIMEOUT_SECONDS": "1",
        },
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def capped(db: Path) -> Iterator[Process]:
    """At most 20 connections; silent ones are closed after 3 s, idle ones after 1 s."""
    server = ocm_server(
        "--db",
        str(db),
        cwd=REPO_ROOT,
        env={
            "OCM_GQL_MAX_CONNECTIONS": "20",
            "OCM_GQL_HEADER_TIMEOUT_SECONDS": "3",
            "OCM_GQL_IDLE_TIMEOUT_SECONDS": "1",
        },
    )
    yield server
    server.stop()


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@contextlib.asynccontextmanager
async def connections(server: Process, count: int) -> AsyncIterator[list[Connection]]:
    opened = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(count)]
    try:
        yield opened
    finally:
        for _, writer in opened:
            writer.close()


async def read_until_closed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trickle: bytes = b""
) -> bytes:
    """Everything the server sends until it closes the connection; meanwhile ``trickle``
    is sent one byte every 0.2 s (a slow client)."""
    received = b""
    async with asyncio.timeout(GUARD):
        while True:
            try:
                data = await asyncio.wait_for(reader.read(65536), 0.2)
            except TimeoutError:
                if trickle:
                    writer.write(trickle[:1])
                    trickle = trickle[1:]
                continue
            except ConnectionResetError:
                return received
            if not data:
                return received
            received += data


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


async def test_slow_headers_are_closed_while_other_clients_are_answered(
    deadlines: Process,
) -> None:
    slow_line = b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: "
    statuses: list[int] = []
    async with connections(deadlines, 50) as slow, httpx2.AsyncClient() as client:
        for _, writer in slow:
            writer.write(slow_line)
        closing = asyncio.gather(
            *(read_until_closed(reader, writer, trickle=b"a" * 1000) for reader, writer in slow)
        )
        while not closing.done():
            response = await client.get(deadlines.url + "/healthz", timeout=GUARD)
            statuses.append(response.status_code)
        answers = await closing
    assert answers == [b""] * 50  # closed without an answer
    assert len(statuses) >= 1
    assert set(statuses) == {200}


async def test_a_connection_that_sends_nothing_is_closed(deadlines: Process) -> None:
    async with connections(deadlines, 1) as [(reader, writer)]:
        assert await read_until_closed(reader, writer) == b""


async def test_a_slow_body_is_answered_408_and_closed(deadlines: Process) -> None:
    head = b"POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
    async with connections(deadlines, 1) as [(reader, writer)]:
        writer.write(head + b"Content-Length: 1000\r\n\r\n" + b'{"query": "')
        response = await read_until_closed(reader, writer, trickle=b"{ __typename }")
    head, _, body = response.partition(b"\r\n\r\n")
    assert status_of(head) == 408
    assert b"connection: close" in head.lower()
    error = json.loads(body)["errors"][0]
    assert error["extensions"]["code"] == "REQUEST_TIMEOUT"


async def test_kept_alive_and_pipelined_requests_are_answered(deadlines: Process) -> None:
    async with connections(deadlines, 1) as [(reader, writer)]:
        writer.write(HEALTHZ)
        first = await asyncio.wait_for(reader.readuntil(HEALTHZ_END), GUARD)
        writer.write(HEALTHZ * 3)
        async with asyncio.timeout(GUARD):
            pipelined = [await reader.readuntil(HEALTHZ_END) for _ in range(3)]
        assert [status_of(r) for r in [first, *pipelined]] == [200] * 4
        # Then idle: closed by the server with nothing more said.
        assert await read_until_closed(reader, writer) == b""


async def test_a_websocket_outlives_the_header_deadline(deadlines: Process) -> None:
    url = deadlines.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await asyncio.sleep(2.5)  # past the 1 s header deadline and idle timeout
        await socket.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(socket.recv(), GUARD))["type"] == "pong"


async def test_idle_kept_alive_connections_are_closed(capped: Process) -> None:
    async with connections(capped, 5) as idle:
        for _, writer in idle:
            writer.write(HEALTHZ)
        answers = await asyncio.gather(*(read_until_closed(r, w) for r, w in idle))
    assert [status_of(answer) for answer in answers] == [200] * 5


async def test_the_connection_cap_answers_503_until_connections_are_freed(
    capped: Process,
) -> None:
    async with connections(capped, 25) as silent, httpx2.AsyncClient() as client:
        refused = await client.get(capped.url + "/healthz", timeout=GUARD)
        statuses = [refused.status_code]
        async with asyncio.timeout(GUARD):
            while statuses[-1] != 200:
                await asyncio.sleep(0.2)
                response = await client.get(capped.url + "/healthz", timeout=GUARD)
                statuses.append(response.status_code)
        answers = await asyncio.gather(*(read_until_closed(r, w) for r, w in silent))
    assert refused.status_code == 503
    assert set(statuses) == {503, 200}
    assert answers == [b""] * 25


@pytest.mark.parametrize("accept", [b"application/json", b"text/event-stream"])
async def test_a_client_gone_before_its_body_is_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, accept: bytes
) -> None:
    """What the endpoints (plain and event stream) see of a body deadline: a disconnect,
    answered by nothing."""
    app = create_app(Settings(db=tmp_path / "unused.db"))
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/graphql",
        "headers": [
            (b"accept", accept),
            (b"content-type", b"application/json"),
            (b"content-length", b"1000"),
        ],
        "query_string": b"",
    }
    await app(scope, receive, send)
    assert sent == []
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_websocket_handshake_meets_the_connection_cap(capped: Process) -> None:
    url = capped.url.replace("http", "ws") + "/graphql"
    async with connections(capped, 25):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    assert refused.value.response.status_code == 503
