"""An import into the database a real server is writing to, on each backend: the import
writes in short transactions, so the server's own writes get in between (on SQLite, the
file's one write lock) and none of them fails."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

from gql.data.importer import ImportReport, import_exports
from gql.repository.factory import open_repository
from gql.settings import Settings
from tests.conftest import run_cli
from tests.processes import ocm_server

pytestmark = pytest.mark.e2e

SITE = 1_000_000_001  # a demo site
CREATE = """mutation($input: CreateConnectionInfoInput!) {
  createConnectionInfo(input: $input) { connectionInfo { id } userErrors { code } }
}"""


def _export(path: Path, sites: int) -> Path:
    with path.open("w") as out:
        json.dump(
            [
                {
                    "ID": number,
                    "AddressInfo": {"Title": f"Site {number}"},
                    "Connections": [
                        {"ID": 10 * number, "ConnectionTypeID": 25, "PowerKW": 22.0},
                        {"ID": 10 * number + 1, "Quantity": 2, "Comments": "c" * 200},
                    ],
                }
                for number in range(1, sites + 1)
            ],
            out,
        )
    return path


def test_server_writes_go_through_while_an_import_runs(database_url: str, tmp_path: Path) -> None:
    db = database_url
    run_cli("seed", "--database-url", db, "--demo", "20")
    key = run_cli("keys", "create", "--name", "server-writer", "--database-url", db).strip()
    export = _export(tmp_path / "export.json", 3000)
    server = ocm_server("--database-url", db, cwd=tmp_path)
    answers: list[dict[str, Any]] = []
    stop = threading.Event()

    def write_until_stopped() -> None:
        with httpx2.Client(base_url=server.url, headers={"X-API-Key": key}, timeout=60) as client:
            while not stop.is_set():
                response = client.post(
                    "/graphql",
                    json={"query": CREATE, "variables": {"input": {"chargePointId": SITE}}},
                )
                answers.append(response.json())

    writes_when: dict[str, int] = {}

    def progress(message: str) -> None:
        if message.startswith("writing"):
            writes_when["import writes"] = len(answers)

    async def run_import() -> ImportReport:
        repository = await open_repository(Settings(database_url=db))
        try:
            return await import_exports(repository, [export], progress, batch_size=100)
        finally:
            await repository.close()

    writer = threading.Thread(target=write_until_stopped)
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while len(answers) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        report = asyncio.run(run_import())
        writes_when["import done"] = len(answers)
    finally:
        stop.set()
        writer.join(timeout=120)
        output = server.stop()
    assert report.transactions == 30  # 3,000 sites, 100 per transaction
    assert report.counts.sites.written == 3000
    during = writes_when["import done"] - writes_when["import writes"]
    assert during > 0, writes_when  # server writes ran between the import's transactions
    failed = [answer for answer in answers if "errors" in answer]
    assert failed == [], failed[:3]
    assert all(a["data"]["createConnectionInfo"]["userErrors"] == [] for a in answers)
    assert "INTERNAL_SERVER_ERROR" not in output
    assert "database is locked" not in output
