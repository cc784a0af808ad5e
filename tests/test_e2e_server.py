"""End to end: `ocm-gql serve` as a real uvicorn process on loopback, a real SQLite file,
and a real HTTP client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.conftest import run_cli, shared_ocm

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, *args: str, cwd: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gql", "serve", "--port", str(self.port), *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.process.stdout.read()}")  # type: ignore[union-attr]
            try:
                if httpx2.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("server did not start in 60 s")

    def stop(self) -> str:
        self.process.terminate()
        try:
            output, _ = self.process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("e2e")
    db = folder / "e2e.db"
    run_cli("seed", "--db", str(db), "--demo", "500")
    run_cli("import", "--db", str(db), str(shared_ocm() / "poi"))
    running = Server("--db", str(db), "--host", "127.0.0.1", cwd=folder)
    yield running
    running.stop()


def _post(
    server: Server, query: str, variables: dict[str, object] | None = None
) -> httpx2.Response:
    return httpx2.post(
        f"{server.url}/graphql", json={"query": query, "variables": variables}, timeout=30
    )


def test_query_over_post(server: Server) -> None:
    response = _post(
        server,
        "{ connectionInfo(id: 9083) { id powerKw connectionType { title } "
        "statusType { isOperational } level { isFastChargeCapable } currentType { title } } }",
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "connectionInfo": {
                "id": 9083,
                "powerKw": 3.8,
                "connectionType": {"title": "Europlug 2-Pin (CEE 7/16)"},
                "statusType": {"isOperational": True},
                "level": {"isFastChargeCapable": False},
                "currentType": None,
            }
        }
    }


def test_paging_over_get(server: Server) -> None:
    query = (
        "query($after: String) { connectionInfos(first: 100, after: $after, "
        "filter: {connectionTypeIds: [25]}) { totalCount nodes { id connectionTypeId } "
        "pageInfo { hasNextPage endCursor } } }"
    )
    seen: list[int] = []
    after = None
    while True:
        params = {"query": query}
        if after:
            params["variables"] = f'{{"after": "{after}"}}'
        body = httpx2.get(f"{server.url}/graphql", params=params, timeout=30).json()
        page = body["data"]["connectionInfos"]
        assert all(n["connectionTypeId"] == 25 for n in page["nodes"])
        seen += [n["id"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == page["totalCount"]
    assert len(seen) > 100  # it really took more than one page


def test_bad_input_is_a_clear_error_not_a_500(server: Server) -> None:
    for query in [
        "{ connectionInfos(",
        "{ nope }",
        '{ connectionInfos(after: "x") { totalCount } }',
    ]:
        response = _post(server, query)
        assert response.status_code < 500
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] in {
            "GRAPHQL_PARSE_FAILED",
            "GRAPHQL_VALIDATION_FAILED",
            "BAD_USER_INPUT",
        }
        assert "Traceback" not in response.text


def test_readiness(server: Server) -> None:
    assert httpx2.get(f"{server.url}/readyz", timeout=5).json() == {"status": "ok"}


def test_first_run_creates_and_seeds_the_default_database(tmp_path: Path) -> None:
    running = Server(cwd=tmp_path)
    try:
        response = _post(running, "{ connectionInfos { totalCount } connectionTypes { id } }")
    finally:
        output = running.stop()
    assert (tmp_path / "ocm-gql.db").is_file()
    data = response.json()["data"]
    assert data["connectionInfos"]["totalCount"] == 1000
    assert len(data["connectionTypes"]) == 42
    assert "creating ocm-gql.db" in output
