"""A real Prometheus server (Debian's) scrapes a real `ocm-gql serve` on loopback every
second; after known traffic, its HTTP API's `increase`, `rate` and `histogram_quantile`
agree with what was sent.

Why the comparisons can be exact: every series the queries read exists at 0 before the
first request (the server creates them at start), and the test waits until Prometheus
has scraped that 0. `increase` over a window then extrapolates neither at the start (a
counter is never extrapolated below its first sample's 0) nor at the end (the queries
are evaluated at the timestamp of the last scrape, taken after the last request), so it
is the counter's exact difference. `histogram_quantile` interpolates linearly within the
bucket holding the median, which the test computes from its own scrape of the server's
buckets; and each duration the server measured is within the time the client waited
for it, so that bucket starts below the median the client measured.

Prometheus is installed by .ci/run (`apt-get install prometheus`); elsewhere, without
it, the test is skipped with the reason (and fails when CI is set)."""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.conftest import run_cli
from tests.observability.metrics.scrapes import Scrape
from tests.processes import Process, free_port, ocm_server
from tests.test_write_durability import QUIET

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
OK_SENT, INVALID_SENT = 60, 15
FEW = "query Few { connectionInfos(first: 2) { nodes { id } } }"
BAD = "query Bad { nope }"
OK = 'ocm_gql_requests_total{transport="http",operation_type="query",outcome="ok"}'
REJECTED = 'ocm_gql_requests_total{transport="http",operation_type="query",outcome="rejected"}'
INVALID = 'ocm_gql_graphql_errors_total{code="GRAPHQL_VALIDATION_FAILED"}'
FEW_BUCKETS = 'ocm_gql_request_duration_seconds_bucket{transport="http",operation_name="Few"}'
WINDOW = "1m"  # longer than the test: the window holds every sample, the first 0 included


@pytest.fixture(scope="module")
def prometheus_binary() -> str:
    if not Path(PROMETHEUS).exists():
        reason = "Prometheus is not installed (apt-get install prometheus, as .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return PROMETHEUS


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    db = tmp_path_factory.mktemp("prometheus-e2e") / "demo.db"
    run_cli("seed", "--db", str(db), "--demo", "20", "--seed", "1")
    running = ocm_server(
        "--db",
        str(db),
        cwd=db.parent,
        env={**QUIET, "OCM_GQL_METRICS_OPERATION_NAMES": "Few"},
    )
    yield running
    assert "Traceback" not in running.stop()


@pytest.fixture(scope="module")
def prometheus(
    prometheus_binary: str, server: Process, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    home = tmp_path_factory.mktemp("prometheus")
    config = home / "prometheus.yml"
    config.write_text(
        "global:\n"
        "  scrape_interval: 1s\n"
        "  scrape_timeout: 1s\n"
        "  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: ocm-gql\n"
        "    static_configs:\n"
        f"      - targets: ['127.0.0.1:{server.port}']\n"
    )
    port = free_port()
    running = Process(
        [
            prometheus_binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        port=port,
        cwd=home,
        ready_path="/-/ready",
    )
    yield running
    running.stop()


def _query(prometheus: Process, promql: str, at: float | None = None) -> list[dict[str, Any]]:
    params = {"query": promql} if at is None else {"query": promql, "time": repr(at)}
    response = httpx2.get(f"{prometheus.url}/api/v1/query", params=params, timeout=10)
    body = response.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _value(prometheus: Process, promql: str, at: float | None = None) -> float | None:
    """The one series' value of an instant query, None when there is none."""
    result = _query(prometheus, promql, at)
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else None


def _until(prometheus: Process, promql: str, wanted: float) -> None:
    deadline = time.monotonic() + 30  # a guard against hanging, not a measurement
    while _value(prometheus, promql) != wanted:
        assert time.monotonic() < deadline, (promql, _value(prometheus, promql), wanted)
        time.sleep(0.2)


def test_prometheus_sees_what_was_sent(server: Process, prometheus: Process) -> None:
    # Prometheus has scraped the series at 0, before any request.
    _until(prometheus, 'up{job="ocm-gql"}', 1)
    for series in (OK, REJECTED, INVALID, f'{FEW_BUCKETS.rstrip("}")},le="+Inf"}}'):
        _until(prometheus, series, 0)

    waited = []
    with httpx2.Client(base_url=server.url, timeout=30) as client:
        for _ in range(OK_SENT):
            started = time.perf_counter()
            response = client.post("/graphql", json={"query": FEW})
            waited.append(time.perf_counter() - started)
            assert response.status_code == 200
        for _ in range(INVALID_SENT):
            assert "errors" in client.post("/graphql", json={"query": BAD}).json()
        direct = Scrape.of(client.get("/metrics").text)

    # The last scrape holds all the traffic: evaluate there (no extrapolation at the end).
    _until(prometheus, OK, OK_SENT)
    _until(prometheus, REJECTED, INVALID_SENT)
    at = _value(prometheus, f"timestamp({OK})")
    assert at is not None

    assert _value(prometheus, f"increase({OK}[{WINDOW}])", at) == pytest.approx(OK_SENT)
    assert _value(prometheus, f"rate({OK}[{WINDOW}])", at) == pytest.approx(OK_SENT / 60)
    assert _value(prometheus, f"increase({REJECTED}[{WINDOW}])", at) == pytest.approx(INVALID_SENT)
    assert _value(prometheus, f"increase({INVALID}[{WINDOW}])", at) == pytest.approx(INVALID_SENT)
    count = _value(
        prometheus,
        'increase(ocm_gql_request_duration_seconds_count{transport="http",operation_name="Few"}[1m])',
        at,
    )
    assert count == pytest.approx(OK_SENT)

    median = _value(
        prometheus,
        f"histogram_quantile(0.5, sum by (le) (increase({FEW_BUCKETS}[{WINDOW}])))",
        at,
    )
    assert median is not None
    # The same interpolation over the buckets as scraped from the server directly.
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for labels, value in direct.series(
            "ocm_gql_request_duration_seconds_bucket", transport="http", operation_name="Few"
        ).items()
    )
    assert buckets[-1] == (float("inf"), OK_SENT)
    rank = 0.5 * OK_SENT
    below, lower = 0.0, 0.0
    for upper, cumulative in buckets:
        if cumulative >= rank:
            break
        below, lower = cumulative, upper
    assert median == pytest.approx(lower + (upper - lower) * (rank - below) / (cumulative - below))
    assert lower <= median <= upper
    # The server's median is at most the client's: its bucket starts below that.
    assert lower < statistics.median(waited)
