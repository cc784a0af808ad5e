"""Writes are transactions (gql/writes.py over the repository, on each backend): a failure
between two statements of a write leaves nothing, a cancelled caller cannot cut a write
short, concurrent writers lose no update, and readers never see half a write. The tests
that inject a failure inside SQLite's own statements (a trigger, its change-log helper,
its writer connection) are `sqlite_only`."""

from __future__ import annotations

import asyncio
import itertools
import random
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from gql.broadcast import InProcessBroadcaster
from gql.domain.keys import Writer
from gql.domain.validation import ProblemCode
from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import ChangeAction, ConnectionChange
from gql.repository.sqlite import SqliteRepository
from gql.repository.sqlite import repository as sqlite_module
from gql.repository.url import DatabaseUrl
from gql.settings import Settings
from gql.writes import ConnectionWrites
from tests.conftest import run_cli, sqlite_only
from tests.databases import copy_database, fetch_raw, throwaway_database

SITE = 1_000_000_001
ALICE = Writer("alice", read_only=False)


@pytest.fixture(scope="module")
def template_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(backend, tmp_path_factory.mktemp("tx")) as db:
        run_cli("seed", "--database-url", db, "--demo", "20", "--seed", "1")
        yield db


class Setup:
    def __init__(self, repository: Repository, db: str) -> None:
        self.repository = repository
        self.db = db
        self.references = ReferenceCache(repository)
        self.broadcaster = InProcessBroadcaster()
        self.writes = ConnectionWrites(repository, self.references, self.broadcaster)

    def stored(self) -> tuple[list[Any], list[Any]]:
        return (
            fetch_raw(self.db, "SELECT * FROM connection_info ORDER BY id"),
            fetch_raw(self.db, "SELECT * FROM connection_change ORDER BY id"),
        )

    def raw(self, sql: str) -> None:
        with sqlite3.connect(DatabaseUrl.parse(self.db).path) as raw:
            raw.executescript(sql)

    async def create(self, **values: Any) -> int:
        result = await self.writes.create(ALICE, {"charge_point_id": SITE, **values})
        assert result.change is not None, result.problems
        return result.change.connection_id

    def writer_idle(self) -> bool:
        """SQLite's one writer connection is out of any transaction (PostgreSQL's pool
        takes its connections back itself: always true there)."""
        if not isinstance(self.repository, SqliteRepository):
            return True
        writer = self.repository._writer
        return writer is not None and not writer.in_transaction


@pytest.fixture
async def setup(template_db: str, database_url: str) -> AsyncIterator[Setup]:
    await copy_database(template_db, database_url)
    repository = await open_repository(Settings(database_url=database_url))
    yield Setup(repository, database_url)
    await repository.close()


# -- a failing statement inside a write -------------------------------------------------

FAIL_LOG_TRIGGER = """
CREATE TRIGGER fail_log BEFORE INSERT ON connection_change WHEN NEW.actor = 'mallory'
BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
"""
MALLORY = Writer("mallory", read_only=False)


@sqlite_only
async def test_a_failing_log_insert_undoes_the_update(setup: Setup) -> None:
    """The UPDATE runs, then the change-log INSERT fails: the UPDATE is rolled back."""
    connection_id = await setup.create(amps=10, quantity=10)
    setup.raw(FAIL_LOG_TRIGGER)
    statements: list[str] = []
    setup.repository.add_statement_listener(statements.append)
    before = setup.stored()
    result = await setup.writes.update(MALLORY, connection_id, {"amps": 20, "quantity": 20})
    assert result.change is None
    assert [p.code for p in result.problems] == [ProblemCode.CONFLICT]
    assert any(s.startswith("UPDATE connection_info") for s in statements)
    assert any(s.startswith("INSERT INTO connection_change") for s in statements)
    assert "ROLLBACK" in statements
    assert setup.stored() == before
    assert setup.writer_idle()
    # The writer is usable right after.
    assert (await setup.writes.update(ALICE, connection_id, {"amps": 30})).change is not None


@sqlite_only
async def test_a_failing_log_insert_undoes_the_create_and_the_delete(setup: Setup) -> None:
    connection_id = await setup.create(amps=10)
    setup.raw(FAIL_LOG_TRIGGER)
    before = setup.stored()
    created = await setup.writes.create(MALLORY, {"charge_point_id": SITE, "amps": 1})
    deleted = await setup.writes.delete(MALLORY, connection_id)
    status = await setup.writes.set_status(MALLORY, connection_id, 150)
    for result in (created, deleted, status):
        assert result.change is None
        assert [p.code for p in result.problems] == [ProblemCode.CONFLICT]
    assert setup.stored() == before
    assert setup.writer_idle()


class Injected(Exception):
    pass


@sqlite_only
@pytest.mark.parametrize("when", ["before the log insert", "after the log insert"])
async def test_an_exception_between_statements_leaves_nothing(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """Any error inside the write's transaction, not only SQL ones, rolls all of it back."""
    connection_id = await setup.create(amps=10, quantity=10)
    original = sqlite_module._log_change

    async def failing(*args: Any) -> ConnectionChange:
        if when == "after the log insert":
            await original(*args)
        raise Injected(when)

    monkeypatch.setattr(sqlite_module, "_log_change", failing)
    before = setup.stored()
    for write in (
        setup.writes.update(ALICE, connection_id, {"amps": 20, "quantity": 20}),
        setup.writes.create(ALICE, {"charge_point_id": SITE}),
        setup.writes.delete(ALICE, connection_id),
    ):
        with pytest.raises(Injected):
            await write
        assert setup.stored() == before
        assert setup.writer_idle()
    monkeypatch.undo()
    assert (await setup.writes.update(ALICE, connection_id, {"amps": 1})).change is not None


@sqlite_only
async def test_an_unexpected_failure_over_graphql_is_masked_and_writes_nothing(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gql.domain.keys import create_key

    key = await create_key(setup.repository, "alice", read_only=False)
    connection_id = await setup.create(amps=10)

    async def failing(*_args: Any) -> ConnectionChange:
        raise Injected("secret detail")

    monkeypatch.setattr(sqlite_module, "_log_change", failing)
    before = setup.stored()
    context = Context.for_request(
        Settings(database_url=setup.db),
        setup.repository,
        setup.references,
        broadcaster=setup.broadcaster,
        writes=setup.writes,
        credential=key,
    )
    result = await schema.execute(
        "mutation($id: Int!) { updateConnectionInfo(id: $id, input: {amps: 99}) "
        "{ connectionInfo { amps } } }",
        variable_values={"id": connection_id},
        context_value=context,
    )
    assert result.errors is not None
    [error] = result.errors
    assert error.extensions is not None
    assert error.extensions["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret detail" not in error.message
    assert setup.stored() == before


async def test_a_constraint_failure_in_the_first_statement_is_a_conflict(setup: Setup) -> None:
    """Past validation (straight to the repository), the foreign keys still hold."""
    connection_id = await setup.create(amps=10)
    before = setup.stored()
    from gql.repository.base import WriteConflict

    with pytest.raises(WriteConflict):
        await setup.repository.update_connection(
            connection_id, {"connection_type_id": 987_654}, actor="alice"
        )
    with pytest.raises(WriteConflict):
        await setup.repository.create_connection({"charge_point_id": 987_654}, actor="alice")
    assert setup.stored() == before
    assert setup.writer_idle()


@sqlite_only
async def test_a_raising_statement_listener_does_not_break_writes(setup: Setup) -> None:
    """Listeners only observe (sqlite3 swallows errors of trace callbacks); a write goes on."""

    def noisy(sql: str) -> None:
        if sql.startswith("INSERT INTO connection_change"):
            raise RuntimeError("listener trouble")

    setup.repository.add_statement_listener(noisy)
    connection_id = await setup.create(amps=5)
    rows, changes = setup.stored()
    assert any(row[0] == connection_id for row in rows)
    assert [c[1] for c in changes] == [connection_id]


# -- cancellation ---------------------------------------------------------------------


@sqlite_only
async def test_a_cancelled_caller_cannot_cut_a_write_short(setup: Setup) -> None:
    connection_id = await setup.create(amps=1, quantity=1)
    at_log = threading.Event()
    proceed = threading.Event()

    def hold(sql: str) -> None:
        # Runs on the database thread: the UPDATE ran, the log INSERT is about to.
        if sql.startswith("INSERT INTO connection_change") and not proceed.is_set():
            at_log.set()
            proceed.wait(timeout=10)

    setup.repository.add_statement_listener(hold)
    task = asyncio.create_task(
        setup.writes.update(ALICE, connection_id, {"amps": 2, "quantity": 2})
    )
    assert await asyncio.to_thread(at_log.wait, 10)
    task.cancel()  # in the middle of the transaction
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not setup.writer_idle()  # still inside the transaction
    proceed.set()
    # The next write waits for the shielded one, which runs to its end.
    assert (await setup.writes.update(ALICE, connection_id, {"comments": "next"})).change
    [record] = (await setup.repository.connections_by_ids([connection_id])).values()
    assert (record.amps, record.quantity, record.comments) == (2, 2, "next")
    changes = await setup.repository.connection_changes(connection_id, limit=10)
    assert [c.action for c in changes] == [ChangeAction.UPDATE] * 2 + [ChangeAction.CREATE]
    assert changes[1].after == changes[0].before
    assert setup.writer_idle()


# -- concurrency in one process ---------------------------------------------------------


def _chain_holds(changes: list[ConnectionChange]) -> None:
    """Oldest first: each entry's before is the previous entry's after."""
    for previous, change in itertools.pairwise(changes):
        assert change.before == previous.after, (previous.id, change.id)


async def test_concurrent_partial_updates_lose_nothing(setup: Setup) -> None:
    """Each write names only some fields; the merge with the stored row happens inside the
    transaction, so no concurrent write's field is overwritten with a stale value."""
    connection_id = await setup.create()
    rng = random.Random(7)
    fields = ["amps", "quantity", "reference", "comments", "voltage", "level_id"]
    writes: list[tuple[str, Any]] = []
    for n in range(240):
        field = rng.choice(fields)
        value: Any = {
            "amps": n,
            "quantity": n,
            "reference": f"r{n}",
            "comments": f"c{n}",
            "voltage": float(n),
            "level_id": 1 + n % 3,
        }[field]
        writes.append((field, value))
    results = await asyncio.gather(
        *(setup.writes.update(ALICE, connection_id, {f: v}) for f, v in writes)
    )
    assert not any(r.problems for r in results)
    # A level set to the level it already has is no change (levels repeat): not logged.
    applied = [r for r in results if r.change is not None]
    assert all(r.unchanged is not None for r in results if r.change is None)
    assert len(applied) > len(writes) // 2
    changes = list(reversed(await setup.repository.connection_changes(connection_id, limit=1000)))
    assert len(changes) == 1 + len(applied)
    _chain_holds(changes)
    # Replaying the log in order gives the row.
    last: dict[str, Any] = {}
    for change in changes[1:]:
        assert change.before is not None
        assert change.after is not None
        differing = [f for f in fields if getattr(change.before, f) != getattr(change.after, f)]
        for f in differing:
            last[f] = getattr(change.after, f)
    [record] = (await setup.repository.connections_by_ids([connection_id])).values()
    assert record == changes[-1].after
    for f, value in last.items():
        assert getattr(record, f) == value


async def test_concurrent_creates_each_get_a_row_and_an_entry(setup: Setup) -> None:
    results = await asyncio.gather(
        *(setup.writes.create(ALICE, {"charge_point_id": SITE, "amps": n}) for n in range(100))
    )
    ids = [r.change.connection_id for r in results if r.change]
    assert len(set(ids)) == 100
    found = await setup.repository.connections_by_ids(ids)
    assert sorted(r.amps or 0 for r in found.values()) == list(range(100))
    for connection_id in ids:
        [entry] = await setup.repository.connection_changes(connection_id, limit=5)
        assert entry.action is ChangeAction.CREATE


async def test_readers_never_see_half_a_write(setup: Setup) -> None:
    connection_id = await setup.create()  # no amps: every write below changes it
    stop = asyncio.Event()
    reads = 0
    odd: list[tuple[int | None, int | None]] = []

    async def reader() -> None:
        nonlocal reads
        while not stop.is_set():
            found = await setup.repository.connections_by_ids([connection_id])
            record = found[connection_id]
            if record.amps != record.quantity:
                odd.append((record.amps, record.quantity))
            reads += 1
            await asyncio.sleep(0)

    async def writer(offset: int) -> None:
        for n in range(offset, 500, 4):
            await setup.writes.update(ALICE, connection_id, {"amps": n, "quantity": n})

    readers = [asyncio.create_task(reader()) for _ in range(4)]
    await asyncio.gather(*(writer(i) for i in range(4)))
    stop.set()
    await asyncio.gather(*readers)
    assert odd == []
    assert reads > 0
    changes = await setup.repository.connection_changes(connection_id, limit=1000)
    assert len(changes) == 1 + 500
