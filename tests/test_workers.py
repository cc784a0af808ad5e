"""`ocm-gql serve --workers 2` as real processes on one SQLite file: both workers answer,
writes through both are all kept with no `database is locked`, a killed worker is
replaced, and SIGTERM stops every process cleanly (exit 0).

Which worker holds a connection is read from /proc (Linux): the server side of each TCP
connection is a socket inode, found among the open files of exactly one worker. The API
itself says nothing about processes."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests import workers_proc as proc
from tests.conftest import run_cli
from tests.processes import Process, ocm_server
from tests.test_serve_lifecycle import RawRequest
from tests.test_write_durability import (
    QUIET,
    SHARED,
    UPDATE,
    Tally,
    WriterTask,
    _key,
    _rows,
    _whole_shared_row,
    assert_holds_exactly_the_acks,
)

pytestmark = pytest.mark.e2e

WORKERS = ("--workers", "2")
WRITE_SECONDS = 4.0
COUNT = "{ connectionInfos(first: 1) { totalCount } }"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("workers") / "workers.db"
    run_cli("seed", "--db", str(db), "--demo", "40", "--seed", "1")
    return db


@pytest.fixture(scope="module")
def keys(db: Path) -> dict[str, str]:
    return {f"writer{i}": _key(f"sqlite:///{db}", f"writer{i}") for i in range(8)}


@pytest.fixture(scope="module")
def server(
    db: Path, keys: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    running = ocm_server("--db", str(db), *WORKERS, cwd=tmp_path_factory.mktemp("cwd"), env=QUIET)
    yield running
    output = running.stop()
    assert "Traceback" not in output
    assert "locked" not in output


# -- processes and sockets, from /proc ----------------------------------------------------


def _answering_workers(server: Process, workers: set[int]) -> Counter[int]:
    """Opens connections, one request each, until every worker has answered one (the
    kernel hands each new connection to whichever worker accepts first)."""
    answered: Counter[int] = Counter()
    clients: list[httpx2.Client] = []
    try:
        for _ in range(200):
            before = proc.server_sockets(server.port, "01")
            client = httpx2.Client(base_url=server.url, timeout=30)
            clients.append(client)
            body = client.post("/graphql", json={"query": COUNT}).json()
            assert body["data"]["connectionInfos"]["totalCount"] > 0
            [new] = proc.server_sockets(server.port, "01") - before
            answered[proc.holder(new, workers)] += 1
            if set(answered) == workers:
                break
    finally:
        for client in clients:
            client.close()
    return answered


# -- the tests ----------------------------------------------------------------------------


def test_both_workers_answer(server: Process) -> None:
    workers = proc.wait_for_workers(server, 2)
    assert server.process.pid not in workers
    assert set(_answering_workers(server, workers)) == workers


async def _pin(writers: list[WriterTask], keys: dict[str, str], server: Process) -> Counter[int]:
    """Gives each writer a kept-alive connection, as many on each worker: a writer whose
    connection lands on a worker already holding its share gets a new one."""
    workers = proc.worker_pids(server)
    share = len(writers) // len(workers)
    placed: Counter[int] = Counter()
    for writer in writers:
        for _ in range(200):
            before = proc.server_sockets(server.port, "01")
            assert (await writer.client.get("/healthz")).status_code == 200
            [new] = proc.server_sockets(server.port, "01") - before
            worker = proc.holder(new, workers)
            if placed[worker] < share:
                placed[worker] += 1
                break
            await writer.client.aclose()
            headers = {"X-API-Key": keys[writer.name]}
            writer.client = httpx2.AsyncClient(base_url=server.url, headers=headers, timeout=60)
        else:
            raise AssertionError(f"no connection of {writer.name} reached another worker")
    return placed


@pytest.mark.timeout(120)
def test_writers_on_both_workers_keep_every_write(
    server: Process, db: Path, keys: dict[str, str]
) -> None:
    url = f"sqlite:///{db}"
    _whole_shared_row(url)
    rows_before = _rows(url)
    tally = Tally()
    writers = [
        WriterTask(name, key, server.url, tally, seed)
        for seed, (name, key) in enumerate(keys.items())
    ]

    async def load() -> tuple[Counter[int], Counter[int]]:
        try:
            placed = await _pin(writers, keys, server)
            for writer in writers:
                for _ in range(3):
                    await writer.create()
            deadline = time.monotonic() + WRITE_SECONDS

            async def write_loop(writer: WriterTask) -> None:
                while time.monotonic() < deadline:
                    await writer.step()
                await writer.delete(writer.own[0])

            async def midway() -> Counter[int]:
                # The writers' connections are where they were pinned, under load.
                await asyncio.sleep(WRITE_SECONDS / 2)
                workers = proc.worker_pids(server)
                return Counter(
                    proc.holder(inode, workers) for inode in proc.server_sockets(server.port, "01")
                )

            *_, held = await asyncio.gather(*(write_loop(w) for w in writers), midway())
            return placed, held
        finally:
            for writer in writers:
                await writer.client.aclose()

    placed, held = asyncio.run(load())
    assert sorted(placed.values()) == [4, 4]
    assert held == placed
    assert tally.server_errors == 0
    assert tally.locked == 0
    assert tally.refused == []
    assert len(tally.acks) > len(writers) * 5  # 3 creates and a delete each, and more
    assert_holds_exactly_the_acks(url, tally, writers, rows_before)


def test_a_killed_worker_is_replaced(server: Process) -> None:
    before = proc.wait_for_workers(server, 2)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    # Meanwhile the other worker answers every new connection on the shared socket.
    deadline = time.monotonic() + 60
    while (workers := proc.worker_pids(server)) == before or len(workers) != 2:
        assert time.monotonic() < deadline, workers
        body = httpx2.post(f"{server.url}/graphql", json={"query": COUNT}, timeout=30).json()
        assert body["data"]["connectionInfos"]["totalCount"] > 0
        time.sleep(0.05)
    assert victim not in workers
    assert server.process.poll() is None
    # The replacement serves once it has started.
    deadline = time.monotonic() + 60
    while set(_answering_workers(server, workers)) != workers:
        assert time.monotonic() < deadline


def test_sigterm_stops_every_process_after_in_flight_requests(db: Path, tmp_path: Path) -> None:
    server = ocm_server("--db", str(db), *WORKERS, cwd=tmp_path)
    try:
        family = proc.children(server.process.pid)  # the workers and the resource tracker
        assert len(proc.wait_for_workers(server, 2)) == 2
        # A request in flight on each worker when SIGTERM comes: the body is held back.
        in_flight: dict[int, RawRequest] = {}
        for _ in range(200):
            before = proc.server_sockets(server.port, "01")
            request = RawRequest(server.port, {"query": COUNT}, expect_continue=True)
            [new] = proc.server_sockets(server.port, "01") - before
            worker = proc.holder(new, proc.worker_pids(server))
            if worker in in_flight:
                request.close()
            else:
                in_flight[worker] = request
            if len(in_flight) == 2:
                break
        assert len(in_flight) == 2
        server.process.send_signal(signal.SIGTERM)
        # Each worker says so as it begins to drain, in the same step that marks its open
        # connections to close once answered (a fixed sleep was too short on a loaded machine).
        server.wait_for_output("Shutting down", count=2)
        answers: list[Any] = []
        for request in in_flight.values():
            request.send_body()
            status, headers = request.status()
            assert (status, headers.get("connection")) == (200, "close")
            answers.append(request.body_json())
            request.close()
        assert all(answer["data"]["connectionInfos"]["totalCount"] > 0 for answer in answers)
        server.process.wait(timeout=60)
    finally:
        output = server.stop()
    assert server.process.returncode == 0, output
    assert "(2 workers)" in output
    # Without OCM_GQL_REDIS_URL, one line says what each worker keeps to itself.
    [warning] = [line for line in output.splitlines() if "without OCM_GQL_REDIS_URL" in line]
    assert "live subscription events" in warning
    assert "rate limits" in warning
    assert "Traceback" not in output
    assert output.count("Application shutdown complete") == 2
    # No process is left behind.
    deadline = time.monotonic() + 10
    while any(proc.alive(pid) for pid in family):
        assert time.monotonic() < deadline, [pid for pid in family if proc.alive(pid)]
        time.sleep(0.1)


def test_a_lock_held_past_the_busy_timeout_is_a_coded_error(
    db: Path, keys: dict[str, str], tmp_path: Path
) -> None:
    """Another process holding the write lock past OCM_GQL_BUSY_TIMEOUT_MS: every worker
    answers DATABASE_BUSY (retryable), never `database is locked`; then the write goes in."""
    env = {**QUIET, "OCM_GQL_BUSY_TIMEOUT_MS": "200"}
    server = ocm_server("--db", str(db), *WORKERS, cwd=tmp_path, env=env)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        workers = proc.wait_for_workers(server, 2)

        def set_amps(client: httpx2.Client, amps: int) -> httpx2.Response:
            variables = {"id": SHARED, "input": {"amps": amps}}
            return client.post("/graphql", json={"query": UPDATE, "variables": variables})

        headers = {"X-API-Key": keys["writer0"]}
        clients = [httpx2.Client(base_url=server.url, headers=headers, timeout=30)]
        holder.execute("BEGIN IMMEDIATE")  # another process's write, holding the lock
        # A connection to each worker: the kernel picks the worker, so open until both.
        answered: set[int] = set()
        while answered != workers:
            assert len(clients) < 200
            before = proc.server_sockets(server.port, "01")
            response = set_amps(clients[-1], 1)
            [new] = proc.server_sockets(server.port, "01") - before
            answered.add(proc.holder(new, workers))
            assert response.status_code == 200
            assert "locked" not in response.text
            [error] = response.json()["errors"]
            assert error["extensions"] == {"code": "DATABASE_BUSY", "retryable": True}
            clients.append(httpx2.Client(base_url=server.url, headers=headers, timeout=30))
        holder.execute("ROLLBACK")
        answer = set_amps(clients[0], 2).json()
        assert answer["data"]["updateConnectionInfo"]["connectionInfo"]["amps"] == 2
        for client in clients:
            client.close()
    finally:
        holder.close()
        output = server.stop()
    assert "locked" not in output
