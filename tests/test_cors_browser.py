"""CORS end to end in a real browser: Debian's Chromium, headless, driven by playwright-core
(tests/browser/cors.mjs), loads tests/browser/cors.html from a second origin on loopback (a
`python -m http.server` on another port) and that page's own script calls `ocm-gql serve`
cross-origin: a JSON POST with an API key (so the browser sends a real preflight), a GET and
the same GET made conditional. Three servers: default settings (any origin), the page's
exact origin, and an origin that is not the page's, where the browser must refuse."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2
import pytest

from tests.chromium import BROWSER_SCRIPTS, browser_report, browser_scripts
from tests.conftest import run_cli
from tests.processes import Process, free_port, ocm_server

pytestmark = pytest.mark.e2e

QUERY = "{ levels { id title } }"
ELSEWHERE = "https://elsewhere.example"
BROWSER_MARK = "browser-starts-here"
# What the page's POST makes the browser ask in its preflight.
PREFLIGHT_HEADERS = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,x-api-key",
}


@dataclass
class Case:
    """One server's CORS setting, and what the browser and the server saw."""

    origins: str | None  # OCM_GQL_CORS_ORIGINS, None for the default
    server: Process | None = None
    direct: dict[str, Any] | None = None  # the query's answer to a direct POST
    direct_etag: str | None = None  # and the ETag of a direct GET
    preflights: dict[str, httpx2.Response] | None = None  # by Origin, sent directly
    outcome: dict[str, Any] | None = None  # what the page's script saw
    console: list[str] | None = None  # the page's console errors
    log: str = ""  # the server's access log of the browser's requests alone


@pytest.fixture(scope="module")
def node_project() -> Path:
    return browser_scripts()


@pytest.fixture(scope="module")
def page_origin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """cors.html served by a second process on another port: another origin."""
    folder = tmp_path_factory.mktemp("cors-page")
    shutil.copy(BROWSER_SCRIPTS / "cors.html", folder / "cors.html")
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    running = Process(command, port=port, cwd=folder, ready_path="/cors.html")
    yield running.url
    running.stop()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cors") / "cors.db"
    run_cli("seed", "--db", str(db), "--demo", "50")
    return db


def _run_cases(node_project: Path, page_origin: str, cases: list[Case]) -> None:
    """Every case's page in one Chromium session; fills in each case's outcome."""
    urls = [
        f"{page_origin}/cors.html?api={quote(c.server.url, safe='')}" for c in cases if c.server
    ]
    report = browser_report(node_project, "cors.mjs", {"PAGE_URLS": json.dumps(urls)}, 120)
    for case, page in zip(cases, report["pages"], strict=True):
        case.outcome = page["outcome"]
        case.console = page["console"]


def _direct_checks(case: Case, page_origin: str) -> None:
    """What the server answers without a browser: the query, and the preflight the browser
    sends for the page's POST, with the page's origin and another one."""
    assert case.server is not None
    url = f"{case.server.url}/graphql"
    case.direct = httpx2.post(url, json={"query": QUERY}, timeout=10).json()
    case.direct_etag = httpx2.get(url, params={"query": QUERY}, timeout=10).headers["etag"]
    case.preflights = {
        origin: httpx2.options(url, headers={"Origin": origin, **PREFLIGHT_HEADERS}, timeout=10)
        for origin in (page_origin, ELSEWHERE)
    }


def _assert_allowed(case: Case, page_origin: str, allow_origin: str) -> None:
    assert case.outcome is not None
    assert case.direct is not None
    assert case.preflights
    direct = case.direct
    assert "errors" not in direct
    assert direct["data"]["levels"]
    outcome = case.outcome
    assert outcome["origin"] == page_origin  # the page's own origin, not the server's
    assert outcome["post"] == {"ok": True, "status": 200, "etag": None, "body": direct}
    # The ETag is exposed, so the page reads it, and revalidating with it gets 304.
    assert outcome["get"] == {"ok": True, "status": 200, "etag": case.direct_etag, "body": direct}
    revalidated = {"ok": False, "status": 304, "etag": case.direct_etag, "body": None}
    assert outcome["conditionalGet"] == revalidated
    assert case.console == []

    preflight = case.preflights[page_origin]
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == allow_origin
    # The browser preflighted, then sent the real requests.
    assert '"OPTIONS /graphql HTTP/1.1" 200' in case.log
    assert '"POST /graphql HTTP/1.1" 200' in case.log
    assert re.search(r'"GET /graphql\?query=\S+ HTTP/1.1" 304', case.log), case.log


def _assert_refused(case: Case, page_origin: str) -> None:
    assert case.outcome is not None
    assert case.preflights
    outcome = case.outcome
    # fetch() rejects with the browser's opaque TypeError: the page learns nothing.
    for attempt in (outcome["post"], outcome["get"]):
        assert set(attempt) == {"error"}
        assert attempt["error"].startswith("TypeError: ")
    assert outcome["conditionalGet"] is None
    blocked = [line for line in case.console or [] if "blocked by CORS policy" in line]
    assert blocked, case.console
    assert all("preflight" in line for line in blocked), blocked

    refused = case.preflights[page_origin]
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    allowed = case.preflights[ELSEWHERE]
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ELSEWHERE
    # The browser stopped at the refused preflight: no request of the page's ran.
    assert '"OPTIONS /graphql HTTP/1.1" 400' in case.log
    assert "POST /graphql" not in case.log
    assert "GET /graphql" not in case.log


def test_cors_in_chromium(node_project: Path, page_origin: str, db: Path, tmp_path: Path) -> None:
    default, exact, elsewhere = cases = [Case(None), Case(page_origin), Case(ELSEWHERE)]

    def start(case: Case) -> None:
        env = {} if case.origins is None else {"OCM_GQL_CORS_ORIGINS": case.origins}
        case.server = ocm_server("--db", str(db), cwd=tmp_path, env=env)

    try:
        with ThreadPoolExecutor(len(cases)) as pool:
            list(pool.map(start, cases))
        for case in cases:
            _direct_checks(case, page_origin)
            # Marks where the browser's requests start in the access log.
            assert case.server is not None
            httpx2.get(f"{case.server.url}/healthz?{BROWSER_MARK}", timeout=10)
        _run_cases(node_project, page_origin, cases)
    finally:
        for case in cases:
            if case.server is not None:
                case.log = case.server.stop().partition(BROWSER_MARK)[2]
    _assert_allowed(default, page_origin, "*")
    _assert_allowed(exact, page_origin, page_origin)
    _assert_refused(elsewhere, page_origin)
    print(
        f"CORS in Chromium from {page_origin}: default `*` and the exact origin let the "
        "preflighted POST (same data as a direct query), the GET with a readable ETag and its "
        f"304 through; with {ELSEWHERE} fetch rejects (TypeError), the preflight gets 400 "
        "without Access-Control-Allow-Origin and the POST never reaches the server"
    )
