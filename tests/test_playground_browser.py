"""End to end in a real browser: `ocm-gql serve` on loopback and Debian's Chromium, headless,
driven by playwright-core (tests/browser/playground.mjs). GraphiQL must load from our
server alone, run a query set in its editor, show the server's answer and list the
schema's types in its docs explorer."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from gql.http.playground import ASSETS_URL_PREFIX, EXAMPLE_QUERY
from tests.conftest import REPO_ROOT, run_cli
from tests.processes import Process, npm_project, ocm_server
from tests.test_playground import playground_assets

pytestmark = pytest.mark.e2e

NODE_PROJECT = REPO_ROOT / "tests" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
OPERATION = "StrongestConnections"
QUERY = f"""query {OPERATION} {{
  connectionInfos(first: 3, orderBy: POWER_KW_DESC) {{
    totalCount
    nodes {{
      id
      powerKw
      connectionType {{ title }}
      currentType {{ title }}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""


@pytest.fixture(scope="module")
def node_project() -> Path:
    """playwright-core from the committed lock file (npm ci) when not yet installed; it
    drives the system's Chromium and never downloads a browser."""
    if not CHROMIUM.is_file():
        pytest.skip(f"Debian's Chromium is needed at {CHROMIUM} (apt-get install chromium)")
    return npm_project(NODE_PROJECT, "playwright-core", "the browser test")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    playground_assets()
    folder = tmp_path_factory.mktemp("playground")
    db = folder / "playground.db"
    run_cli("seed", "--db", str(db), "--demo", "200")
    running = ocm_server("--db", str(db), cwd=folder)
    yield running
    running.stop()


def _screenshot_path(tmp_path: Path) -> Path:
    folder = Path(os.environ["CI_ARTIFACTS"]) if os.environ.get("CI_ARTIFACTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "playground.png"


def test_graphiql_runs_a_query_in_chromium(
    node_project: Path, server: Process, tmp_path: Path
) -> None:
    screenshot = _screenshot_path(tmp_path)
    run = subprocess.run(
        ["node", "playground.mjs"],
        cwd=node_project,
        env={
            **os.environ,
            "PAGE_URL": f"{server.url}/graphql",
            "QUERY": QUERY,
            "OPERATION_NAME": OPERATION,
            "SCREENSHOT": str(screenshot),
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    print(f"screenshot: {screenshot}")
    assert run.returncode == 0, f"{run.stdout}\n{run.stderr}"
    report = json.loads(run.stdout)
    assert report["problems"] == []
    assert screenshot.stat().st_size > 10_000

    assert report["initialQuery"] == EXAMPLE_QUERY
    direct = httpx2.post(f"{server.url}/graphql", json={"query": QUERY}, timeout=30).json()
    assert "errors" not in direct
    assert report["result"] == direct

    assert {
        "Query",
        "ConnectionInfo",
        "ConnectionInfoConnection",
        "ConnectionType",
        "StatusType",
        "SupplyType",
        "PageInfo",
    } <= set(report["docTypes"])

    # Everything came from our server: the page, its files and the GraphQL requests.
    requests = report["requests"]
    assert {urlsplit(r["url"]).netloc for r in requests} == {f"127.0.0.1:{server.port}"}
    paths = [urlsplit(r["url"]).path for r in requests]
    assert sum(path.startswith(ASSETS_URL_PREFIX) for path in paths) == 4
    # The introspection for the docs and the query, as GraphQL over HTTP asks.
    posts = [r for r in requests if r["method"] == "POST"]
    assert len(posts) >= 2
    for post in posts:
        assert urlsplit(post["url"]).path == "/graphql"
        assert post["accept"] == "application/graphql-response+json, application/json"
        assert post["contentType"] == "application/json"
