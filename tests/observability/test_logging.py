"""The log lines: a real server's JSON lines (fields, request ids, secrets absent), and
the formatter, filter and text line in process."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.data.seeding import DEMO_ID_BASE
from gql.observability import record as records
from gql.observability.logging import (
    FORMAT,
    REQUEST_LOGGER,
    DropGraphqlAccess,
    JsonLines,
    RequestContext,
    log_request,
)
from gql.observability.record import Outcome, RequestRecord, Transport
from gql.settings import Settings
from tests.conftest import run_cli
from tests.processes import Process, free_port, ocm_server
from tests.test_websocket_limits import _socket

# The server, with one fault put in before it starts: counting connections raises, as
# a bug would, so `totalCount` answers a masked INTERNAL_SERVER_ERROR with an errorId.
_SERVE_WITH_A_FAULT = """
import sys
from gql.repository.sqlite.repository import SqliteRepository

async def broken(self, filter):
    raise RuntimeError("injected fault")

SqliteRepository.count_connections = broken
from gql.cli import main
sys.exit(main(sys.argv[1:]))
"""
SECRET_COMMENT = "comment-5f1e-do-not-log"
SECRET_REFERENCE = "reference-9a7c-do-not-log"
STDOUT_LINES = ("creating ", "serving ")
"""What `serve` prints on stdout (merged into the output here): the rest is stderr."""


class JsonServer:
    def __init__(self, process: Process, key: str) -> None:
        self.process = process
        self.key = key
        self.output: str | None = None

    def post(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> httpx2.Response:
        return httpx2.post(f"{self.process.url}/graphql", json=body, headers=headers, timeout=30)

    def lines(self) -> list[dict[str, Any]]:
        """Stops the server (so every line is written) and parses its stderr."""
        if self.output is None:
            self.output = self.process.stop()
        return _json_lines(self.output)


def _json_lines(output: str) -> list[dict[str, Any]]:
    """A server's stderr lines, each parsed as the JSON object it must be."""
    parsed = []
    for line in output.splitlines():
        if line.startswith(STDOUT_LINES):
            continue
        entry = json.loads(line)
        assert isinstance(entry, dict), line
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
        parsed.append(entry)
    return parsed


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JsonServer]:
    folder = tmp_path_factory.mktemp("json-logs")
    db = str(folder / "logs.db")
    run_cli("seed", "--db", db, "--demo", "20")
    key = run_cli("keys", "create", "--db", db, "--name", "log-writer").strip()
    port = free_port()
    process = Process(
        [sys.executable, "-c", _SERVE_WITH_A_FAULT, "serve", "--db", db, "--port", str(port)],
        port=port,
        cwd=folder,
        env={"OCM_GQL_LOG_FORMAT": "json"},
        ready_path="/healthz",
    )
    server = JsonServer(process, key)
    yield server
    process.stop()


def _request_line(lines: list[dict[str, Any]], request_id: str) -> dict[str, Any]:
    (line,) = [
        entry
        for entry in lines
        if entry["logger"] == REQUEST_LOGGER and entry.get("request_id") == request_id
    ]
    return line


@pytest.mark.e2e
def test_a_json_server_logs_one_line_per_request_without_secrets(
    json_server: JsonServer,
) -> None:
    query = json_server.post(
        {"query": "query OneConnection { connectionInfo(id: 1) { id } }"},
        headers={"X-Request-Id": "log-test-query"},
    )
    assert query.headers["x-request-id"] == "log-test-query"
    write = json_server.post(
        {
            "query": "mutation Annotate($id: Int!, $input: UpdateConnectionInfoInput!) { "
            "updateConnectionInfo(id: $id, input: $input) { userErrors { code } } }",
            "variables": {
                "id": DEMO_ID_BASE + 1,
                "input": {"comments": SECRET_COMMENT, "reference": SECRET_REFERENCE},
            },
        },
        headers={"X-API-Key": json_server.key},
    )
    assert "errors" not in write.json(), write.json()
    masked = json_server.post({"query": "query Counted { connectionInfos { totalCount } }"})
    (error,) = masked.json()["errors"]
    error_id = error["extensions"]["errorId"]

    lines = json_server.lines()
    output = json_server.output
    assert output is not None
    read = _request_line(lines, "log-test-query")
    assert read["level"] == "INFO"
    assert read["operation_name"] == "OneConnection"
    assert read["operation_type"] == "query"
    assert read["transport"] == "http"
    assert (read["method"], read["path"], read["status"]) == ("POST", "/graphql", 200)
    assert read["outcome"] == "ok"
    assert read["client"] == "127.0.0.1"
    assert read["error_codes"] == []
    assert read["error_ids"] == []
    assert isinstance(read["duration_ms"], float)
    assert read["duration_ms"] > 0
    assert read["key_name"] is None

    written = _request_line(lines, write.headers["x-request-id"])
    assert written["operation_type"] == "mutation"
    assert written["key_name"] == "log-writer"
    # Neither the key nor what the variables held is anywhere in the output.
    assert json_server.key not in output
    assert json_server.key.rsplit("_", 1)[1] not in output  # its secret part alone
    assert SECRET_COMMENT not in output
    assert SECRET_REFERENCE not in output

    failed = _request_line(lines, masked.headers["x-request-id"])
    assert failed["level"] == "ERROR"
    assert failed["error_ids"] == [error_id]
    assert failed["error_codes"] == ["INTERNAL_SERVER_ERROR"]
    assert failed["outcome"] == "failed"
    # The masked error's stack trace is logged under the same request id.
    (trace,) = [entry for entry in lines if entry["logger"] == "gql.errors"]
    assert trace["request_id"] == failed["request_id"]
    assert error_id in trace["message"]
    assert "injected fault" in trace["exc_info"]

    # uvicorn's lines are JSON too, and its access line of a /graphql request is ours.
    assert any(entry["logger"].startswith("uvicorn") for entry in lines)
    access = [entry for entry in lines if entry["logger"] == "uvicorn.access"]
    assert all("/graphql" not in entry["message"] for entry in access)
    assert any("/healthz" in entry["message"] for entry in access)


# In process: the formatter, the filter and the text line.


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """What the request logger writes, as JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    handler.addFilter(RequestContext())
    logger = logging.getLogger(REQUEST_LOGGER)
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(previous)


def _parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _record(**values: Any) -> RequestRecord:
    record = RequestRecord(
        request_id="r-1", transport=Transport.HTTP, method="POST", path="/graphql"
    )
    for name, value in values.items():
        setattr(record, name, value)
    return record


def test_a_record_logged_during_a_request_carries_its_ids(captured: io.StringIO) -> None:
    logger = logging.getLogger(REQUEST_LOGGER + ".inner")
    logger.info("before")
    token = records.begin(_record(trace_id="ab" * 16))
    try:
        logger.info("during %s", "work")
    finally:
        records.end(token)
    before, during = _parsed(captured)
    assert "request_id" not in before
    assert "trace_id" not in before
    assert during["request_id"] == "r-1"
    assert during["trace_id"] == "ab" * 16
    assert during["message"] == "during work"
    assert (during["level"], during["logger"]) == ("INFO", REQUEST_LOGGER + ".inner")
    assert during["time"].endswith("+00:00")


def test_the_request_line_has_every_field(captured: io.StringIO) -> None:
    record = _record(
        status=200,
        client="10.0.0.7",
        operation_name="Sites",
        operation_type="query",
        error_codes=["NOT_FOUND"],
        outcome=Outcome.ERRORS,
    )
    log_request(record, 0.0125)
    (line,) = _parsed(captured)
    assert line["level"] == "INFO"
    assert {key: line[key] for key in line if key not in ("time", "message")} == {
        "level": "INFO",
        "logger": REQUEST_LOGGER,
        "request_id": "r-1",
        "trace_id": None,
        "operation_name": "Sites",
        "operation_type": "query",
        "transport": "http",
        "method": "POST",
        "path": "/graphql",
        "status": 200,
        "duration_ms": 12.5,
        "outcome": "errors",
        "error_codes": ["NOT_FOUND"],
        "error_ids": [],
        "client": "10.0.0.7",
        "key_name": None,
    }


@pytest.mark.parametrize(
    ("values", "level", "outcome"),
    [
        ({"status": 200, "error_ids": ["e1"], "outcome": Outcome.FAILED}, "ERROR", "failed"),
        ({"status": 503}, "ERROR", "failed"),
        ({"status": 413}, "INFO", "rejected"),
        ({"status": 101}, "INFO", "ok"),
    ],
)
def test_the_request_line_is_an_error_when_the_server_failed(
    captured: io.StringIO, values: dict[str, Any], level: str, outcome: str
) -> None:
    log_request(_record(**values), 0.001)
    (line,) = _parsed(captured)
    assert (line["level"], line["outcome"]) == (level, outcome)


def test_the_text_line_is_one_line_whatever_the_operation_name() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger = logging.getLogger(REQUEST_LOGGER)
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        log_request(
            _record(
                status=200,
                operation_name="Forged\n2026-01-01 ERROR fake line" + "x" * 500,
                key_name="ci-bot",
                error_ids=["abc"],
                outcome=Outcome.FAILED,
            ),
            0.002,
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    (line,) = stream.getvalue().splitlines()
    assert " ERROR gql.request: POST /graphql 200 failed 2.0ms http - Forged?2026" in line
    assert "key=ci-bot" in line
    assert "error_ids=abc" in line
    assert "request_id=r-1" in line
    assert "x" * 101 not in line  # the name is clipped


def test_uvicorn_access_lines_of_graphql_are_dropped() -> None:
    def access(path: str) -> logging.LogRecord:
        return logging.LogRecord(
            "uvicorn.access",
            logging.INFO,
            __file__,
            1,
            '%s - "%s %s HTTP/%s" %d',
            ("127.0.0.1:5", "GET", path, "1.1", 200),
            None,
        )

    drop = DropGraphqlAccess()
    assert not drop.filter(access("/graphql"))
    assert not drop.filter(access("/graphql?query=%7Bx%7D"))
    assert drop.filter(access("/healthz"))
    assert drop.filter(access("/graphql-other"))


def test_text_stays_the_default(tmp_path: Path) -> None:
    listed = run_cli("settings", "--json", "--db", str(tmp_path / "x.db"))
    by_name = {row["name"]: row for row in json.loads(listed)}
    assert by_name["OCM_GQL_LOG_FORMAT"] == {
        "name": "OCM_GQL_LOG_FORMAT",
        "value": "text",
        "source": "default",
    }


@pytest.mark.e2e
def test_every_worker_process_writes_json_lines(tmp_path: Path) -> None:
    # A spawned worker starts with no logging set up and configures it again, after
    # uvicorn configured its own: its lines, and the parent's warning, are JSON too.
    server = ocm_server(
        "--workers", "2", cwd=tmp_path, env={"OCM_GQL_LOG_FORMAT": "json", "OCM_GQL_DEMO_SIZE": "5"}
    )
    ids = [f"worker-line-{n}" for n in range(6)]
    try:
        for request_id in ids:
            answered = httpx2.post(
                f"{server.url}/graphql",
                json={"query": "{ levels { id } }"},
                headers={"X-Request-Id": request_id},
            )
            assert answered.status_code == 200
    finally:
        output = server.stop()
    lines = _json_lines(output)
    assert sorted(e["request_id"] for e in lines if e["logger"] == REQUEST_LOGGER) == ids
    (warning,) = [e for e in lines if e["logger"] == "gql.cli"]
    assert warning["level"] == "WARNING"
    assert "OCM_GQL_REDIS_URL" in warning["message"]
    started = [e for e in lines if e["message"].startswith("Started server process")]
    assert len(started) == 2


def test_each_websocket_operation_has_its_line_under_the_connections_request_id(
    demo_db: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=REQUEST_LOGGER)
    few = "query Few { connectionInfos(first: 1) { nodes { id } } }"
    with (
        TestClient(create_app(Settings(database_url=demo_db))) as client,
        _socket(client, {"x-request-id": "ws-7"}) as ws,
    ):
        ws.init()
        assert ws.run("1", {"query": few})
    lines = [r for r in caplog.records if r.name == REQUEST_LOGGER]
    operation, connection = lines
    assert operation.__dict__["request_id"] == connection.__dict__["request_id"] == "ws-7"
    assert (operation.__dict__["method"], operation.__dict__["operation_name"]) == (
        "SUBSCRIBE",
        "Few",
    )
    assert operation.__dict__["outcome"] == "ok"
    assert connection.__dict__["status"] == 101
