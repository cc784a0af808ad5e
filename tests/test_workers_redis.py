"""`ocm-gql serve --workers 2` on one SQLite file and one Redis: a persisted query
registered through one worker answers through the other, and `serve` says nothing about
per-process features (the warning of tests/test_workers.py is for the no-Redis case).

Which worker answered a connection is read from /proc, as in tests/test_workers.py."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.conftest import run_cli
from tests.persisted_queries import apq_extensions
from tests.processes import Process, ocm_server
from tests.redis_servers import redis_prefix
from tests.workers_proc import holder, server_sockets, wait_for_workers

pytestmark = pytest.mark.e2e

QUERY = "query Levels { levels { id title } }"
RATE, BURST, SECONDS = 20, 10, 3.0


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("workers-redis") / "workers.db"
    run_cli("seed", "--db", str(db), "--demo", "40", "--seed", "1")
    return db


@pytest.fixture(scope="module")
def server(db: Path) -> Iterator[Process]:
    with redis_prefix() as (url, prefix):
        env = {"OCM_GQL_REDIS_URL": url, "OCM_GQL_REDIS_KEY_PREFIX": prefix}
        running = ocm_server("--db", str(db), "--workers", "2", cwd=db.parent, env=env)
        try:
            yield running
        finally:
            output = running.stop()
        assert "(2 workers)" in output
        assert "without OCM_GQL_REDIS_URL" not in output
        assert "Traceback" not in output


def _post(server: Process, body: dict[str, object]) -> tuple[int, httpx2.Response]:
    """One request on a new connection: the worker that answered it, and the answer."""
    with httpx2.Client(base_url=server.url, timeout=60) as client:
        before = server_sockets(server.port, "01")
        response = client.post("/graphql", json=body)
        [new] = server_sockets(server.port, "01") - before
        return holder(new, wait_for_workers(server, 2)), response


def test_a_query_registered_through_one_worker_runs_through_the_other(server: Process) -> None:
    wait_for_workers(server, 2)
    by_hash = {"extensions": apq_extensions(QUERY)}
    registrar, registered = _post(server, {"query": QUERY, **by_hash})
    assert registered.status_code == 200
    assert registered.json()["data"]["levels"]
    # New connections until one lands on the other worker: it knows the hash from Redis.
    for _ in range(200):
        worker, answered = _post(server, by_hash)
        assert answered.json() == registered.json()
        if worker != registrar:
            break
    else:
        raise AssertionError("no connection reached the other worker")


def _pinned_clients(server: Process, per_worker: int) -> list[httpx2.Client]:
    """Kept-alive clients, ``per_worker`` on each worker: a client whose connection lands
    on a worker already holding its share is closed and another opened."""
    workers = wait_for_workers(server, 2)
    placed: Counter[int] = Counter()
    clients: list[httpx2.Client] = []
    for _ in range(400):
        client = httpx2.Client(base_url=server.url, timeout=60)
        before = server_sockets(server.port, "01")
        assert client.get("/healthz").status_code == 200
        [new] = server_sockets(server.port, "01") - before
        worker = holder(new, workers)
        if placed[worker] < per_worker:
            placed[worker] += 1
            clients.append(client)
            if len(clients) == 2 * per_worker:
                return clients
        else:
            client.close()
    raise AssertionError(f"connections did not reach both workers: {placed}")


def _hammer(db: Path, env: dict[str, str]) -> tuple[int, float]:
    """A `--workers 2` server with the rate limit, and requests as fast as one thread sends
    them, alternately on connections held by each worker, for SECONDS: how many were let
    through, and over how long."""
    limit = {"OCM_GQL_RATE_LIMIT_PER_SECOND": str(RATE), "OCM_GQL_RATE_LIMIT_BURST": str(BURST)}
    server = ocm_server("--db", str(db), "--workers", "2", cwd=db.parent, env=env | limit)
    clients: list[httpx2.Client] = []
    try:
        # /healthz is not rate limited, so pinning spends none of the budget.
        clients = _pinned_clients(server, 2)
        allowed = sent = 0
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < SECONDS:
            response = clients[sent % len(clients)].post("/graphql", json={"query": QUERY})
            sent += 1
            if response.status_code == 200:
                allowed += 1
            else:
                assert response.status_code == 429, response.text
        assert sent > 2 * allowed, "the client was too slow to reach the limit"
        return allowed, elapsed
    finally:
        for client in clients:
            client.close()
        server.stop()


def test_the_rate_limit_holds_across_workers_only_with_redis(db: Path) -> None:
    with redis_prefix() as (url, prefix):
        redis = {"OCM_GQL_REDIS_URL": url, "OCM_GQL_REDIS_KEY_PREFIX": prefix}
        shared, shared_time = _hammer(db, redis)
    apart, apart_time = _hammer(db, {})
    print(f"allowed in {SECONDS} s over 2 workers: {shared} with Redis, {apart} without")
    # Both workers together: within one refill of the rate x seconds + the burst.
    assert BURST + RATE * shared_time / 2 <= shared <= BURST + RATE * shared_time + 1
    # Without Redis each worker allowed as much on its own.
    assert apart > BURST + RATE * apart_time + 1
    assert apart >= 1.5 * shared
