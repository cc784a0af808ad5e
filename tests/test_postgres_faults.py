"""PostgreSQL restarting under load: a real `ocm-gql serve` on a private server that the
test stops (fast, then as a crash) and starts again while clients read and write.

Meanwhile every request either succeeds or gets SERVICE_UNAVAILABLE with 503 (never a
500, never an answer after the timeout, never a traceback in the server's output);
/readyz turns 503, naming the database without its password, and back to 200; the pool
reconnects by itself; and every write the server acknowledged is in the database."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx2
import pytest

from tests.conftest import REPO_ROOT, run_cli
from tests.postgres_instance import PostgresInstance, private_postgres
from tests.processes import Process, ocm_server

pytestmark = pytest.mark.e2e

PASSWORD = "s3cret-fault-pw"  # ignored by trust authentication; must never show
TIMEOUT_MS = 3000
GRAPHQL_RESPONSE = "application/graphql-response+json"
OUTAGE_SECONDS = 2.0
READ = "{ connectionInfos(first: 5) { nodes { id amps } } }"
CREATE = """mutation($input: CreateConnectionInfoInput!) {
  createConnectionInfo(input: $input) { connectionInfo { id comments } userErrors { code } } }"""


@dataclass
class Observed:
    statuses: Counter[int] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    """Any answer that is neither a success nor a proper SERVICE_UNAVAILABLE."""
    slowest: float = 0.0
    acknowledged: dict[int, str] = field(default_factory=dict)
    """Created connection id -> its comments, for every create the server acknowledged."""
    ready: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@pytest.fixture
def postgres() -> Iterator[PostgresInstance]:
    with private_postgres() as instance:
        instance.create_database("ocm")
        yield instance


def _check(response: httpx2.Response, observed: Observed) -> dict[str, Any] | None:
    """The response's data when it succeeded; anything improper is noted as wrong."""
    observed.statuses[response.status_code] += 1
    body = response.json()
    errors = body.get("errors") or []
    codes = {error.get("extensions", {}).get("code") for error in errors}
    observed.codes.update(code for code in codes if code)
    if response.status_code == 503:
        proper = (
            response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
            and codes == {"SERVICE_UNAVAILABLE"}
            and all(error["extensions"].get("retryable") is True for error in errors)
            and "data" not in body
        )
        if not proper:
            observed.wrong.append(response.text[:300])
        return None
    if response.status_code != 200 or errors:
        observed.wrong.append(f"{response.status_code} {response.text[:300]}")
        return None
    data: dict[str, Any] = body["data"]
    return data


async def _client_loop(
    url: str, key: str, site: int, worker: int, observed: Observed, stop: asyncio.Event
) -> None:
    headers = {"X-API-Key": key, "Accept": GRAPHQL_RESPONSE}
    # The client waits far longer than the server's timeout: a hang shows as slowness.
    async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        sent = 0
        while not stop.is_set():
            sent += 1
            token = f"worker {worker}, request {sent}"
            if sent % 2:
                payload: dict[str, Any] = {"query": READ}
            else:
                variables = {"input": {"chargePointId": site, "comments": token}}
                payload = {"query": CREATE, "variables": variables}
            started = time.monotonic()
            try:
                response = await client.post("/graphql", json=payload)
            except httpx2.TransportError as error:
                observed.wrong.append(f"no answer: {error!r} after {payload}")
                continue
            finally:
                observed.slowest = max(observed.slowest, time.monotonic() - started)
            data = _check(response, observed)
            created = (data or {}).get("createConnectionInfo")
            if created is not None and created["userErrors"]:
                observed.wrong.append(str(created["userErrors"]))
            elif created is not None:
                observed.acknowledged[created["connectionInfo"]["id"]] = token
            await asyncio.sleep(0.01)


async def _wait_ready(client: httpx2.AsyncClient, observed: Observed, status: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = await client.get("/readyz")
        observed.ready.append((response.status_code, response.json()))
        if response.status_code == status:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz never answered {status}: {observed.ready[-3:]}")


async def _outage(
    postgres: PostgresInstance, client: httpx2.AsyncClient, observed: Observed, mode: str
) -> None:
    await asyncio.to_thread(postgres.stop, mode)
    await _wait_ready(client, observed, 503)
    await asyncio.sleep(OUTAGE_SECONDS)  # the load goes on against a stopped server
    await asyncio.to_thread(postgres.start)
    await _wait_ready(client, observed, 200)
    await asyncio.sleep(1.0)  # and on against the restarted one


async def _run_load(postgres: PostgresInstance, server: Process, key: str, site: int) -> Observed:
    observed = Observed()
    stop = asyncio.Event()
    clients = [
        asyncio.create_task(_client_loop(server.url, key, site, worker, observed, stop))
        for worker in range(1, 7)
    ]
    async with httpx2.AsyncClient(base_url=server.url, timeout=60) as client:
        await asyncio.sleep(1.0)
        await _outage(postgres, client, observed, "fast")
        before_crash = observed.statuses[200]
        await _outage(postgres, client, observed, "immediate")
        assert observed.statuses[200] > before_crash, "nothing succeeded after the crash"
    stop.set()
    await asyncio.gather(*clients)
    return observed


async def _stored_comments(url: str, ids: list[int]) -> dict[int, str]:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        rows = await connection.fetch(
            "SELECT c.id, c.comments FROM connection_info c"
            " WHERE c.id = ANY($1::integer[])"
            " AND EXISTS (SELECT 1 FROM connection_change h WHERE h.connection_id = c.id)",
            ids,
        )
    finally:
        await connection.close()
    return {row["id"]: row["comments"] for row in rows}


async def _a_site(url: str) -> int:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        return int(await connection.fetchval("SELECT min(id) FROM charge_point"))
    finally:
        await connection.close()


def test_requests_survive_a_postgres_restart_under_load(postgres: PostgresInstance) -> None:
    url = postgres.url("ocm", password=PASSWORD)
    run_cli("seed", "--database-url", url, "--demo", "40", "--seed", "1")
    [key] = run_cli("keys", "create", "--database-url", url, "--name", "faults").splitlines()
    site = asyncio.run(_a_site(url))
    env = {
        "OCM_GQL_EXECUTION_TIMEOUT_MS": str(TIMEOUT_MS),
        "OCM_GQL_DATABASE_POOL_SIZE": "4",
        "OCM_GQL_LOG_LEVEL": "warning",  # the output pipe is read only at the end
    }
    server = ocm_server("--database-url", url, cwd=REPO_ROOT, env=env)
    try:
        observed = asyncio.run(_run_load(postgres, server, key, site))
        stored = asyncio.run(_stored_comments(url, list(observed.acknowledged)))
        print(observed.statuses, f"acknowledged creates: {len(observed.acknowledged)}")
        print(f"slowest answer: {observed.slowest:.2f} s")
    finally:
        output = server.stop()
        print(output[-20000:])  # shown when the test fails

    assert observed.wrong == [], output[-5000:]
    assert set(observed.statuses) == {200, 503}, observed.statuses
    assert set(observed.codes) == {"SERVICE_UNAVAILABLE"}
    # The timeout bounds every answer; the margin is for a loaded machine, not a hang.
    assert observed.slowest < TIMEOUT_MS / 1000 + 2, observed.slowest
    down = [body for status, body in observed.ready if status == 503]
    assert down, "readyz never turned 503"
    assert all(body["down"].keys() == {"database"} for body in down)
    assert all(f"127.0.0.1:{postgres.port}/ocm" in body["down"]["database"] for body in down)
    assert observed.ready[-1] == (200, {"status": "ok"})
    # No acknowledged write lost, each with its entry in the change log.
    assert len(observed.acknowledged) > 0
    assert stored == observed.acknowledged
    assert "Traceback" not in output, output[-3000:]
    assert PASSWORD not in output
    assert all(PASSWORD not in str(body) for _, body in observed.ready)
