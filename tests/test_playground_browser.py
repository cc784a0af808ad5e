"""End to end in a real browser: `ocm-gql serve` on loopback and Debian's Chromium, headless,
driven by playwright-core (tests/browser/playground.mjs, playground_subscription.mjs).
GraphiQL must load from our server alone, run a query set in its editor, show the server's
answer, list the schema's types in its docs explorer, and run the subscription example over
a WebSocket to the same origin, showing a status change that a mutation makes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from gql.http.playground import ASSETS_URL_PREFIX, EXAMPLE_QUERY, EXAMPLE_SUBSCRIPTION
from tests.chromium import browser_report, browser_scripts
from tests.conftest import run_cli
from tests.processes import Process, ocm_server
from tests.test_playground import playground_assets

pytestmark = pytest.mark.e2e

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
    return browser_scripts()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("playground") / "playground.db"
    run_cli("seed", "--db", str(db), "--demo", "200")
    return db


@pytest.fixture(scope="module")
def api_key(db: Path) -> str:
    """A writing key, made before the server starts; `keys create` prints it last."""
    return run_cli("keys", "create", "--db", str(db), "--name", "playground").split()[-1]


@pytest.fixture(scope="module")
def server(db: Path, api_key: str) -> Iterator[Process]:
    playground_assets()
    running = ocm_server("--db", str(db), cwd=db.parent)
    yield running
    running.stop()


def _screenshot_path(tmp_path: Path, name: str = "playground.png") -> Path:
    folder = Path(os.environ["CI_ARTIFACTS"]) if os.environ.get("CI_ARTIFACTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def test_graphiql_runs_a_query_in_chromium(
    node_project: Path, server: Process, tmp_path: Path
) -> None:
    screenshot = _screenshot_path(tmp_path)
    report = browser_report(
        node_project,
        "playground.mjs",
        {
            "PAGE_URL": f"{server.url}/graphql",
            "QUERY": QUERY,
            "OPERATION_NAME": OPERATION,
            "SCREENSHOT": str(screenshot),
        },
    )
    print(f"screenshot: {screenshot}")
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


def test_graphiql_runs_the_subscription_example_in_chromium(
    node_project: Path, server: Process, api_key: str, tmp_path: Path
) -> None:
    first = httpx2.post(
        f"{server.url}/graphql",
        json={"query": "{ connectionInfos(first: 1) { nodes { id statusTypeId } } }"},
        timeout=30,
    ).json()["data"]["connectionInfos"]["nodes"][0]
    statuses = [30, 75]  # set in turn, so each mutation is a change
    screenshot = _screenshot_path(tmp_path, "playground-subscription.png")
    report = browser_report(
        node_project,
        "playground_subscription.mjs",
        {
            "PAGE_URL": f"{server.url}/graphql",
            "TAB": "StatusChanges",
            "API_KEY": api_key,
            "CONNECTION_ID": str(first["id"]),
            "STATUSES": json.dumps(statuses),
            "SCREENSHOT": str(screenshot),
        },
    )
    print(f"screenshot: {screenshot}")
    assert report["tabQuery"] == EXAMPLE_SUBSCRIPTION

    # The subscription went over one WebSocket to the page's own origin, not over HTTP.
    assert report["sockets"] == [f"ws://127.0.0.1:{server.port}/graphql"]
    assert report["subscribeFrames"] == 1

    # The pane shows the latest change it heard, which one of our mutations made.
    change = report["result"]["data"]["connectionStatusChanged"]
    assert "errors" not in report["result"]
    assert change["connectionInfo"]["id"] == first["id"]
    made = [(c["previous"], c["status"]) for c in report["changes"]]
    assert made[0][0] == first["statusTypeId"]
    assert (change["previousStatusTypeId"], change["statusTypeId"]) in made
    assert change["statusTypeId"] in statuses
    assert change["connectionInfo"]["statusType"]["title"]
