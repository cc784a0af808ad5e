"""The shipped ops files: Prometheus alert rules (ops/prometheus) checked and unit-tested
by promtool, the Grafana dashboard (ops/grafana) parsed, both naming only the metrics the
server exposes, and the rules' metrics present in a real server's /metrics."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from tests.conftest import REPO_ROOT
from tests.processes import ocm_server

RULES_DIR = REPO_ROOT / "ops" / "prometheus"
ALERTS = RULES_DIR / "alerts.yml"
ALERTS_TEST = RULES_DIR / "alerts_test.yml"
DASHBOARD = REPO_ROOT / "ops" / "grafana" / "ocm-gql-dashboard.json"

COUNTERS_AND_GAUGES = frozenset(
    {
        "ocm_gql_requests_total",
        "ocm_gql_graphql_errors_total",
        "ocm_gql_refused_requests_total",
        "ocm_gql_rate_limited_requests_total",
        "ocm_gql_process_resident_memory_bytes",
        "ocm_gql_process_cpu_seconds_total",
        "ocm_gql_process_gc_collections_total",
        "ocm_gql_cache_lookups_total",
        "ocm_gql_fast_executor_total",
        "ocm_gql_websocket_connections",
        "ocm_gql_sse_connections",
        "ocm_gql_active_subscriptions",
        "ocm_gql_events_published_total",
        "ocm_gql_events_delivered_total",
        "ocm_gql_slow_subscribers_ended_total",
        "ocm_gql_db_pool_connections",
        "ocm_gql_sql_statements_total",
    }
)
HISTOGRAMS = frozenset(
    {
        "ocm_gql_request_duration_seconds",
        "ocm_gql_dataloader_batch_size",
        "ocm_gql_db_write_queue_wait_seconds",
        "ocm_gql_sql_statement_duration_seconds",
    }
)
"""The metric names of issue 17's contract (README "Operating it")."""

_METRIC = re.compile(r"\bocm_gql_[a-z0-9_]+\b")
_HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")
# What a dashboard variable stands for when its expressions are checked as PromQL.
_VARIABLES = {"$__rate_interval": "5m", "$job": ".*", "$instance": ".*"}


def _promtool() -> str:
    """Debian's promtool (package prometheus); skips without it, fails under CI."""
    found = shutil.which("promtool")
    if found is None:
        reason = "promtool is not installed (apt-get install prometheus)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must check the alert rules", pytrace=False)
        pytest.skip(reason)
    return found


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def _family(name: str) -> str:
    """The metric a series name belongs to (a histogram's _bucket, _sum, _count)."""
    for suffix in _HISTOGRAM_SERIES:
        if name.endswith(suffix) and name.removesuffix(suffix) in HISTOGRAMS:
            return name.removesuffix(suffix)
    return name


def _rule_metrics() -> set[str]:
    return {_family(name) for name in _METRIC.findall(ALERTS.read_text())}


def _dashboard_expressions() -> Iterator[str]:
    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                yield node["expr"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    yield from walk(json.loads(DASHBOARD.read_text()))


def test_the_alert_rules_are_valid() -> None:
    checked = _run(_promtool(), "check", "rules", str(ALERTS), cwd=RULES_DIR)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 5 rules found" in checked.stdout


def test_each_alert_fires_when_it_should_and_not_otherwise() -> None:
    tested = _run(_promtool(), "test", "rules", ALERTS_TEST.name, cwd=RULES_DIR)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    # Every alert has a test group of its own.
    alerts = set(re.findall(r"^\s+- alert: (\w+)$", ALERTS.read_text(), re.MULTILINE))
    tested_alerts = set(re.findall(r"alertname: (\w+)", ALERTS_TEST.read_text()))
    assert alerts == tested_alerts
    assert len(alerts) == 5


def test_the_rules_and_the_dashboard_name_only_the_servers_metrics() -> None:
    known = COUNTERS_AND_GAUGES | HISTOGRAMS
    assert _rule_metrics() <= known
    assert _rule_metrics()  # the pattern found them
    used = {_family(name) for expr in _dashboard_expressions() for name in _METRIC.findall(expr)}
    assert used <= known, used - known
    # Every metric is on the dashboard.
    assert used == known


def test_the_dashboard_expressions_are_promql(tmp_path: Path) -> None:
    # promtool parses rules' expressions: each panel's, with its variables filled in,
    # as a recording rule.
    expressions = list(_dashboard_expressions())
    rules = ["groups:", "  - name: dashboard", "    rules:"]
    for number, expr in enumerate(expressions):
        for variable, value in _VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, expr
        rules += [f"      - record: dashboard_panel_{number}", f"        expr: {json.dumps(expr)}"]
    (tmp_path / "dashboard.yml").write_text("\n".join(rules) + "\n")
    checked = _run(_promtool(), "check", "rules", "dashboard.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(expressions)} rules found" in checked.stdout


def test_the_dashboard_takes_its_prometheus_as_a_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert panels
    for panel in panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def _exposed_names(exposition: str) -> set[str]:
    """Every metric name of a Prometheus text exposition: its HELP and TYPE lines (which
    prometheus-client writes for a labelled family with no samples yet) and its samples."""
    names = set()
    for line in exposition.splitlines():
        described = re.match(r"# (?:HELP|TYPE) (\S+)", line)
        sample = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", line)
        if described:
            names.add(described.group(1))
        elif sample:
            names.add(_family(sample.group(1)))
    return names


@pytest.mark.e2e
def test_every_metric_the_rules_use_is_in_a_real_servers_metrics(tmp_path: Path) -> None:
    server = ocm_server(cwd=tmp_path, env={"OCM_GQL_DEMO_SIZE": "20"})
    try:
        answered = httpx2.post(
            f"{server.url}/graphql", json={"query": "{ connectionInfos(first: 2) { totalCount } }"}
        )
        assert answered.status_code == 200
        scraped = httpx2.get(f"{server.url}/metrics", timeout=30)
    finally:
        server.stop()
    assert scraped.status_code == 200
    exposed = _exposed_names(scraped.text)
    assert _rule_metrics() - exposed == set()


def test_the_exposition_names_count_families_without_samples() -> None:
    # What the live check relies on: prometheus-client writes HELP and TYPE lines for a
    # labelled family that has no samples yet (a counter's with its _total).
    registry = CollectorRegistry()
    for name in COUNTERS_AND_GAUGES:
        if name.endswith("_total"):
            Counter(name, "help", ["label"], registry=registry)
        else:
            Gauge(name, "help", ["label"], registry=registry)
    for name in HISTOGRAMS:
        Histogram(name, "help", ["label"], registry=registry)
    exposed = _exposed_names(generate_latest(registry).decode())
    assert exposed == COUNTERS_AND_GAUGES | HISTOGRAMS
    observed = CollectorRegistry()
    Histogram("ocm_gql_request_duration_seconds", "help", registry=observed).observe(1)
    assert "ocm_gql_request_duration_seconds" in _exposed_names(generate_latest(observed).decode())
