"""The proof that a wheel alone gives a working offline playground: the wheel is installed
into a fresh venv outside the checkout, `ocm-gql serve` runs from that venv in an empty
folder (making its default database there), and Debian's Chromium drives its GraphiQL
(tests/browser/playground.mjs) through a query to its answer."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from gql.http.playground import ASSETS_URL_PREFIX
from gql.http.playground_files import PACKAGED_FOLDER
from gql.version import VERSION
from tests.chromium import browser_report
from tests.conftest import REPO_ROOT
from tests.processes import Process, free_port
from tests.test_playground_browser import (  # node_project: the browser test's fixture
    OPERATION,
    QUERY,
    node_project,  # noqa: F401
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and its dependencies (from pip's cache when it can)."""
    venv = tmp_path_factory.mktemp("wheel-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return venv


@pytest.fixture(scope="module")
def installed_server(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    folder = tmp_path_factory.mktemp("wheel-serve")
    assert not folder.is_relative_to(REPO_ROOT)
    port = free_port()
    running = Process(
        [str(venv / "bin" / "ocm-gql"), "serve", "--port", str(port)],
        port=port,
        cwd=folder,
        # Nothing from the checkout on the path: only the venv's files can be found.
        env={"PYTHONPATH": "", "VIRTUAL_ENV": str(venv)},
        ready_path="/healthz",
        timeout=180,  # the first start seeds ocm-gql.db with 1,000 demo connections
    )
    assert (folder / "ocm-gql.db").is_file()
    yield running
    running.stop()


def test_the_venv_runs_the_wheels_code(venv: Path) -> None:
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import gql; print(gql.__file__)"],
        cwd=venv.parent,
        env={**os.environ, "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    package = Path(run.stdout.strip()).parent
    assert package.is_relative_to(venv)
    assert (package / PACKAGED_FOLDER / "graphiql" / "graphiql.min.js").is_file()
    assert not (package / "playground").exists()
    version = subprocess.run(
        [str(venv / "bin" / "ocm-gql"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout == f"ocm-gql {VERSION}\n"


def test_graphiql_from_an_installed_wheel_runs_a_query_in_chromium(
    node_project: Path,  # noqa: F811
    installed_server: Process,
    tmp_path: Path,
) -> None:
    server = installed_server
    assert httpx2.get(f"{server.url}/healthz", timeout=10).json()["version"] == VERSION
    screenshot = tmp_path / "wheel-playground.png"
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
    direct = httpx2.post(f"{server.url}/graphql", json={"query": QUERY}, timeout=30).json()
    assert "errors" not in direct
    assert direct["data"]["connectionInfos"]["totalCount"] == 1000  # the default demo data
    assert report["result"] == direct
    assert "ConnectionInfo" in report["docTypes"]
    paths = [urlsplit(r["url"]).path for r in report["requests"]]
    assert sum(path.startswith(ASSETS_URL_PREFIX) for path in paths) == 4
