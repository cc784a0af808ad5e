"""Writes under real processes, on each backend: a process killed in the middle of a
write's transaction leaves nothing of it, a server killed under load keeps every
acknowledged write, and many concurrent writers and readers on one database (SQLite: one
file) never see `database is locked`, never lose an update and never read a half-written
row.

OCM_GQL_STRESS_SECONDS sets how long the stress test runs (default 10)."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import subprocess
import sys
import textwrap
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest

from tests.conftest import REPO_ROOT, run_cli
from tests.databases import execute_raw, fetch_dicts, fetch_raw
from tests.processes import Process, ocm_server

pytestmark = pytest.mark.e2e

SITE = 1_000_000_001
SHARED = 1_000_000_001  # a demo connection every writer hammers
STATUSES = (0, 10, 30, 50, 75, 150)
STRESS_SECONDS = float(os.environ.get("OCM_GQL_STRESS_SECONDS", "10"))
QUIET = {"OCM_GQL_LOG_LEVEL": "warning"}  # the server's output pipe is read only at stop


def _seed(db: str) -> None:
    run_cli("seed", "--database-url", db, "--demo", "40", "--seed", "1")


def _key(db: str, name: str) -> str:
    [key] = run_cli("keys", "create", "--database-url", db, "--name", name).splitlines()
    return key


def _rows(db: str) -> dict[int, dict[str, Any]]:
    return {row["id"]: row for row in fetch_dicts(db, "SELECT * FROM connection_info")}


def _whole_shared_row(db: str) -> None:
    """The shared row starts whole: amps == quantity."""
    execute_raw(db, f"UPDATE connection_info SET amps = 0, quantity = 0 WHERE id = {SHARED}")


@dataclass(frozen=True)
class Entry:
    id: int
    connection_id: int
    action: str
    actor: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _log(db: str) -> list[Entry]:
    rows = fetch_raw(
        db,
        "SELECT id, connection_id, action, actor, before, after FROM connection_change ORDER BY id",
    )
    return [
        Entry(
            id=row[0],
            connection_id=row[1],
            action=row[2],
            actor=row[3],
            before=None if row[4] is None else orjson.loads(row[4]),
            after=None if row[5] is None else orjson.loads(row[5]),
        )
        for row in rows
    ]


def _integrity(db: str) -> str:
    """The backend's own check of its storage: "ok", or what it found."""
    if db.startswith("sqlite:///"):
        [(verdict,)] = fetch_raw(db, "PRAGMA integrity_check")
        return str(verdict)
    # amcheck: every table's pages, and every index against its table (an error if not).
    execute_raw(db, "CREATE EXTENSION IF NOT EXISTS amcheck")
    public = "c.relnamespace = 'public'::regnamespace"
    fetch_raw(
        db,
        f"SELECT bt_index_check(c.oid, true) FROM pg_class c JOIN pg_am a ON a.oid = c.relam"
        f" WHERE {public} AND c.relkind = 'i' AND a.amname = 'btree'",
    )
    problems = fetch_raw(
        db,
        "SELECT c.relname, v.msg FROM pg_class c, verify_heapam(c.oid) v"
        f" WHERE {public} AND c.relkind = 'r'",
    )
    return "ok" if not problems else str(problems)


def _visible(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored row as the change log snapshots it (without the storage-only columns)."""
    if row is None:
        return None
    hidden = {"power_kw_source", "power_sort_asc", "power_sort_desc"}
    return {k: v for k, v in row.items() if k not in hidden}


def _check_chains(entries: list[Entry], rows: dict[int, dict[str, Any]]) -> None:
    """Per connection, oldest first: every entry starts from where the previous one ended
    (no write was applied to a stale row), and the stored row is where the last one ended."""
    by_connection: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_connection[entry.connection_id].append(entry)
    for connection_id, chain in by_connection.items():
        for previous, entry in itertools.pairwise(chain):
            assert entry.before == previous.after, (connection_id, previous.id, entry.id)
        assert _visible(rows.get(connection_id)) == chain[-1].after, connection_id


# -- a process killed in the middle of a write ------------------------------------------

CRASHER = textwrap.dedent(
    """
    import asyncio, os, sys
    from gql.repository.factory import open_repository
    from gql.settings import Settings
    from tests.transactions import traced

    async def main(db: str, action: str, crash_at: str, connection_id: int) -> None:
        repository = await open_repository(Settings(database_url=db))

        def listener(sql: str) -> None:
            print(sql.split(" (")[0][:60], file=sys.stderr, flush=True)
            if sql.startswith(crash_at):
                os._exit(137)

        with traced(repository, listener):
            await write(repository, action, connection_id)
            await repository.ping()  # the first statement after COMMIT
        print("not crashed", file=sys.stderr, flush=True)

    async def write(repository, action: str, connection_id: int) -> None:
        if action == "create":
            await repository.create_connection(
                {"charge_point_id": 1000000001, "amps": 99, "quantity": 99}, actor="crasher"
            )
        elif action == "update":
            await repository.update_connection(
                connection_id, {"amps": 99, "quantity": 99}, actor="crasher"
            )
        elif action == "set_status":
            from gql.repository.models import ChangeAction
            await repository.update_connection(
                connection_id, {"status_type_id": 150}, actor="crasher",
                action=ChangeAction.SET_STATUS,
            )
        else:
            await repository.delete_connection(connection_id, actor="crasher")

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
    """
)

FIRST_STATEMENT = {
    "create": "INSERT INTO connection_info",
    "update": "UPDATE connection_info",
    "set_status": "UPDATE connection_info",
    "delete": "DELETE FROM connection_info",
}


def _crash(db: str, action: str, crash_at: str, connection_id: int) -> str:
    result = subprocess.run(
        [sys.executable, "-c", CRASHER, db, action, crash_at, str(connection_id)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 137, result.stderr
    assert "not crashed" not in result.stderr
    return result.stderr


@pytest.mark.parametrize("action", sorted(FIRST_STATEMENT))
@pytest.mark.parametrize("crash_at", ["INSERT INTO connection_change", "COMMIT"])
def test_a_crash_inside_the_transaction_leaves_nothing(
    database_url: str, action: str, crash_at: str
) -> None:
    db = database_url
    _seed(db)
    connection_id = SHARED
    rows_before, log_before = _rows(db), _log(db)
    trace = _crash(db, action, crash_at, connection_id)
    # The write's first statement really ran before the process died.
    lines = trace.splitlines()
    assert lines[0].startswith("BEGIN"), trace
    assert any(line.startswith(FIRST_STATEMENT[action]) for line in lines), trace
    assert lines[-1].startswith(crash_at), trace
    assert _integrity(db) == "ok"
    assert _rows(db) == rows_before
    assert _log(db) == log_before
    # The database is usable at once: no lock or half transaction is left.
    run_cli("keys", "create", "--database-url", db, "--name", "after-crash")


@pytest.mark.parametrize("action", sorted(FIRST_STATEMENT))
def test_a_crash_right_after_commit_keeps_all_of_it(database_url: str, action: str) -> None:
    db = database_url
    _seed(db)
    rows_before = _rows(db)
    trace = _crash(db, action, "SELECT 1", SHARED)
    assert "COMMIT" in trace.splitlines()
    assert _integrity(db) == "ok"
    rows, [entry] = _rows(db), _log(db)
    assert entry.actor == "crasher"
    assert entry.action == action.upper()
    if action == "create":
        assert entry.before is None
        assert entry.after is not None
        assert rows[entry.connection_id]["amps"] == 99
    elif action == "delete":
        assert entry.before == _visible(rows_before[SHARED])
        assert SHARED not in rows
    else:
        assert entry.before == _visible(rows_before[SHARED])
        assert entry.after == _visible(rows[SHARED])
    _check_chains([entry], rows)


# -- a server killed under load ---------------------------------------------------------


@dataclass
class Ack:
    """One acknowledged write: the server answered it with no error."""

    writer: str
    connection_id: int
    action: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Tally:
    acks: list[Ack] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    reads: int = 0
    read_failures: list[str] = field(default_factory=list)
    half_written: list[Any] = field(default_factory=list)
    server_errors: int = 0
    locked: int = 0
    created: list[int] = field(default_factory=list)


UPDATE = """mutation($id: Int!, $input: UpdateConnectionInfoInput!) {
  updateConnectionInfo(id: $id, input: $input) {
    connectionInfo { id amps quantity } userErrors { code message } } }"""
CREATE = """mutation($input: CreateConnectionInfoInput!) {
  createConnectionInfo(input: $input) { connectionInfo { id } userErrors { code message } } }"""
STATUS = """mutation($id: Int!, $status: Int!) {
  setConnectionStatus(id: $id, statusTypeId: $status) {
    connectionInfo { id } previousStatusTypeId userErrors { code message } } }"""
DELETE = """mutation($id: Int!) {
  deleteConnectionInfo(id: $id) { deletedId userErrors { code message } } }"""


async def _post(
    client: httpx2.AsyncClient, tally: Tally, query: str, variables: dict[str, Any]
) -> dict[str, Any] | None:
    """The mutation's payload when the write was acknowledged, else None (and counted)."""
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    if "locked" in response.text:
        tally.locked += 1
    if response.status_code >= 500:
        tally.server_errors += 1
    body = response.json() if response.status_code == 200 else {}
    data = body.get("data") or {}
    if body.get("errors") or len(data) != 1:
        tally.refused.append(response.text[:300])
        return None
    [payload] = data.values()
    if payload["userErrors"]:
        tally.refused.append(str(payload["userErrors"]))
        return None
    result: dict[str, Any] = payload
    return result


class WriterTask:
    """One client writing sequentially: its writes reach the log in the order it sent them."""

    def __init__(self, name: str, key: str, url: str, tally: Tally, seed: int) -> None:
        self.name = name
        self.tally = tally
        self.rng = random.Random(seed)
        self.sequence = 0
        self.own: list[int] = []
        self.client = httpx2.AsyncClient(base_url=url, headers={"X-API-Key": key}, timeout=60)

    def token(self) -> str:
        self.sequence += 1
        return f"{self.name}-{self.sequence}"

    async def create(self) -> None:
        values = {"chargePointId": SITE, "amps": 0, "quantity": 0, "comments": self.token()}
        payload = await _post(self.client, self.tally, CREATE, {"input": values})
        if payload is not None:
            connection_id = payload["connectionInfo"]["id"]
            self.own.append(connection_id)
            self.tally.created.append(connection_id)
            self.tally.acks.append(Ack(self.name, connection_id, "CREATE", _snake(values)))

    async def update(self, connection_id: int, values: dict[str, Any]) -> None:
        payload = await _post(
            self.client, self.tally, UPDATE, {"id": connection_id, "input": values}
        )
        if payload is not None:
            self.tally.acks.append(Ack(self.name, connection_id, "UPDATE", _snake(values)))

    async def set_status(self, connection_id: int, status: int) -> None:
        variables = {"id": connection_id, "status": status}
        payload = await _post(self.client, self.tally, STATUS, variables)
        # The status it already had is no change: nothing is logged, so nothing to match.
        if payload is not None and payload["previousStatusTypeId"] != status:
            self.tally.acks.append(
                Ack(self.name, connection_id, "SET_STATUS", {"status_type_id": status})
            )

    async def delete(self, connection_id: int) -> None:
        if await _post(self.client, self.tally, DELETE, {"id": connection_id}) is not None:
            self.tally.acks.append(Ack(self.name, connection_id, "DELETE"))

    async def step(self) -> None:
        n = self.rng.randint(0, 500)
        pick = self.rng.random()
        if pick < 0.4:
            await self.update(SHARED, {"amps": n, "quantity": n, "comments": self.token()})
        elif pick < 0.55:
            await self.update(SHARED, {"reference": self.token()})
        elif pick < 0.85:
            target = self.rng.choice(self.own)
            await self.update(target, {"amps": n, "quantity": n, "comments": self.token()})
        else:
            await self.set_status(self.rng.choice(self.own), self.rng.choice(STATUSES))


class ReaderTask:
    def __init__(self, url: str, tally: Tally, seed: int) -> None:
        self.tally = tally
        self.rng = random.Random(seed)
        self.client = httpx2.AsyncClient(base_url=url, timeout=60)

    async def step(self) -> None:
        ids = [SHARED, *self.tally.created]
        pick = self.rng.random()
        if pick < 0.5:
            query = (
                "query($ids: [Int!]) { connectionInfos(first: 1000, filter: {ids: $ids}) "
                "{ nodes { id amps quantity } } }"
            )
            variables: dict[str, Any] = {"ids": ids}
        elif pick < 0.8:
            query = "query($id: Int!) { connectionInfo(id: $id) { id amps quantity } }"
            variables = {"id": self.rng.choice(ids)}
        else:
            query = (
                "query($id: Int!) { connectionInfoHistory(id: $id, first: 5) "
                "{ nodes { after { amps quantity } } } }"
            )
            variables = {"id": SHARED}
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        if "locked" in response.text:
            self.tally.locked += 1
        if response.status_code >= 500:
            self.tally.server_errors += 1
        body = response.json() if response.status_code == 200 else {}
        if body.get("errors") or "data" not in body:
            self.tally.read_failures.append(response.text[:300])
            return
        self.tally.reads += 1
        for row in _rows_in(body["data"]):
            if row["amps"] != row["quantity"]:
                self.tally.half_written.append(row)


def _rows_in(data: Any) -> Iterator[dict[str, Any]]:
    """Every object in an answer that carries both amps and quantity."""
    if isinstance(data, dict):
        if "amps" in data and "quantity" in data:
            yield data
        for value in data.values():
            yield from _rows_in(value)
    elif isinstance(data, list):
        for value in data:
            yield from _rows_in(value)


def _snake(values: dict[str, Any]) -> dict[str, Any]:
    names = {
        "chargePointId": "charge_point_id",
        "amps": "amps",
        "quantity": "quantity",
        "comments": "comments",
        "reference": "reference",
    }
    return {names[k]: v for k, v in values.items()}


def _entry_matches(entry: Entry, ack: Ack) -> bool:
    if entry.action != ack.action or entry.actor != ack.writer:
        return False
    if entry.connection_id != ack.connection_id:
        return False
    if ack.action == "DELETE":
        return entry.after is None
    assert entry.after is not None
    return all(entry.after[name] == value for name, value in ack.values.items())


def _match_acks_to_log(acks: list[Ack], entries: list[Entry]) -> list[tuple[Entry, Ack]]:
    """Pairs each writer's acknowledged writes with its log entries, in order; every entry
    must be an acknowledged write and every acknowledged write must have its entry."""
    by_writer: dict[str, list[Ack]] = defaultdict(list)
    for ack in acks:
        by_writer[ack.writer].append(ack)
    logged: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        logged[entry.actor].append(entry)
    assert set(logged) <= set(by_writer)
    pairs: list[tuple[Entry, Ack]] = []
    for writer, own_acks in by_writer.items():
        own_entries = logged[writer]
        assert len(own_entries) == len(own_acks), writer
        for entry, ack in zip(own_entries, own_acks, strict=True):
            assert _entry_matches(entry, ack), (entry, ack)
            pairs.append((entry, ack))
    return sorted(pairs, key=lambda pair: pair[0].id)


async def _run_load(
    urls: list[str], keys: dict[str, str], readers: int, seconds: float, tally: Tally
) -> tuple[list[WriterTask], float]:
    """Writers and readers spread over the servers at ``urls``, for ``seconds``."""
    writers = [
        WriterTask(name, key, urls[seed % len(urls)], tally, seed)
        for seed, (name, key) in enumerate(keys.items())
    ]
    reader_tasks = [ReaderTask(urls[i % len(urls)], tally, 100 + i) for i in range(readers)]
    for writer in writers:
        for _ in range(3):
            await writer.create()
    started = time.monotonic()
    deadline = started + seconds

    async def write_loop(writer: WriterTask) -> None:
        while time.monotonic() < deadline:
            await writer.step()
        await writer.delete(writer.own[0])

    async def read_loop(reader: ReaderTask) -> None:
        while time.monotonic() < deadline:
            await reader.step()

    try:
        await asyncio.gather(
            *(write_loop(w) for w in writers), *(read_loop(r) for r in reader_tasks)
        )
    finally:
        for client in [*(w.client for w in writers), *(r.client for r in reader_tasks)]:
            await client.aclose()
    return writers, time.monotonic() - started


def _stress(db: str, folder: Path, servers: int, seconds: float) -> None:
    """8 writers and 8 readers against ``servers`` server processes on one database;
    then the database must hold exactly the acknowledged writes."""
    _seed(db)
    keys = {f"writer{i}": _key(db, f"writer{i}") for i in range(8)}
    _whole_shared_row(db)
    rows_before = _rows(db)
    tally = Tally()
    running: list[Process] = []
    try:
        for _ in range(servers):
            running.append(ocm_server("--database-url", db, cwd=folder, env=QUIET))
        urls = [server.url for server in running]
        writers, elapsed = asyncio.run(_run_load(urls, keys, 8, seconds, tally))
    finally:
        output = "".join(server.stop() for server in running)
    writes, reads = len(tally.acks), tally.reads
    print(
        f"\nstress, {servers} server process(es): {len(writers)} writers, 8 readers, "
        f"{elapsed:.1f} s: {writes} writes ({writes / elapsed:.0f}/s), "
        f"{reads} reads ({reads / elapsed:.0f}/s)"
    )
    assert tally.server_errors == 0, output[-2000:]
    assert tally.locked == 0
    assert tally.refused == []
    assert tally.read_failures == []
    assert tally.half_written == []
    assert "locked" not in output
    assert "Traceback" not in output
    assert writes > len(writers) * 5  # 3 creates and a delete each, and more
    assert reads > 0
    assert_holds_exactly_the_acks(db, tally, writers, rows_before)


def assert_holds_exactly_the_acks(
    db: str, tally: Tally, writers: list[WriterTask], rows_before: dict[int, dict[str, Any]]
) -> None:
    """The database after `_run_load`: one log entry per acknowledged write, in each
    writer's order, no lost update, and every row as replaying the writes makes it."""
    writes = len(tally.acks)
    entries, rows = _log(db), _rows(db)
    assert _integrity(db) == "ok"
    # Exactly one log entry per acknowledged write, matched writer by writer, in order.
    assert len(entries) == writes
    pairs = _match_acks_to_log(tally.acks, entries)
    # No lost update: each entry starts from the previous one's end, and the rows are
    # where the log ends.
    _check_chains(entries, rows)
    # Replaying the acknowledged writes in log order gives every final row.
    expected: dict[int, dict[str, Any] | None] = {SHARED: dict(rows_before[SHARED])}
    for _entry, ack in pairs:
        if ack.action == "DELETE":
            expected[ack.connection_id] = None
        elif ack.action == "CREATE":
            expected[ack.connection_id] = dict(ack.values)
        else:
            current = expected[ack.connection_id]
            assert current is not None
            current.update(ack.values)
    assert len(expected) == 1 + 3 * len(writers)
    for connection_id, values in expected.items():
        row = rows.get(connection_id)
        if values is None:
            assert row is None, connection_id
            continue
        assert row is not None, connection_id
        assert row["amps"] == row["quantity"]
        for name in ("amps", "quantity", "comments", "reference", "status_type_id"):
            if name in values:
                assert row[name] == values[name], (connection_id, name)
    assert any(ack.connection_id == SHARED for ack in tally.acks)


@pytest.mark.timeout(120)
def test_many_writers_and_readers_on_one_database(database_url: str, tmp_path: Path) -> None:
    _stress(database_url, tmp_path, servers=1, seconds=STRESS_SECONDS)


@pytest.mark.timeout(120)
def test_two_server_processes_writing_one_database(database_url: str, tmp_path: Path) -> None:
    """Across processes only the database orders the writers (SQLite: BEGIN IMMEDIATE
    and the busy timeout; PostgreSQL: row locks): still no `database is locked`, and
    nothing lost."""
    _stress(database_url, tmp_path, servers=2, seconds=max(1.0, STRESS_SECONDS / 3))


@pytest.mark.timeout(120)
def test_a_server_killed_under_load_keeps_every_acknowledged_write(
    database_url: str, tmp_path: Path
) -> None:
    db = database_url
    _seed(db)
    keys = {f"writer{i}": _key(db, f"writer{i}") for i in range(4)}
    _whole_shared_row(db)
    server = ocm_server("--database-url", db, cwd=tmp_path, env=QUIET)
    tally = Tally()
    in_flight: list[str] = []

    async def load() -> None:
        writers = [
            WriterTask(name, key, server.url, tally, seed)
            for seed, (name, key) in enumerate(keys.items())
        ]
        for writer in writers:
            await writer.create()

        async def write_loop(writer: WriterTask) -> None:
            try:
                while True:
                    await writer.step()
            except httpx2.TransportError:
                in_flight.append(writer.name)  # its last write may or may not be in

        async def kill_soon() -> None:
            await asyncio.sleep(1.5)
            server.process.kill()  # SIGKILL: no shutdown, no rollback by the server

        try:
            await asyncio.gather(*(write_loop(w) for w in writers), kill_soon())
        finally:
            for writer in writers:
                await writer.client.aclose()

    try:
        asyncio.run(load())
    finally:
        server.stop()
    assert server.process.returncode == -9
    assert sorted(in_flight) == sorted(keys)
    assert tally.refused == []
    assert len(tally.acks) > 20
    assert _integrity(db) == "ok"
    entries, rows = _log(db), _rows(db)
    _check_chains(entries, rows)
    # Every acknowledged write is in the log, in order; at most one more per writer (the
    # one in flight when the server died) may have committed too.
    by_writer: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_writer[entry.actor].append(entry)
    for writer in keys:
        acks = [ack for ack in tally.acks if ack.writer == writer]
        logged = by_writer[writer]
        assert len(acks) <= len(logged) <= len(acks) + 1, writer
        for entry, ack in zip(logged, acks, strict=False):
            assert _entry_matches(entry, ack), (entry, ack)
    # The database serves again at once.
    again = ocm_server("--database-url", db, cwd=tmp_path, env=QUIET)
    try:
        answer = httpx2.post(
            f"{again.url}/graphql",
            json={
                "query": UPDATE,
                "variables": {"id": SHARED, "input": {"amps": 7, "quantity": 7}},
            },
            headers={"Authorization": f"Bearer {keys['writer0']}"},
            timeout=30,
        ).json()
        assert answer["data"]["updateConnectionInfo"]["connectionInfo"]["amps"] == 7
    finally:
        again.stop()
    _check_chains(_log(db), _rows(db))


# -- keys managed while the server runs -------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
    return subprocess.run(
        [sys.executable, "-m", "gql", *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_keys_made_and_revoked_by_the_cli_take_effect_in_a_running_server(
    database_url: str, tmp_path: Path
) -> None:
    """The server checks every request's key against the database: a key made by another
    process works at once, and a revoked one stops working at once."""
    db = database_url
    _seed(db)
    server = ocm_server("--database-url", db, cwd=tmp_path, env=QUIET)
    try:
        made = _cli("keys", "create", "--database-url", db, "--name", "live")
        assert made.returncode == 0, made.stderr
        key = made.stdout.strip()

        def set_amps(n: int) -> dict[str, Any]:
            body: dict[str, Any] = httpx2.post(
                f"{server.url}/graphql",
                json={"query": UPDATE, "variables": {"id": SHARED, "input": {"amps": n}}},
                headers={"X-API-Key": key},
                timeout=30,
            ).json()
            return body

        assert set_amps(1)["data"]["updateConnectionInfo"]["connectionInfo"]["amps"] == 1
        revoked = _cli("keys", "revoke", "--database-url", db, "live")
        assert revoked.returncode == 0, revoked.stderr
        refused = set_amps(2)
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert _rows(db)[SHARED]["amps"] == 1
        assert [entry.actor for entry in _log(db)] == ["live"]
    finally:
        output = server.stop()
    assert "locked" not in output
