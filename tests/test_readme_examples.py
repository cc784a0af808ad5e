"""The README's examples, run against what its first command creates: `ocm-gql serve` in
an empty folder, which makes the default `ocm-gql.db` (reference lists and 1,000 demo
connections). Every fenced ```graphql block and every `curl` command to localhost:8000
must answer HTTP 200 with data and no errors, and show something: every top-level field
non-null, lists non-empty and mutation payloads free of userErrors; a status mutation
must change the status (a no-op writes nothing). So an example that answers `null` (an id
the database does not hold), an empty page or nothing new fails here. The subscription
example is run over Server-Sent Events, its event made to happen by status changes.

Federation-only blocks (the other team's subgraph SDL, and the gateway query that selects
its `lastInspection`) need the second subgraph and a gateway: they are recognised and
skipped here; tests/test_federation_e2e.py runs them.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from tests.conftest import REPO_ROOT, run_cli
from tests.processes import Process, ocm_server

pytestmark = pytest.mark.e2e

README = REPO_ROOT / "README.md"
README_HOST = "localhost:8000"
# Marks of the examples that only a gateway over both subgraphs can answer.
FEDERATION_ONLY = ("extend schema", "lastInspection")


@dataclass(frozen=True)
class Example:
    line: int
    kind: str  # "graphql" or "curl"
    text: str

    @property
    def id(self) -> str:
        return f"{self.kind}@README.md:{self.line}"


def fenced_blocks(markdown: str) -> Iterator[tuple[int, str, str]]:
    """(line of the opening fence, info string, body) of every fenced block."""
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        opening = re.match(r"^```(\S*)\s*$", lines[index])
        if opening is None:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not lines[end].startswith("```"):
            end += 1
        yield index + 1, opening.group(1), "\n".join(lines[index + 1 : end])
        index = end + 1


def curl_commands(body: str) -> Iterator[tuple[int, str]]:
    """(offset of its first line, command) of each curl command of a shell block, its
    backslash continuations joined."""
    lines = body.splitlines()
    index = 0
    while index < len(lines):
        start = index
        command = lines[index]
        while command.endswith("\\") and index + 1 < len(lines):
            index += 1
            command = command[:-1] + lines[index]
        index += 1
        if command.lstrip().startswith("curl ") and README_HOST in command:
            yield start, command.strip()


def readme_examples() -> list[Example]:
    examples = []
    for line, info, body in fenced_blocks(README.read_text()):
        if info == "graphql":
            examples.append(Example(line, "graphql", body))
        elif info == "sh":
            for offset, command in curl_commands(body):
                examples.append(Example(line + 1 + offset, "curl", command))
    return examples


EXAMPLES = readme_examples()


def test_the_readme_has_examples_of_each_kind() -> None:
    """Guards the parser: a changed fence or prompt must not make every example vanish."""
    kinds = [example.kind for example in EXAMPLES]
    assert kinds.count("graphql") >= 4
    assert kinds.count("curl") >= 2
    assert any(example.text.lstrip().startswith("mutation") for example in EXAMPLES)
    assert any(example.text.lstrip().startswith("subscription") for example in EXAMPLES)


@dataclass(frozen=True)
class Served:
    server: Process
    key: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The README's first command: `ocm-gql serve` in an empty folder, no --db."""
    folder = tmp_path_factory.mktemp("readme")
    server = ocm_server(cwd=folder)
    try:
        db = folder / "ocm-gql.db"
        assert db.is_file(), "serve did not create its default database"
        [key] = run_cli("keys", "create", "--db", str(db), "--name", "readme").split()
        yield Served(server, key)
    finally:
        server.stop()


def check_shows_something(data: Any, context: str) -> None:
    """Every top-level field answered, lists non-empty; a mutation payload has no
    userErrors and every other field of it set; a Relay connection has rows."""
    assert isinstance(data, dict), f"{context}: no data: {data}"
    assert data, f"{context}: empty data"
    for name, value in data.items():
        assert value not in (None, [], {}), f"{context}: {name} is {value!r}"
        if not isinstance(value, dict):
            continue
        for field, inner in value.items():
            if field == "userErrors":
                assert inner == [], f"{context}: {name}.userErrors: {inner}"
            else:
                assert inner not in (None, []), f"{context}: {name}.{field} is {inner!r}"
        if "previousStatusTypeId" in value:  # a status change, made or heard
            now = value.get("statusTypeId", value["connectionInfo"].get("statusTypeId"))
            assert now is not None, f"{context}: select connectionInfo.statusTypeId"
            assert now != value["previousStatusTypeId"], f"{context}: the status did not change"


def post(served: Served, query: str) -> dict[str, Any]:
    response = httpx2.post(
        f"{served.server.url}/graphql",
        json={"query": query},
        headers={"x-api-key": served.key},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def run_curl(served: Served, command: str) -> dict[str, Any]:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: the README's curl examples need it")
    target = served.server.url.removeprefix("http://")
    arguments = [argument.replace(README_HOST, target) for argument in shlex.split(command)]
    assert arguments[0] == "curl"
    finished = subprocess.run(
        [*arguments, "--max-time", "30", "--write-out", "\n%{http_code}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    body, _, status = finished.stdout.rpartition("\n")
    assert status == "200", finished.stdout
    answer: dict[str, Any] = json.loads(body)
    return answer


def status_of(served: Served, connection_id: int) -> int:
    answer = post(served, f"{{ connectionInfo(id: {connection_id}) {{ statusTypeId }} }}")
    status: int = answer["data"]["connectionInfo"]["statusTypeId"]
    return status


def listen(served: Served, subscription: str) -> dict[str, Any]:
    """The first event of a subscription over Server-Sent Events, made to happen by
    toggling the watched connection's status until one arrives."""
    [watched] = [int(found) for found in re.findall(r"ids:\s*\[(\d+)\]", subscription)]
    events: list[dict[str, Any]] = []
    opened = threading.Event()

    def read() -> None:
        with httpx2.stream(
            "POST",
            f"{served.server.url}/graphql",
            json={"query": subscription},
            headers={"accept": "text/event-stream"},
            timeout=30,
        ) as response:
            assert response.status_code == 200, response.read()
            opened.set()
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line.removeprefix("data: ")))
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(30), "the event stream did not open"
    original = status_of(served, watched)
    toggled = 75 if original != 75 else 50
    deadline = time.monotonic() + 30  # a failure guard only
    # The stream counts from the moment the server subscribed it: change until heard.
    while not events and time.monotonic() < deadline:
        for status in (toggled, original):
            post(
                served,
                f"mutation {{ setConnectionStatus(id: {watched}, statusTypeId: {status}) "
                "{ userErrors { code } } }",
            )
        reader.join(0.2)
    reader.join(5)
    assert events, "no event arrived"
    return events[0]


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.id for example in EXAMPLES])
def test_a_readme_example_answers_with_data(served: Served, example: Example) -> None:
    if example.kind == "curl":
        answer = run_curl(served, example.text)
    elif any(mark in example.text for mark in FEDERATION_ONLY):
        pytest.skip(
            "federation only: needs the inspections subgraph and a gateway "
            "(tests/test_federation_e2e.py runs it)"
        )
    elif example.text.lstrip().startswith("subscription"):
        answer = listen(served, example.text)
    else:
        answer = post(served, example.text)
    assert "errors" not in answer, f"{example.id}: {answer['errors']}"
    check_shows_something(answer.get("data"), example.id)
