"""Two `ocm-gql serve` processes on one database and one Redis share their automatic
persisted queries and their rate limit; without Redis each keeps its own."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx2
import pytest

from tests.conftest import run_cli
from tests.persisted_queries import apq_extensions
from tests.processes import Process, ocm_server
from tests.redis_servers import redis_prefix

pytestmark = pytest.mark.e2e

QUERY = "query Levels { levels { id title } }"
RATE, BURST, SECONDS = 20, 10, 3.0


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("shared") / "shared.db"
    run_cli("seed", "--db", str(db), "--demo", "200")
    return db


@pytest.fixture
def redis_env() -> Iterator[dict[str, str]]:
    with redis_prefix() as (url, prefix):
        yield {"OCM_GQL_REDIS_URL": url, "OCM_GQL_REDIS_KEY_PREFIX": prefix}


def two_servers(stack: ExitStack, database: Path, env: dict[str, str]) -> list[Process]:
    servers = []
    for _ in range(2):
        server = ocm_server(
            "--db", str(database), "--log-level", "warning", cwd=database.parent, env=env
        )
        stack.callback(server.stop)
        servers.append(server)
    return servers


def test_a_query_registered_through_one_process_runs_through_the_other(
    database: Path, redis_env: dict[str, str]
) -> None:
    with ExitStack() as stack:
        first, second = two_servers(stack, database, redis_env)
        by_hash = {"extensions": apq_extensions(QUERY)}
        unknown = httpx2.post(f"{second.url}/graphql", json=by_hash).json()
        assert unknown["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
        registered = httpx2.post(f"{first.url}/graphql", json={"query": QUERY, **by_hash})
        assert registered.status_code == 200
        assert registered.json()["data"]["levels"]
        # Through the other process, by hash alone, over POST and GET.
        assert httpx2.post(f"{second.url}/graphql", json=by_hash).json() == registered.json()
        answered = httpx2.get(
            f"{second.url}/graphql", params={"extensions": json.dumps(apq_extensions(QUERY))}
        )
        assert answered.json() == registered.json()


def hammer(servers: list[Process]) -> tuple[int, float]:
    """Requests as fast as one client can send them, alternately to each server, for
    SECONDS: how many were let through, and over how long."""
    allowed = 0
    with httpx2.Client() as client:
        started = time.monotonic()
        sent = 0
        while (elapsed := time.monotonic() - started) < SECONDS:
            response = client.post(f"{servers[sent % 2].url}/graphql", json={"query": QUERY})
            sent += 1
            if response.status_code == 200:
                allowed += 1
            else:
                assert response.status_code == 429, response.text
                assert int(response.headers["retry-after"]) >= 1
                assert response.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert sent > 2 * allowed, "the client was too slow to reach the limit"
    return allowed, elapsed


def test_the_rate_limit_holds_across_processes_only_with_redis(
    database: Path, redis_env: dict[str, str]
) -> None:
    limit = {
        "OCM_GQL_RATE_LIMIT_PER_SECOND": str(RATE),
        "OCM_GQL_RATE_LIMIT_BURST": str(BURST),
    }
    with ExitStack() as stack:
        shared, shared_time = hammer(two_servers(stack, database, redis_env | limit))
    with ExitStack() as stack:
        apart, apart_time = hammer(two_servers(stack, database, limit))
    print(f"allowed in {SECONDS} s: {shared} with Redis, {apart} without")
    # Both processes together: within one refill of the rate x seconds + the burst.
    assert BURST + RATE * shared_time / 2 <= shared <= BURST + RATE * shared_time + 1
    # Without Redis each process allowed as much on its own.
    assert apart > BURST + RATE * apart_time + 1
    assert apart >= 1.5 * shared
