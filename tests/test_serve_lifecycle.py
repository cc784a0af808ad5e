"""`ocm-gql serve` starting and stopping, as a real process: a database it cannot use is
one line on stderr and exit 2 before it listens; SIGTERM lets in-flight requests finish,
refuses new connections, and closes the database cleanly."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.conftest import REPO_ROOT, run_cli
from tests.processes import Process, free_port, ocm_server
from tests.queries import EVERY_CONNECTION_FIELD
from tests.test_playground import playground_assets

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("seeded") / "seeded.db"
    run_cli("seed", "--db", str(db), "--demo", "2000", "--seed", "3")
    return db


def _copy(db: Path, to: Path) -> Path:
    shutil.copyfile(db, to)
    return to


@pytest.fixture(autouse=True, scope="module")
def _playground_installed() -> None:
    # Without its files `serve` warns on stderr, which the one-line refusals here would
    # count: installed from the lock file, as the README's start command does.
    playground_assets()


def _serve(
    db: Path | None, env: dict[str, str] | None = None, port: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`serve --db db` (without --db when None); one that starts would time the test out."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
    environment.update(env or {})
    where = [] if db is None else ["--db", str(db)]
    return subprocess.run(
        [sys.executable, "-m", "gql", "serve", *where, "--port", str(port or free_port())],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
        timeout=60,
    )


def _refused(result: subprocess.CompletedProcess[str], *reasons: str) -> str:
    """Asserts the one-line refusal and returns it."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("ocm-gql: error: ")
    for reason in reasons:
        assert reason in line
    assert "serving" not in result.stdout
    return line


# --- startup refusals ---------------------------------------------------------------------


def test_a_missing_database_named_explicitly(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    _refused(_serve(missing), f"no database at {missing}", f"ocm-gql seed --db {missing}")
    assert not missing.exists()


def test_a_database_in_a_missing_folder(tmp_path: Path) -> None:
    db = tmp_path / "no" / "such" / "folder" / "ocm.db"
    _refused(_serve(db), f"no database at {db}")
    _refused(_serve(None, env={"OCM_GQL_DB": str(db)}), f"no database at {db}")
    assert not (tmp_path / "no").exists()


def test_a_directory_at_the_database_path(tmp_path: Path) -> None:
    folder = tmp_path / "folder.db"
    folder.mkdir()
    _refused(_serve(folder), f"cannot use the database {folder}: it is not a file")
    assert list(folder.iterdir()) == []


def test_a_file_of_random_bytes(tmp_path: Path) -> None:
    db = tmp_path / "random.db"
    db.write_bytes(random.Random(7).randbytes(64 * 1024))
    _refused(
        _serve(db),
        f"cannot use the database {db}: file is not a database",
        "(the file is damaged or not an SQLite database)",
    )


def test_a_truncated_database(seeded: Path, tmp_path: Path) -> None:
    db = tmp_path / "truncated.db"
    content = seeded.read_bytes()
    db.write_bytes(content[: len(content) // 2])
    _refused(
        _serve(db),
        f"cannot use the database {db}: database disk image is malformed",
        "(the file is damaged or not an SQLite database)",
    )


def test_a_database_from_a_newer_version(seeded: Path, tmp_path: Path) -> None:
    db = _copy(seeded, tmp_path / "newer.db")
    with sqlite3.connect(db) as connection:
        connection.execute("PRAGMA user_version = 999")
    connection.close()
    _refused(_serve(db), f"{db} has schema version 999; this ocm-gql knows up to")


def test_a_busy_port(seeded: Path, tmp_path: Path) -> None:
    db = _copy(seeded, tmp_path / "busy.db")
    with socket.create_server(("127.0.0.1", 0)) as holder:  # a listener, as a server is
        port = holder.getsockname()[1]
        result = _serve(db, port=port)
    line = _refused(result)
    assert line == f"ocm-gql: error: cannot listen on 127.0.0.1:{port}: address already in use"
    assert result.stdout == ""


def test_the_log_level_flag_overrides_the_environment(seeded: Path, tmp_path: Path) -> None:
    db = _copy(seeded, tmp_path / "levels.db")
    outputs = {}
    for flag, environment in (("warning", "debug"), ("info", "error")):
        server = ocm_server(
            "--db",
            str(db),
            "--log-level",
            flag,
            cwd=tmp_path,
            env={"OCM_GQL_LOG_LEVEL": environment},
        )
        outputs[flag] = server.stop()
    # uvicorn logs its start at info level.
    assert "Application startup complete" not in outputs["warning"]
    assert "Application startup complete" in outputs["info"]


def test_a_database_another_process_holds_locked(seeded: Path, tmp_path: Path) -> None:
    db = _copy(seeded, tmp_path / "locked.db")
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        assert holder.execute("PRAGMA journal_mode = WAL").fetchone() == ("wal",)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, until rolled back
        result = _serve(db, env={"OCM_GQL_BUSY_TIMEOUT_MS": "200"})
        _refused(
            result,
            f"cannot use the database {db}: database is locked",
            "(another process holds a lock on it)",
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Once the lock is gone, the same file serves.
    server = ocm_server("--db", str(db), cwd=tmp_path, env={"OCM_GQL_BUSY_TIMEOUT_MS": "200"})
    server.stop()


# --- SIGTERM: drain, refuse, close --------------------------------------------------------

# Every field of a connection and its relations; a page of 1,000 is some 700 kB of JSON.
PAGE = f"""query($after: String) {{ connectionInfos(first: 1000, after: $after) {{
    pageInfo {{ endCursor }}
    nodes {{ {EVERY_CONNECTION_FIELD} }}
}} }}"""
NODE_FIELDS = {
    "id",
    "connectionTypeId",
    "reference",
    "statusTypeId",
    "levelId",
    "amps",
    "voltage",
    "powerKw",
    "currentTypeId",
    "quantity",
    "comments",
    "chargePointId",
    "connectionType",
    "statusType",
    "level",
    "currentType",
}


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("big") / "big.db"
    run_cli("seed", "--db", str(db), "--demo", "20000", "--seed", "1")
    return db


class RawRequest:
    """A POST /graphql over its own socket, so the test decides when each part is sent."""

    def __init__(self, port: int, body: Any, *, expect_continue: bool) -> None:
        self.body = json.dumps(body).encode()
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buffer = b""
        head = (
            "POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(self.body)}\r\n"
        )
        if expect_continue:
            # The server answers 100 Continue when the app starts reading the body: from
            # then on the request is certainly in flight, and waits for the rest.
            self.socket.sendall(f"{head}Expect: 100-continue\r\n\r\n".encode())
            assert self._head().startswith(b"HTTP/1.1 100 ")
        else:
            self.socket.sendall(f"{head}\r\n".encode() + self.body)

    def send_body(self) -> None:
        self.socket.sendall(self.body)

    def _head(self) -> bytes:
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.socket.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed before a response: {self.buffer!r}")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        return head

    def status(self) -> tuple[int, dict[str, str]]:
        """Reads the status line and headers (the body may still be on its way)."""
        lines = self._head().decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        self.headers = {name.lower(): value for name, value in headers.items()}
        return int(lines[0].split()[1]), self.headers

    def body_json(self) -> Any:
        length = int(self.headers["content-length"])
        while len(self.buffer) < length:
            chunk = self.socket.recv(1 << 20)
            if not chunk:
                raise ConnectionError(f"closed after {len(self.buffer)} of {length} bytes")
            self.buffer += chunk
        return json.loads(self.buffer[:length])

    def close(self) -> None:
        self.socket.close()


def _connection_refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def _assert_full_page(answer: Any) -> None:
    assert "errors" not in answer
    nodes = answer["data"]["connectionInfos"]["nodes"]
    assert len(nodes) == 1000
    assert all(set(node) == NODE_FIELDS for node in nodes)


def _assert_closed_cleanly(db: Path) -> None:
    # SQLite checkpoints and deletes the -wal (and -shm) file when the last connection
    # to a WAL database closes; after a kill they stay behind.
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    connection = sqlite3.connect(db)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT count(*) FROM connection_info").fetchone() == (20000,)
    finally:
        connection.close()


@pytest.fixture
def server_db(big_db: Path, tmp_path: Path) -> Path:
    return _copy(big_db, tmp_path / "served.db")


@pytest.fixture
def requests() -> Iterator[list[RawRequest]]:
    opened: list[RawRequest] = []
    yield opened
    for request in opened:
        request.close()


def _cursors(server: Process, count: int) -> list[str | None]:
    """The `after` of the first ``count`` pages of 1,000."""
    cursors: list[str | None] = [None]
    query = (
        "query($after: String) "
        "{ connectionInfos(first: 1000, after: $after) { pageInfo { endCursor } } }"
    )
    while len(cursors) < count:
        response = httpx2.post(
            f"{server.url}/graphql",
            json={"query": query, "variables": {"after": cursors[-1]}},
            timeout=30,
        )
        cursors.append(response.json()["data"]["connectionInfos"]["pageInfo"]["endCursor"])
    return cursors


def test_sigterm_lets_in_flight_requests_finish(
    server_db: Path, tmp_path: Path, requests: list[RawRequest]
) -> None:
    server = ocm_server("--db", str(server_db), cwd=tmp_path)
    try:
        cursors = _cursors(server, 6)
        # Three batches of five pages each, their bodies held back until after SIGTERM...
        waiting = [
            RawRequest(
                server.port,
                [{"query": PAGE, "variables": {"after": cursor}} for cursor in cursors[:5]],
                expect_continue=True,
            )
            for _ in range(3)
        ]
        # ...and three pages being answered: headers read, bodies not yet.
        answering = [
            RawRequest(
                server.port, {"query": PAGE, "variables": {"after": cursor}}, expect_continue=False
            )
            for cursor in cursors[3:6]
        ]
        requests.extend(waiting + answering)
        for request in answering:
            assert request.status()[0] == 200

        server.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60  # a guard against hanging, not a measurement
        while not _connection_refused(server.port):
            assert time.monotonic() < deadline, "still accepting connections after SIGTERM"
            time.sleep(0.05)
        assert server.process.poll() is None  # refusing new connections, draining old ones
        # uvicorn says it waits for connections only if some are open 0.1 s after it
        # stopped listening; bodies sent before that may all be answered within it.
        server.wait_for_output("Waiting for connections to close")

        for request in waiting:
            request.send_body()
        for request in waiting:
            status, headers = request.status()
            assert status == 200
            assert headers.get("connection") == "close"
            answers = request.body_json()
            assert len(answers) == 5
            for answer in answers:
                _assert_full_page(answer)
        for request in answering:
            _assert_full_page(request.body_json())

        server.process.wait(timeout=30)
    finally:
        output = server.stop()
    # uvicorn shuts down cleanly, then ends itself with the signal it was sent, as a
    # process stopped by SIGTERM conventionally does (a shell sees 143).
    assert server.process.returncode == -signal.SIGTERM, output
    assert "Waiting for connections to close" in output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    # 5 requests for the cursors, then the 6 in flight.
    assert output.count('"POST /graphql HTTP/1.1" 200') == 5 + len(waiting) + len(answering)
    _assert_closed_cleanly(server_db)


def test_a_request_still_running_after_the_grace_period_is_cut_off(
    server_db: Path, tmp_path: Path, requests: list[RawRequest]
) -> None:
    server = ocm_server(
        "--db", str(server_db), cwd=tmp_path, env={"OCM_GQL_SHUTDOWN_GRACE_SECONDS": "1"}
    )
    try:
        stuck = RawRequest(server.port, {"query": PAGE}, expect_continue=True)
        requests.append(stuck)
        server.process.send_signal(signal.SIGTERM)
        # It ends although the request never finishes: the log below says the grace ran out.
        server.process.wait(timeout=120)
    finally:
        output = server.stop()
    assert server.process.returncode == -signal.SIGTERM, output
    assert "timeout graceful shutdown exceeded" in output
    assert "Application shutdown complete" in output
    # uvicorn cancelled it and answered for it: a bare 500, and the connection closes.
    stuck.send_body()
    status, headers = stuck.status()
    assert (status, headers["connection"]) == (500, "close")
    _assert_closed_cleanly(server_db)
