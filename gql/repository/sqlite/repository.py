"""The SQLite backend: the only module that writes SQL (besides the migration files).

One writer connection behind a lock and a small pool of read-only connections, all in WAL
mode, so reads never wait for a write and writes never interleave.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from dataclasses import astuple
from pathlib import Path
from typing import Any, Final, TypeVar

import aiosqlite
import orjson

from gql.clock import utc_now
from gql.data.seed_files import migration_files
from gql.domain.geo import LatLonBox
from gql.observability.metrics.pool import write_waited
from gql.observability.statements import Backend, Kind
from gql.repository.base import (
    CannotOpen,
    PoolUsage,
    SchemaTooNew,
    Unavailable,
    WriteConflict,
)
from gql.repository.models import (
    WRITABLE_CONNECTION_FIELDS,
    ApiKeyRecord,
    ChangeAction,
    ConnectionChange,
    ConnectionFilter,
    ConnectionRecord,
    ConnectionWrite,
    ImportCounts,
    PageQuery,
    ReferenceKind,
    ReferenceRecord,
    SiteFilter,
    SiteHit,
    SitePageQuery,
    SiteRecord,
    SyncCheckpoint,
    WriteCounts,
)
from gql.repository.rows import (
    API_KEY_COLUMNS,
    CHANGE_COLUMNS,
    CONNECTION_WRITE_COLUMNS,
    LARGEST_CONNECTION_ID_SQL,
    SITE_COLUMNS,
    SYNC_STATE_COLUMNS,
    TABLES,
    Table,
    api_key_record,
    change_record,
    connection_write_row,
    reference_columns,
    reference_record,
    snapshot,
    stored_values,
    writable_source_columns,
)
from gql.repository.site_statements import (
    SpatialPlanning,
    chosen_count_plan,
    chosen_page_plan,
    connections_by_site,
    connections_of_sites_statement,
    site_count_statement,
    site_hit,
    site_page_statement,
    sites_by_ids_statement,
)
from gql.repository.sqlite.observed import ObservedConnection
from gql.repository.sqlite.observed import connect as observed_connection
from gql.repository.statements import (
    SELECT_CONNECTIONS,
    count_statement,
    dumped,
    page_statement,
)

T = TypeVar("T")

# Bulk writes (imports, demo data) of at least this many rows refresh the statistics.
STATISTICS_AFTER_ROWS: Final = 1000
# Measured on 1,000,000 demo sites (bench/spatial_plans.py): a count through the R*Tree
# costs about 2-3 us per candidate, a scan of the table 0.2-0.3 us per site, and the
# R*Tree counts its candidates at about 0.1 us each; so a count (or DISTANCE page) scans
# from 100,000 candidates on, and a page by id counts them before it looks at a window.
SPATIAL_PLANNING: Final = SpatialPlanning(every_match_from=100_000, candidates_first=True)
# How SQLite names the R*Tree's shadow tables in the statements the module runs itself.
_R_TREE_SHADOW_TABLES: Final = "'charge_point_location_"
# SQLite's primary result codes for "another connection holds the lock" (past the busy timeout).
_LOCK_CODES: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class SqliteRepository:
    def __init__(self, path: Path, *, readers: int = 2, busy_timeout_ms: int = 5000) -> None:
        self.path = path
        self._reader_count = readers
        self._busy_timeout_ms = busy_timeout_ms
        self._writer: ObservedConnection | None = None
        self._readers: asyncio.Queue[ObservedConnection] = asyncio.Queue()
        self._all_readers: list[ObservedConnection] = []
        self._write_lock = asyncio.Lock()
        self._statements = 0
        self._statements_lock = threading.Lock()
        self._statement_listeners: list[Callable[[str], None]] = []
        self._reference_generation = 0
        # Public so tests and benchmarks can force either plan of a spatial search.
        self.spatial_planning = SPATIAL_PLANNING

    @classmethod
    async def open(
        cls, path: Path, *, readers: int = 2, busy_timeout_ms: int = 5000
    ) -> SqliteRepository:
        """Open (creating if needed) and migrate the database at ``path``. Raises
        CannotOpen, with the reason in a line, when the file cannot be used."""
        _refuse_a_folder(path)
        repository = cls(path, readers=readers, busy_timeout_ms=busy_timeout_ms)
        try:
            await repository._connect()
        except BaseException as error:
            await repository.close()
            if isinstance(error, sqlite3.Error | OSError):
                raise CannotOpen(_reason(error)) from error
            raise
        return repository

    async def _connect(self) -> None:
        self._writer = await self._new_connection()
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self._writer.execute("PRAGMA synchronous = NORMAL")
        await self._migrate(self._writer)
        await self._gather_statistics(only_if_missing=True)
        for _ in range(self._reader_count):
            reader = await self._new_connection()
            await reader.execute("PRAGMA query_only = ON")
            self._all_readers.append(reader)
            self._readers.put_nowait(reader)

    async def _new_connection(self) -> ObservedConnection:
        connection = await observed_connection(self.path)
        await connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.set_trace_callback(self._count_statement)
        return connection

    def _count_statement(self, sql: str) -> None:
        if _R_TREE_SHADOW_TABLES in sql:
            # The R*Tree module's own reads and writes of its tables (when a connection
            # first uses it, and in its triggers), not statements of ours.
            return
        with self._statements_lock:
            self._statements += 1
        for listener in self._statement_listeners:
            listener(sql)

    def add_statement_listener(self, listener: Callable[[str], None]) -> None:
        """Calls ``listener`` with the text of every statement run from now on."""
        self._statement_listeners.append(listener)

    @property
    def statement_count(self) -> int:
        return self._statements

    @property
    def reference_generation(self) -> int:
        return self._reference_generation

    def pool_usage(self) -> list[PoolUsage]:
        # The writer is in use while a write holds its lock; a reader while it is taken
        # from the queue of idle ones.
        idle_readers = self._readers.qsize()
        writing = int(self._write_lock.locked())
        writers = int(self._writer is not None)
        return [
            PoolUsage(
                "sqlite",
                in_use=len(self._all_readers) - idle_readers + writing,
                idle=idle_readers + writers - writing,
            )
        ]

    async def close(self) -> None:
        for connection in [*self._all_readers, self._writer]:
            if connection is not None:
                await connection.close()
        self._all_readers.clear()
        self._writer = None

    async def _migrate(self, connection: aiosqlite.Connection) -> None:
        current = await _scalar(connection, "PRAGMA user_version")
        migrations = migration_files("sqlite")
        newest = migrations[-1][0] if migrations else 0
        if current > newest:
            raise SchemaTooNew(
                f"{self.path} has schema version {current}; this ocm-gql knows up to {newest}"
            )
        for version, path in migrations:
            if version <= current:
                continue
            script = path.read_text(encoding="utf-8")
            try:
                await connection.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
                )
            except BaseException:
                if connection.in_transaction:
                    await connection.execute("ROLLBACK")
                raise

    async def _gather_statistics(self, *, only_if_missing: bool = False) -> None:
        """ANALYZE: without statistics SQLite may read a filter's index and sort, where
        reading the order's index and stopping at the page is far cheaper."""
        assert self._writer is not None
        if only_if_missing:
            has_stats = await _scalar(
                self._writer,
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'",
            )
            if has_stats:
                return
        async with self._transaction() as connection:
            await connection.execute("ANALYZE")

    async def schema_version(self) -> int:
        async with self._reader() as connection:
            return await _scalar(connection, "PRAGMA user_version")

    @asynccontextmanager
    async def _reader(self, kind: Kind = Kind.OTHER) -> AsyncIterator[ObservedConnection]:
        connection = await self._readers.get()
        try:
            with connection.running(kind):
                yield connection
        finally:
            self._readers.put_nowait(connection)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction at a time; rolled back on any error, cancellation included.
        A broken constraint raises WriteConflict."""
        assert self._writer is not None, "repository is closed"
        asked = time.perf_counter()
        async with self._write_lock, self._writer_running_writes():
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                if _is_lock(error):
                    raise Unavailable(f"{error} (another process holds a lock on it)") from error
                raise
            # Waited for this process's writer, then for other processes' write lock.
            write_waited(Backend.SQLITE, time.perf_counter() - asked)
            try:
                yield self._writer
                await self._writer.execute("COMMIT")
            except BaseException as error:
                await self._writer.execute("ROLLBACK")
                if isinstance(error, sqlite3.OperationalError) and _is_lock(error):
                    raise Unavailable(f"{error} (another process holds a lock on it)") from error
                if isinstance(error, sqlite3.IntegrityError):
                    raise WriteConflict(str(error)) from error
                raise

    @asynccontextmanager
    async def _writer_running_writes(self) -> AsyncIterator[None]:
        assert self._writer is not None
        with self._writer.running(Kind.WRITE):
            yield

    async def _write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Runs ``work`` in one transaction that a cancelled caller cannot cut short: it
        still commits or rolls back as a whole, and the next write starts clean."""

        async def run() -> T:
            async with self._transaction() as connection:
                return await work(connection)

        return await asyncio.shield(run())

    async def ping(self, *, writable: bool = False) -> None:
        async with self._reader() as connection:
            await connection.execute_fetchall("SELECT 1 FROM connection_info LIMIT 1")
        if writable:
            # Takes the write lock and lets it go: fails when another process holds it.
            async with self._transaction():
                pass

    # -- reads ---------------------------------------------------------------------------

    async def connections_by_ids(self, ids: Iterable[int]) -> dict[int, ConnectionRecord]:
        sql = f"{SELECT_CONNECTIONS} WHERE id IN (SELECT value FROM json_each(?))"
        async with self._reader(Kind.BATCH) as connection:
            rows = await connection.execute_fetchall(sql, (_json_list(ids),))
        return {row[0]: ConnectionRecord._make(row) for row in rows}

    async def connection_page(self, query: PageQuery) -> list[ConnectionRecord]:
        sql, params = page_statement(query, DIALECT)
        async with self._reader(Kind.PAGE) as connection:
            rows = await connection.execute_fetchall(sql, params)
        return list(map(ConnectionRecord._make, rows))

    async def count_connections(self, filter: ConnectionFilter) -> int:
        async with self._reader(Kind.COUNT) as connection:
            return await _scalar(connection, *count_statement(filter, DIALECT))

    async def sites_by_ids(self, ids: Iterable[int]) -> dict[int, SiteRecord]:
        sql, params = sites_by_ids_statement(list(ids), DIALECT)
        async with self._reader(Kind.BATCH) as connection:
            rows = await connection.execute_fetchall(sql, params)
        return {row[0]: SiteRecord(*row) for row in rows}

    async def site_page(self, query: SitePageQuery) -> list[SiteHit]:
        async with self._reader(Kind.PAGE) as connection:
            plan = await chosen_page_plan(
                query, self.spatial_planning, DIALECT, _scalar_on(connection)
            )
            sql, params = site_page_statement(query, DIALECT, plan)
            rows = await connection.execute_fetchall(sql, params)
        with_distance = query.filter.near is not None
        return [site_hit(row, with_distance=with_distance) for row in rows]

    async def count_sites(self, filter: SiteFilter) -> int:
        async with self._reader(Kind.COUNT) as connection:
            plan = await chosen_count_plan(
                filter, self.spatial_planning, DIALECT, _scalar_on(connection)
            )
            return await _scalar(connection, *site_count_statement(filter, DIALECT, plan))

    async def connections_of_sites(
        self, site_ids: Sequence[int], filter: ConnectionFilter
    ) -> dict[int, list[ConnectionRecord]]:
        if not site_ids:
            return {}
        sql, params = connections_of_sites_statement(site_ids, filter, DIALECT)
        async with self._reader(Kind.BATCH) as connection:
            rows = await connection.execute_fetchall(sql, params)
        return connections_by_site(rows)

    async def reference_rows(self, kind: ReferenceKind) -> list[ReferenceRecord]:
        sql = f"SELECT {', '.join(reference_columns(kind))} FROM {kind.value} ORDER BY id"
        async with self._reader() as connection:
            rows = await connection.execute_fetchall(sql)
        return [reference_record(kind, row) for row in rows]

    # -- writes --------------------------------------------------------------------------

    async def upsert_reference(
        self, kind: ReferenceKind, rows: Sequence[ReferenceRecord]
    ) -> WriteCounts:
        names = reference_columns(kind)
        try:
            async with self._transaction() as connection:
                cursor = await connection.executemany(
                    _upsert_sql(kind.value, names), [astuple(row) for row in rows]
                )
        finally:
            self._reference_generation += 1
        return WriteCounts(read=len(rows), written=max(cursor.rowcount, 0))

    async def write_sites(
        self,
        sites: Sequence[SiteRecord],
        connections: Sequence[ConnectionWrite],
        *,
        replace_site_connections: bool,
    ) -> ImportCounts:
        async with self._transaction() as connection:
            return await _upsert_sites(connection, sites, connections, replace_site_connections)

    async def bulk_write_done(self, connections_written: int) -> None:
        # ANALYZE reads every index: worth it when the rows changed enough to matter.
        if connections_written >= STATISTICS_AFTER_ROWS:
            await self._gather_statistics()

    # -- connection edits, each logged in its own transaction ---------------------------

    async def create_connection(self, values: Mapping[str, Any], *, actor: str) -> ConnectionChange:
        async def work(connection: aiosqlite.Connection) -> ConnectionChange:
            row = stored_values(values)
            names = [name for name in row if name != "id"]
            # Not SQLite's own choice (the largest stored id + 1), which takes back the id
            # of the newest connection once it is deleted, and with it its change log.
            cursor = await connection.execute(
                f"INSERT INTO connection_info (id, {', '.join(names)})"
                f" VALUES (({LARGEST_CONNECTION_ID_SQL}) + 1, {', '.join('?' * len(names))})",
                [row[name] for name in names],
            )
            assert cursor.lastrowid is not None
            after = await _connection_row(connection, cursor.lastrowid)
            return await _log_change(connection, ChangeAction.CREATE, actor, None, after)

        return await self._write(work)

    async def update_connection(
        self,
        connection_id: int,
        changes: Mapping[str, Any],
        *,
        actor: str,
        action: ChangeAction = ChangeAction.UPDATE,
    ) -> ConnectionChange | ConnectionRecord | None:
        """Applies ``changes`` (writable fields only); None when there is no such row, the
        row itself, with nothing written or logged, when the changes leave it as it is."""

        async def work(
            connection: aiosqlite.Connection,
        ) -> ConnectionChange | ConnectionRecord | None:
            current = await _writable_values(connection, connection_id)
            if current is None:
                return None
            if {**current, **changes} == current:
                return await _connection_row(connection, connection_id)
            before = await _connection_row(connection, connection_id)
            row = stored_values({**current, **changes})
            await connection.execute(
                f"UPDATE connection_info SET {', '.join(f'{name} = ?' for name in row)}"
                " WHERE id = ?",
                [*row.values(), connection_id],
            )
            after = await _connection_row(connection, connection_id)
            return await _log_change(connection, action, actor, before, after)

        return await self._write(work)

    async def delete_connection(self, connection_id: int, *, actor: str) -> ConnectionChange | None:
        async def work(connection: aiosqlite.Connection) -> ConnectionChange | None:
            before = await _connection_row(connection, connection_id)
            if before is None:
                return None
            await connection.execute("DELETE FROM connection_info WHERE id = ?", (connection_id,))
            return await _log_change(connection, ChangeAction.DELETE, actor, before, None)

        return await self._write(work)

    async def connection_changes(
        self, connection_id: int, *, limit: int, before_change: int | None = None
    ) -> list[ConnectionChange]:
        """The newest ``limit`` changes of a connection older than ``before_change``."""
        sql = f"SELECT {', '.join(CHANGE_COLUMNS)} FROM connection_change WHERE connection_id = ?"
        params: list[Any] = [connection_id]
        if before_change is not None:
            sql += " AND id < ?"
            params.append(before_change)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        async with self._reader(Kind.PAGE) as connection:
            rows = await connection.execute_fetchall(sql, params)
        return [change_record(row) for row in rows]

    async def existing_site_ids(self, ids: Iterable[int]) -> set[int]:
        sql = "SELECT id FROM charge_point WHERE id IN (SELECT value FROM json_each(?))"
        async with self._reader() as connection:
            rows = await connection.execute_fetchall(sql, (_json_list(ids),))
        return {row[0] for row in rows}

    # -- API keys ------------------------------------------------------------------------

    async def add_api_key(self, key: ApiKeyRecord) -> None:
        async def work(connection: aiosqlite.Connection) -> None:
            await connection.execute(
                f"INSERT INTO api_key ({', '.join(API_KEY_COLUMNS)})"
                f" VALUES ({', '.join('?' * len(API_KEY_COLUMNS))})",
                astuple(key),
            )

        await self._write(work)

    async def api_keys(self) -> list[ApiKeyRecord]:
        sql = f"SELECT {', '.join(API_KEY_COLUMNS)} FROM api_key ORDER BY created_at, name"
        async with self._reader() as connection:
            rows = await connection.execute_fetchall(sql)
        return [api_key_record(row) for row in rows]

    async def api_key(self, key_id: str) -> ApiKeyRecord | None:
        sql = f"SELECT {', '.join(API_KEY_COLUMNS)} FROM api_key WHERE key_id = ?"
        async with self._reader() as connection:
            rows = list(await connection.execute_fetchall(sql, (key_id,)))
        return api_key_record(rows[0]) if rows else None

    async def revoke_api_key(self, name: str) -> bool:
        """Marks the named, not yet revoked key revoked; False when there is none."""

        async def work(connection: aiosqlite.Connection) -> bool:
            cursor = await connection.execute(
                "UPDATE api_key SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                (utc_now(), name),
            )
            return cursor.rowcount == 1

        return await self._write(work)

    # -- moving a whole database ---------------------------------------------------------

    async def is_empty(self) -> bool:
        async with self._reader() as connection:
            for table in TABLES:
                if await _scalar(
                    connection, f"SELECT count(*) FROM (SELECT 1 FROM {table.name} LIMIT 1)"
                ):
                    return False
        return True

    def dump_table(self, table: Table, *, batch_size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        return dumped(table, batch_size, DIALECT, self._read)

    async def _read(self, sql: str, *params: Any) -> list[Any]:
        # Each read takes a reader and gives it back: a dump holds none between batches.
        async with self._reader() as connection:
            return list(await connection.execute_fetchall(sql, params))

    async def load_tables(
        self, batches: AsyncIterable[tuple[Table, list[tuple[Any, ...]]]], *, replace: bool
    ) -> dict[str, int]:
        async def work(connection: aiosqlite.Connection) -> dict[str, int]:
            if replace:
                for table in reversed(TABLES):
                    await connection.execute(f"DELETE FROM {table.name}")
            written = {table.name: 0 for table in TABLES}
            async for table, batch in batches:
                await connection.executemany(
                    f"INSERT INTO {table.name} ({', '.join(table.columns)})"
                    f" VALUES ({', '.join('?' * len(table.columns))})",
                    batch,
                )
                written[table.name] += len(batch)
            return written

        try:
            return await self._write(work)
        finally:
            self._reference_generation += 1

    # -- syncing from OCM's API ----------------------------------------------------------

    async def sync_checkpoint(self, country_code: str) -> SyncCheckpoint | None:
        sql = f"SELECT {', '.join(SYNC_STATE_COLUMNS)} FROM sync_state WHERE country_code = ?"
        async with self._reader() as connection:
            rows = list(await connection.execute_fetchall(sql, (country_code,)))
        return SyncCheckpoint(*rows[0]) if rows else None

    async def write_synced_sites(
        self,
        sites: Sequence[SiteRecord],
        connections: Sequence[ConnectionWrite],
        checkpoint: SyncCheckpoint,
    ) -> ImportCounts:
        columns = ", ".join(SYNC_STATE_COLUMNS)
        async with self._transaction() as connection:
            counts = await _upsert_sites(connection, sites, connections, True)
            await connection.execute(
                f"INSERT OR REPLACE INTO sync_state ({columns})"
                f" VALUES ({', '.join('?' * len(SYNC_STATE_COLUMNS))})",
                astuple(checkpoint),
            )
        return counts


async def _upsert_sites(
    connection: aiosqlite.Connection,
    sites: Sequence[SiteRecord],
    connections: Sequence[ConnectionWrite],
    replace_site_connections: bool,
) -> ImportCounts:
    counts = ImportCounts()
    counts.sites.read = len(sites)
    counts.connections.read = len(connections)
    if sites:
        cursor = await connection.executemany(
            _upsert_sql("charge_point", SITE_COLUMNS), [astuple(s) for s in sites]
        )
        counts.sites.written = max(cursor.rowcount, 0)
    if connections:
        cursor = await connection.executemany(
            _upsert_sql("connection_info", CONNECTION_WRITE_COLUMNS),
            [connection_write_row(c) for c in connections],
        )
        counts.connections.written = max(cursor.rowcount, 0)
    if replace_site_connections and sites:
        kept: dict[int, list[int]] = {site.id: [] for site in sites}
        for c in connections:
            kept.setdefault(c.charge_point_id, []).append(c.id)
        await connection.executemany(
            "DELETE FROM connection_info WHERE charge_point_id = ?"
            " AND id NOT IN (SELECT value FROM json_each(?))",
            [(site_id, _json_list(ids)) for site_id, ids in kept.items()],
        )
    return counts


def _refuse_a_folder(path: Path) -> None:
    if path.exists() and not path.is_file():
        raise CannotOpen("it is not a file")


def _reason(error: sqlite3.Error | OSError) -> str:
    message = str(error)
    if "file is not a database" in message or "malformed" in message:
        return f"{message} (the file is damaged or not an SQLite database)"
    if "locked" in message:
        return f"{message} (another process holds a lock on it)"
    if "unable to open" in message or isinstance(error, PermissionError):
        return f"{message} (check that the file and its folder are readable and writable)"
    return message


def _is_lock(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite gave up waiting for a lock (busy timeout), not some other failure."""
    return error.sqlite_errorcode & 0xFF in _LOCK_CODES


async def _writable_values(
    connection: aiosqlite.Connection, connection_id: int
) -> dict[str, Any] | None:
    names = writable_source_columns()
    rows = list(
        await connection.execute_fetchall(
            f"SELECT {', '.join(names)} FROM connection_info WHERE id = ?", (connection_id,)
        )
    )
    return dict(zip(WRITABLE_CONNECTION_FIELDS, rows[0], strict=True)) if rows else None


async def _connection_row(
    connection: aiosqlite.Connection, connection_id: int
) -> ConnectionRecord | None:
    rows = list(
        await connection.execute_fetchall(f"{SELECT_CONNECTIONS} WHERE id = ?", (connection_id,))
    )
    return ConnectionRecord._make(rows[0]) if rows else None


async def _log_change(
    connection: aiosqlite.Connection,
    action: ChangeAction,
    actor: str,
    before: ConnectionRecord | None,
    after: ConnectionRecord | None,
) -> ConnectionChange:
    subject = after or before
    assert subject is not None
    changed_at = utc_now()
    cursor = await connection.execute(
        "INSERT INTO connection_change (connection_id, action, actor, changed_at, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (subject.id, action.value, actor, changed_at, snapshot(before), snapshot(after)),
    )
    assert cursor.lastrowid is not None
    return ConnectionChange(cursor.lastrowid, subject.id, action, actor, changed_at, before, after)


def _upsert_sql(table: str, columns: Sequence[str]) -> str:
    """An upsert by id that leaves a row untouched (and uncounted) when nothing differs."""
    rest = [c for c in columns if c != "id"]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        f" ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in rest)}"
        f" WHERE {' OR '.join(f'{table}.{c} IS NOT excluded.{c}' for c in rest)}"
    )


class SqliteDialect:
    def param(self, params: list[Any], value: Any, column: str | None = None) -> str:
        params.append(value)
        return "?"

    def in_list(self, params: list[Any], column: str, values: Sequence[int]) -> str:
        params.append(_json_list(values))
        return f"{column} IN (SELECT value FROM json_each(?))"

    def in_text_list(self, params: list[Any], column: str, values: Sequence[str]) -> str:
        params.append(_json_list(values))
        return f"{column} IN (SELECT value FROM json_each(?))"

    def least(self, first: str, second: str) -> str:
        return f"min({first}, {second})"

    def located_in(self, params: list[Any], boxes: Sequence[LatLonBox]) -> str:
        return f"id IN ({self.spatial_candidates(params, boxes)})"

    def table_sample(self, params: list[Any], percent: float) -> str | None:
        return None

    def spatial_candidates(self, params: list[Any], boxes: Sequence[LatLonBox]) -> str:
        # The R*Tree holds each located site as a point-sized box (charge_point_location,
        # kept by triggers); its 32-bit floats are rounded outwards, so it finds a
        # superset of the sites in the box.
        searches = []
        for box in boxes:
            params.extend((box.north, box.south, box.east, box.west))
            searches.append(
                "SELECT id FROM charge_point_location WHERE min_latitude <= ?"
                " AND max_latitude >= ? AND min_longitude <= ? AND max_longitude >= ?"
            )
        return " UNION ALL ".join(searches)


DIALECT: Final = SqliteDialect()
"""Public so tests and benchmarks can build the very statements this backend runs."""


def _json_list(values: Iterable[int | str]) -> str:
    return orjson.dumps(list(values)).decode()


def _scalar_on(connection: ObservedConnection) -> Callable[[str, list[Any]], Awaitable[int]]:
    async def scalar(sql: str, params: list[Any]) -> int:
        with connection.running(Kind.COUNT):  # a spatial plan's count of candidates
            return await _scalar(connection, sql, params)

    return scalar


async def _scalar(connection: aiosqlite.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    rows = list(await connection.execute_fetchall(sql, params))
    return int(rows[0][0])
