"""GraphQL over HTTP, proven with real clients in Node against our real uvicorn server on
loopback: graphql-http's server audits (the spec's conformance suite) and Apollo Client 4
(cursor pagination merged in its normalized cache, automatic persisted queries over POST and
GET, batching). Expected answers come from the same server, queried directly. Subscriptions
over WebSocket, with the graphql-ws client, status changes made by mutations over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT, run_cli
from tests.databases import throwaway_database
from tests.processes import Process, npm_project, ocm_server

pytestmark = pytest.mark.e2e

NODE_PROJECT = REPO_ROOT / "tests" / "http_clients"
NODE_TIMEOUT = 120
# BatchHttpLink sends at most batchMax (5) operations per request: the server must take that.
MAX_BATCH_SIZE = 5
# What subscriptions.mjs expects of the server.
SUBSCRIPTION_SETTINGS = {
    "OCM_GQL_KEEP_ALIVE_SECONDS": "1",
    "OCM_GQL_MAX_SUBSCRIPTIONS_PER_CONNECTION": "3",
}
# Node's clients send no Origin, so CORS restricted to one origin changes nothing for them;
# subscriptions.mjs checks the WebSocket handshake against it.
ALLOWED_ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def node_project() -> Path:
    # graphql-ws is the newest addition: without it, node_modules predates the lock file.
    return npm_project(NODE_PROJECT, "graphql-ws", "the HTTP client end-to-end tests")


@pytest.fixture(scope="module")
def server_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(backend, tmp_path_factory.mktemp("http-clients")) as db:
        run_cli("seed", "--database-url", db, "--demo", "300")
        yield db


@pytest.fixture(scope="module")
def api_key(server_db: str) -> str:
    """A writing key, created before the server starts; `keys create` prints it last."""
    output = run_cli("keys", "create", "--database-url", server_db, "--name", "http-clients")
    return output.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def server(
    node_project: Path, server_db: str, api_key: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    """One server for the module (started only when Node is there); the APQ scenarios use
    query texts of their own, so their hashes are unknown to it whatever ran before."""
    running = ocm_server(
        "--database-url",
        server_db,
        cwd=tmp_path_factory.mktemp("http-clients-server"),
        env={
            "OCM_GQL_MAX_BATCH_SIZE": str(MAX_BATCH_SIZE),
            "OCM_GQL_CORS_ORIGINS": ALLOWED_ORIGIN,
            **SUBSCRIPTION_SETTINGS,
        },
    )
    try:
        yield running
    finally:
        running.stop()


def _node(
    project: Path, server: Process, *argv: str, env: dict[str, str] | None = None
) -> tuple[int, list[Any], str]:
    """Runs a script of the Node project against the server: exit code, the JSON lines it
    printed (anything else on stdout is ignored) and its stderr."""
    result = subprocess.run(
        ["node", *argv],
        cwd=project,
        env={
            **os.environ,
            "NODE_ENV": "test",
            "GRAPHQL_URL": f"{server.url}/graphql",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT,
        check=False,
    )
    lines: list[Any] = []
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return result.returncode, lines, result.stderr


def _describe_failure(failure: dict[str, Any]) -> str:
    response = failure.get("response") or {}
    headers = response.get("headers") or {}
    return (
        f"{failure['id']} {failure['name']}: {failure['reason']} "
        f"(got {response.get('status')}, content-type {headers.get('content-type')!r}, "
        f"body {str(response.get('body'))[:300]!r})"
    )


def test_graphql_over_http_audits(node_project: Path, server: Process) -> None:
    """Every audit of graphql-http, MUST, SHOULD and MAY alike: we aim at full conformance."""
    code, lines, stderr = _node(node_project, server, "audits.mjs")
    assert code == 0, f"audits.mjs crashed (exit {code}):\n{stderr}"
    assert len(lines) == 1, f"expected one JSON line from audits.mjs, got {lines}\n{stderr}"
    report = lines[0]
    counts = report["counts"]
    print(
        "graphql-http serverAudits: "
        + ", ".join(f"{level} {c['passed']}/{c['total']}" for level, c in counts.items())
    )
    assert sum(c["total"] for c in counts.values()) > 0, "graphql-http ran no audits"
    failures = report["failures"]
    assert failures == [], f"{len(failures)} audits failed:\n" + "\n".join(
        _describe_failure(failure) for failure in failures
    )


def _apollo(project: Path, server: Process, scenario: str) -> None:
    """Runs one scenario of apollo.mjs, prints what it checked and asserts it held."""
    code, lines, stderr = _node(project, server, "apollo.mjs", scenario)
    outcomes = [line for line in lines if line.get("scenario") == scenario]
    assert len(outcomes) == 1, f"apollo.mjs {scenario} reported {lines} (exit {code}):\n{stderr}"
    outcome = outcomes[0]
    passed = outcome.get("passed", [])
    print(f"Apollo Client {scenario}: {len(passed)} checks passed: {', '.join(passed)}")
    details = json.dumps(outcome, indent=1)
    assert outcome["ok"] is True, f"apollo.mjs {scenario} failed:\n{details}\n{stderr}"
    assert code == 0, f"apollo.mjs {scenario} exited {code}:\n{details}\n{stderr}"


def test_apollo_client_cursor_pagination(node_project: Path, server: Process) -> None:
    """Three pages by fetchMore merge (relayStylePagination) into one normalized list equal
    to a single page of 21, readable back from the cache."""
    _apollo(node_project, server, "pagination")


def test_apollo_client_persisted_queries(node_project: Path, server: Process) -> None:
    """APQ: an unknown hash is refused with PersistedQueryNotFound and registered by the
    retry; a fresh client then gets data for the hash alone, in one request."""
    _apollo(node_project, server, "apq")


def test_apollo_client_persisted_queries_over_get(node_project: Path, server: Process) -> None:
    """APQ with useGETForHashedQueries: one GET carrying only the hash, answered with data
    and a weak ETag that a replay with If-None-Match turns into a 304."""
    _apollo(node_project, server, "apq-get")


def test_apollo_client_batching(node_project: Path, server: Process) -> None:
    """BatchHttpLink: three concurrent queries go out as one JSON array and each answer
    equals the same query run alone."""
    _apollo(node_project, server, "batching")


def test_graphql_ws_subscription(node_project: Path, server: Process, api_key: str) -> None:
    """graphql-ws (over the `ws` package) subscribes to connectionStatusChanged with
    {ids: [A, B]} and {ids: [A, B, C]}; the script changes C, A and B through mutations over
    HTTP, five rounds in varying order. Each event arrives once, in commit order, and none
    for C through the first. Also: the fourth subscription on a socket is refused with
    TOO_MANY_SUBSCRIPTIONS while the others go on, the server's keep-alive pings reach the
    client, and a handshake from a foreign Origin gets 403 while the allowed one gets in."""
    code, lines, stderr = _node(
        node_project,
        server,
        "subscriptions.mjs",
        env={"OCM_GQL_KEY": api_key, "ALLOWED_ORIGIN": ALLOWED_ORIGIN},
    )
    outcomes = [line for line in lines if line.get("scenario") == "subscriptions"]
    assert len(outcomes) == 1, f"subscriptions.mjs reported {lines} (exit {code}):\n{stderr}"
    outcome = outcomes[0]
    details = json.dumps(outcome, indent=1)
    passed = outcome.get("passed", [])
    print(
        f"graphql-ws: {outcome.get('changes')} status changes, events {outcome.get('events')}, "
        f"{outcome.get('serverPings')} keep-alive pings; {len(passed)} checks passed: "
        + "; ".join(passed)
    )
    assert outcome["ok"] is True, f"subscriptions.mjs failed:\n{details}\n{stderr}"
    assert code == 0, f"subscriptions.mjs exited {code}:\n{details}\n{stderr}"
    assert len(passed) >= 16, details
