"""`ocm-gql serve --workers 2` on one SQLite file and one Redis: a persisted query
registered through one worker answers through the other, and `serve` says nothing about
per-process features (the warning of tests/test_workers.py is for the no-Redis case).

Which worker answered a connection is read from /proc, as in tests/test_workers.py."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest

from tests.conftest import run_cli
from tests.persisted_queries import apq_extensions
from tests.processes import Process, ocm_server
from tests.redis_servers import redis_prefix
from tests.test_workers import _holder, _server_sockets, _wait_for_workers

pytestmark = pytest.mark.e2e

QUERY = "query Levels { levels { id title } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    db = tmp_path_factory.mktemp("workers-redis") / "workers.db"
    run_cli("seed", "--db", str(db), "--demo", "40", "--seed", "1")
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
        before = _server_sockets(server.port, "01")
        response = client.post("/graphql", json=body)
        [new] = _server_sockets(server.port, "01") - before
        return _holder(new, _wait_for_workers(server, 2)), response


def test_a_query_registered_through_one_worker_runs_through_the_other(server: Process) -> None:
    _wait_for_workers(server, 2)
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
