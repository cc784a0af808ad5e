"""Metrics of several workers: a real `ocm-gql serve --workers 2` on loopback, whose
workers write to prometheus-client's multiprocess files, so that one scrape, through
either worker or through the supervisor's metrics port, sees the requests of both; each
worker's process metrics appear under its pid, and a dead worker's gauges go with it
while what it counted stays.

Which worker answered a connection is read from /proc, as in tests/test_workers.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from tests import workers_proc as proc
from tests.conftest import run_cli
from tests.observability.metrics.scrapes import Scrape, labels
from tests.processes import Process, free_port, ocm_server
from tests.test_write_durability import QUIET

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

WORKERS = ("--workers", "2")
REQUESTS = "ocm_gql_requests_total"
OK_QUERIES = labels(transport="http", operation_type="query", outcome="ok")
QUERY = "{ levels { id } }"
RESIDENT = "ocm_gql_process_resident_memory_bytes"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("metrics-workers") / "workers.db"
    run_cli("seed", "--db", str(db), "--demo", "10", "--seed", "1")
    return db


def _serve(db: Path, cwd: Path, **env: str) -> Process:
    return ocm_server("--db", str(db), *WORKERS, cwd=cwd, env={**QUIET, **env})


def _through_each_worker(
    server: Process, workers: set[int], send: Callable[[httpx2.Client], None], each: int
) -> Counter[int]:
    """Sends over new connections (the kernel gives each to whichever worker accepts
    first) until every worker has answered ``each``; returns how many each answered."""
    answered: Counter[int] = Counter()
    for _ in range(400):
        before = proc.server_sockets(server.port, "01")
        with httpx2.Client(base_url=server.url, timeout=30) as client:
            send(client)
            [new] = proc.server_sockets(server.port, "01") - before
            answered[proc.holder(new, workers)] += 1
        if len(answered) == len(workers) and min(answered.values()) >= each:
            return answered
    raise AssertionError(f"not every worker answered {each}: {answered}")


def _query(client: httpx2.Client) -> None:
    assert client.post("/graphql", json={"query": QUERY}).status_code == 200


def _pids(scrape: Scrape) -> set[int]:
    return {int(dict(key)["pid"]) for key in scrape.series(RESIDENT)}


@pytest.fixture(scope="module")
def server(db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    running = _serve(db, tmp_path_factory.mktemp("cwd"))
    yield running
    output = running.stop()
    assert "Traceback" not in output


def test_one_scrape_of_either_worker_sees_both(server: Process) -> None:
    workers = proc.wait_for_workers(server, 2)
    scrapes: list[Scrape] = []

    def scrape(client: httpx2.Client) -> None:
        response = client.get("/metrics")
        assert response.status_code == 200
        scrapes.append(Scrape.of(response.text))

    _through_each_worker(server, workers, scrape, 1)
    before = scrapes[-1]
    assert before.moved_since(scrapes[0], REQUESTS) == {}  # scrapes are no requests
    answered = _through_each_worker(server, workers, _query, 3)
    sent = sum(answered.values())
    scrapes.clear()
    _through_each_worker(server, workers, scrape, 1)
    for after in scrapes:  # at least one through each worker
        assert after.moved_since(before, REQUESTS) == {OK_QUERIES: sent}
        assert (
            after.since(
                before,
                "ocm_gql_request_duration_seconds_count",
                transport="http",
                operation_name="other",
            )
            == sent
        )
        # Each worker's own process metrics, under its pid; the supervisor serves none.
        assert _pids(after) == workers
        for pid in workers:
            assert after.value(RESIDENT, pid=str(pid)) > 1_000_000
            assert after.value("ocm_gql_process_cpu_seconds_total", pid=str(pid)) > 0
    # Gauges are summed over live workers, so prometheus-client's per-process collectors
    # (which would show only the answering worker) are not what is exposed.
    assert "process_resident_memory_bytes" not in scrapes[0].names


def test_the_metrics_port_of_the_supervisor_serves_all_workers(db: Path, tmp_path: Path) -> None:
    port = free_port()
    server = _serve(db, tmp_path, OCM_GQL_METRICS_PORT=str(port))
    metrics = f"http://127.0.0.1:{port}/metrics"
    try:
        workers = proc.wait_for_workers(server, 2)

        def not_on_the_main_port(client: httpx2.Client) -> None:
            assert client.get("/metrics").status_code == 404

        _through_each_worker(server, workers, not_on_the_main_port, 1)
        # The supervisor holds the metrics port, not a worker.
        listening = proc.server_sockets(port, "0A")
        assert listening & proc.open_sockets(server.process.pid)
        assert not any(listening & proc.open_sockets(pid) for pid in workers)

        before = Scrape.of(httpx2.get(metrics).text)
        sent = sum(_through_each_worker(server, workers, _query, 2).values())
        after = Scrape.of(httpx2.get(metrics).text)
        assert after.moved_since(before, REQUESTS) == {OK_QUERIES: sent}
        assert _pids(after) == workers

        # A worker dies: its gauges leave with it, what it counted stays.
        victim = min(workers)
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60  # a guard against hanging, not a measurement
        while True:
            now = Scrape.of(httpx2.get(metrics).text)
            pids = _pids(now)
            if victim not in pids and len(pids) == 2:
                break
            assert time.monotonic() < deadline, pids
            time.sleep(0.2)
        assert pids == proc.wait_for_workers(server, 2)
        assert now.moved_since(before, REQUESTS) == {OK_QUERIES: sent}
        # The workers' files, in the folder the supervisor named in their environment.
        files = Path(_environment(min(pids))["PROMETHEUS_MULTIPROC_DIR"])
        assert {path.name for path in files.iterdir()} >= {
            f"counter_{pid}.db" for pid in (victim, *pids)
        }
    finally:
        output = server.stop()
    assert f"metrics at http://127.0.0.1:{port}/metrics" in output
    assert "Traceback" not in output
    assert not files.exists()  # removed when the server stopped


def _environment(pid: int) -> dict[str, str]:
    variables = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(v.decode().split("=", 1) for v in variables if b"=" in v)


def test_a_busy_metrics_port_is_one_line_and_exit_2(db: Path, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
        result = subprocess.run(
            [sys.executable, "-m", "gql", "serve", "--db", str(db), "--port", str(free_port())],
            env={**environment, "OCM_GQL_METRICS_PORT": str(port)},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"ocm-gql: error: cannot listen on 127.0.0.1:{port} for the metrics: address already in use"
    )
    assert "Traceback" not in result.stderr
