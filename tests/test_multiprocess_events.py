"""Two `ocm-gql serve` processes on one SQLite file and one Redis, as real processes:
live events and reference lists are shared between them, and losing Redis costs neither
reads nor writes, only a coded end of live streams that clients resubscribe from."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
import websockets

from tests.processes import Process, ocm_server
from tests.redis_servers import private_redis, redis_prefix
from tests.workers_proc import holder, server_sockets, wait_for_workers

pytestmark = pytest.mark.e2e

DEMO = 1_000_000_000
WATCHED = [DEMO + n for n in range(1, 11)]
WARM = DEMO + 11
"""Written until every subscriber has heard of it: then the subscriptions are live."""
STATUSES = [50, 75, 100, 150]
INTERRUPTED = "SUBSCRIPTION_INTERRUPTED"

SUBSCRIPTION = (
    "subscription($ids: [Int!]) { connectionStatusChanged(filter: {ids: $ids}) "
    "{ connectionInfo { id } previousStatusTypeId statusTypeId } }"
)
SET_STATUS = (
    "mutation($id: Int!, $s: Int!) { setConnectionStatus(id: $id, statusTypeId: $s) "
    "{ userErrors { code } } }"
)
HISTORY = (
    "query($id: Int!) { connectionInfoHistory(id: $id, first: 100) "
    "{ nodes { id action before { statusTypeId } after { statusTypeId } } } }"
)
STATUS = "query($id: Int!) { connectionInfo(id: $id) { statusTypeId } }"
STATUS_TITLES = "{ statusTypes { id title } }"


@dataclass
class Deployment:
    folder: Path
    db: str
    key: str
    env: dict[str, str]
    servers: list[Process] = field(default_factory=list)

    def start(self) -> tuple[Process, Process]:
        for _ in range(2):
            self.servers.append(
                ocm_server("--database-url", self.db, cwd=self.folder, env=self.env)
            )
        return self.servers[0], self.servers[1]

    def start_workers(self) -> Process:
        """One `serve --workers 2`: the kernel hands each connection to either worker."""
        server = ocm_server(
            "--database-url", self.db, "--workers", "2", cwd=self.folder, env=self.env
        )
        self.servers.append(server)
        return server


@contextlib.contextmanager
def deployment(folder: Path, redis_url: str, prefix: str) -> Iterator[Deployment]:
    db = f"sqlite:///{folder / 'ocm.db'}"
    env = {
        "OCM_GQL_REDIS_URL": redis_url,
        "OCM_GQL_REDIS_KEY_PREFIX": prefix,
        "OCM_GQL_LOG_LEVEL": "warning",
    }
    cli(folder, env, "seed", "--database-url", db, "--demo", "20")
    key = cli(folder, env, "keys", "create", "--database-url", db, "--name", "w").split()[-1]
    running = Deployment(folder, db, key, env)
    try:
        yield running
    finally:
        for server in running.servers:
            server.stop()


def cli(folder: Path, env: dict[str, str], *args: str) -> str:
    """`ocm-gql` as its own process, with the servers' settings; what it printed."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
    done = subprocess.run(
        [sys.executable, "-m", "gql", *args],
        cwd=folder,
        env={**environment, **env},
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.stdout


@dataclass
class Stream:
    """What one subscriber heard: events, error codes, and whether its stream ended."""

    events: list[dict[str, Any]] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    """The kinds of message (WebSocket) or event (SSE) received."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def take(self, payload: dict[str, Any]) -> None:
        if payload.get("errors"):
            self.codes += [error["extensions"]["code"] for error in payload["errors"]]
        else:
            self.events.append(payload["data"]["connectionStatusChanged"])

    def changes(self, connection_id: int) -> list[tuple[int | None, int | None]]:
        return [
            (event["previousStatusTypeId"], event["statusTypeId"])
            for event in self.events
            if event["connectionInfo"]["id"] == connection_id
        ]


async def over_websocket(server: Process, ids: list[int], stream: Stream) -> None:
    url = server.url.replace("http://", "ws://") + "/graphql"
    try:
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            payload = {"query": SUBSCRIPTION, "variables": {"ids": ids}}
            await socket.send(json.dumps({"type": "subscribe", "id": "1", "payload": payload}))
            async for raw in socket:
                message = json.loads(raw)
                stream.messages.append(message["type"])
                if message["type"] == "ping":
                    await socket.send(json.dumps({"type": "pong"}))
                elif message["type"] == "next":
                    stream.take(message["payload"])
                elif message["type"] == "error":
                    stream.take({"errors": message["payload"]})
                elif message["type"] == "complete":
                    return
    finally:
        stream.ended.set()


async def over_event_stream(server: Process, ids: list[int], stream: Stream) -> None:
    body = {"query": SUBSCRIPTION, "variables": {"ids": ids}}
    try:
        async with (
            httpx2.AsyncClient(timeout=60) as client,
            client.stream(
                "POST",
                f"{server.url}/graphql",
                json=body,
                headers={"accept": "text/event-stream"},
            ) as response,
        ):
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    stream.messages.append(line.removeprefix("event: "))
                if line.startswith("data: ") and line != "data: ":
                    stream.take(json.loads(line.removeprefix("data: ")))
                elif line == "event: complete":
                    return
    finally:
        stream.ended.set()


async def graphql(
    client: httpx2.AsyncClient, server: Process, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(
        f"{server.url}/graphql", json={"query": query, "variables": variables}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body


async def set_status(
    client: httpx2.AsyncClient, server: Process, connection_id: int, status: int
) -> None:
    body = await graphql(client, server, SET_STATUS, {"id": connection_id, "s": status})
    assert body["data"]["setConnectionStatus"]["userErrors"] == []


async def until(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """Polls ``condition`` (every 10 ms) until it holds; fails after ``seconds``."""
    for _ in range(max(1, int(seconds * 100))):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"not within {seconds} s: {what}")


async def warm_up(client: httpx2.AsyncClient, server: Process, streams: list[Stream]) -> None:
    """Writes WARM until every stream has heard of it: all are subscribed then."""
    for round in range(200):
        await set_status(client, server, WARM, STATUSES[round % 2])
        with contextlib.suppress(AssertionError):
            await until(lambda: all(s.changes(WARM) for s in streams), "warm", seconds=0.1)
            return
    raise AssertionError("the subscriptions never heard of a change")


@contextlib.asynccontextmanager
async def clients(key: str) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(headers={"x-api-key": key}, timeout=30) as client:
        yield client


@contextlib.asynccontextmanager
async def one_per_process(
    a: Process, b: Process, key: str
) -> AsyncIterator[list[httpx2.AsyncClient]]:
    """A kept-alive client on each of the two processes; when both are one `--workers 2`
    server, a client on each worker (new connections until each worker holds one, read
    from /proc), so writes go through both."""
    async with contextlib.AsyncExitStack() as stack:

        async def client() -> httpx2.AsyncClient:
            limits = httpx2.Limits(max_connections=1)
            return await stack.enter_async_context(
                httpx2.AsyncClient(headers={"x-api-key": key}, timeout=30, limits=limits)
            )

        if a is not b:
            yield [await client(), await client()]
            return
        workers = wait_for_workers(a, 2)
        by_worker: dict[int, httpx2.AsyncClient] = {}
        for _ in range(400):
            lane = await client()
            before = server_sockets(a.port, "01")
            assert (await lane.get(f"{a.url}/healthz")).status_code == 200
            [new] = server_sockets(a.port, "01") - before
            by_worker.setdefault(holder(new, workers), lane)
            if len(by_worker) == 2:
                yield list(by_worker.values())
                return
        raise AssertionError("connections did not reach both workers")


@pytest.mark.parametrize("topology", ["two processes", "two workers"])
async def test_changes_through_either_process_reach_every_subscriber_once_in_order(
    tmp_path: Path, topology: str
) -> None:
    with redis_prefix() as (url, prefix), deployment(tmp_path, url, prefix) as running:
        if topology == "two processes":
            a, b = running.start()
        else:
            a = b = running.start_workers()
        async with clients(running.key) as client, one_per_process(a, b, running.key) as lanes:
            streams = [Stream(), Stream()]
            listeners = [
                asyncio.create_task(over_websocket(b, [*WATCHED, WARM], streams[0])),
                asyncio.create_task(over_event_stream(b, [*WATCHED, WARM], streams[1])),
            ]
            await warm_up(client, a, streams)
            earlier = {
                connection_id: {
                    node["id"]
                    for node in (await graphql(client, a, HISTORY, {"id": connection_id}))["data"][
                        "connectionInfoHistory"
                    ]["nodes"]
                }
                for connection_id in WATCHED
            }

            async def writer(lane: httpx2.AsyncClient, server: Process, seed: int) -> None:
                rng = random.Random(seed)
                for _ in range(25):
                    await set_status(lane, server, rng.choice(WATCHED), rng.choice(STATUSES))

            # 8 writers, 4 on each process (or worker), 200 writes to 10 connections.
            await asyncio.gather(*(writer(lanes[n % 2], (a, b)[n % 2], n) for n in range(8)))

            committed: dict[int, list[tuple[int | None, int | None]]] = {}
            for connection_id in WATCHED:
                nodes = (await graphql(client, b, HISTORY, {"id": connection_id}))["data"][
                    "connectionInfoHistory"
                ]["nodes"]
                # Newest first: the change log's own order, reversed.
                committed[connection_id] = [
                    (node["before"]["statusTypeId"], node["after"]["statusTypeId"])
                    for node in reversed(nodes)
                    if node["id"] not in earlier[connection_id]
                ]
            total = sum(len(changes) for changes in committed.values())
            assert total > 100  # few of the 200 writes left a status as it was

            def heard(stream: Stream) -> int:
                return sum(len(stream.changes(c)) for c in WATCHED)

            await until(lambda: all(heard(s) >= total for s in streams), "every change heard")
            await asyncio.sleep(0.3)  # time for a duplicate to arrive, were there one
            for stream in streams:
                assert stream.codes == []
                for connection_id in WATCHED:
                    assert stream.changes(connection_id) == committed[connection_id]
            for connection_id in WATCHED:
                stored = (await graphql(client, a, STATUS, {"id": connection_id}))["data"]
                last = committed[connection_id][-1][1] if committed[connection_id] else None
                if last is not None:
                    assert stored["connectionInfo"]["statusTypeId"] == last
            for listener in listeners:
                listener.cancel()
            print(f"{total} committed changes, each heard once and in order by 2 subscribers")


def _status_titles(server: Process) -> dict[int, str]:
    body = httpx2.post(f"{server.url}/graphql", json={"query": STATUS_TITLES}, timeout=10).json()
    return {row["id"]: row["title"] for row in body["data"]["statusTypes"]}


def test_a_reference_write_is_seen_by_every_server_at_its_next_answer(tmp_path: Path) -> None:
    """The real path: `ocm-gql seed` run again (after an upgrade brings new reference
    lists, say) against the database the servers use, with the same Redis."""
    with redis_prefix() as (url, prefix), deployment(tmp_path, url, prefix) as running:
        with sqlite3.connect(tmp_path / "ocm.db") as db:
            db.execute("UPDATE status_type SET title = 'Out of date' WHERE id = 150")
        a, b = running.start()
        assert _status_titles(a)[150] == _status_titles(b)[150] == "Out of date"  # cached
        cli(tmp_path, running.env, "seed", "--database-url", running.db)
        assert _status_titles(a)[150] == _status_titles(b)[150] != "Out of date"


async def test_losing_redis_under_load_costs_no_request_and_subscribers_are_told(
    tmp_path: Path,
) -> None:
    with private_redis() as redis, deployment(tmp_path, redis.url, "fault:") as running:
        a, b = running.start()
        answers: list[int] = []
        write_failures: list[str] = []
        writes_while_down = 0
        down = False
        stop = asyncio.Event()
        async with clients(running.key) as client:

            async def reader() -> None:
                while not stop.is_set():
                    for server in (a, b):
                        response = await client.post(
                            f"{server.url}/graphql", json={"query": STATUS_TITLES}
                        )
                        answers.append(response.status_code)
                        readiness = await client.get(f"{server.url}/readyz")
                        answers.append(readiness.status_code)

            async def writer() -> None:
                nonlocal writes_while_down
                n = 0
                while not stop.is_set():
                    n += 1
                    server = (a, b)[n % 2]
                    try:
                        await set_status(client, server, WATCHED[n % 10], STATUSES[n % 4])
                        writes_while_down += down
                    except AssertionError as error:
                        write_failures.append(str(error))

            load = [asyncio.create_task(reader()), asyncio.create_task(writer())]
            streams = [Stream(), Stream()]
            listeners = [
                asyncio.create_task(over_websocket(b, [WARM], streams[0])),
                asyncio.create_task(over_event_stream(b, [WARM], streams[1])),
            ]
            await warm_up(client, a, streams)

            redis.stop()
            down = True
            # Told promptly, with the code, and the streams end (no silent stall).
            await until(lambda: all(s.ended.is_set() for s in streams), "streams ended", 5)
            assert [s.codes for s in streams] == [[INTERRUPTED], [INTERRUPTED]]
            # The error, then the end, on either transport.
            assert [s.messages[-2:] for s in streams] == [["next", "complete"]] * 2
            for server in (a, b):
                readiness = await client.get(f"{server.url}/readyz")
                assert readiness.status_code == 200
                body = readiness.json()
                assert body["status"] == "degraded"
                assert redis.url.removeprefix("redis://") in body["degraded"]["redis"]
            refused = Stream()
            await asyncio.wait_for(over_websocket(b, [WARM], refused), 5)
            assert refused.codes == [INTERRUPTED]
            assert refused.messages[-2:] == ["next", "complete"]
            await until(lambda: writes_while_down >= 10, "writes while Redis is down")

            redis.start()
            down = False

            async def ready(server: Process) -> bool:
                return (await client.get(f"{server.url}/readyz")).json()["status"] == "ok"

            for server in (a, b):
                for _ in range(200):
                    if await ready(server):
                        break
                    await asyncio.sleep(0.05)
                assert await ready(server)
            # Subscribe again (once the listener is back: refused until then).
            for _ in range(100):
                again = [Stream(), Stream()]
                listeners = [
                    asyncio.create_task(over_websocket(b, [WARM], again[0])),
                    asyncio.create_task(over_event_stream(b, [WARM], again[1])),
                ]
                await asyncio.sleep(0.2)
                if not any(s.ended.is_set() for s in again):
                    break
            await warm_up(client, a, again)
            assert [s.codes for s in again] == [[], []]
            stop.set()
            await asyncio.gather(*load)
            for listener in listeners:
                listener.cancel()
        assert write_failures == []
        assert answers
        assert all(status < 500 for status in answers), sorted(set(answers))
        print(
            f"{len(answers)} answers and {writes_while_down} writes while Redis was down, "
            "no 5xx; subscribers told, then served again"
        )
