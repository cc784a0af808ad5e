"""The PostgreSQL backend, on asyncpg and its connection pool.

The same statements as the SQLite backend, in PostgreSQL's dialect: keyset pages on the
stored sort-key columns, list conditions as ``= ANY($n)``, and bulk writes as one
``INSERT ... SELECT FROM unnest(...)`` per batch (one round trip for a batch of rows).
Concurrent edits of one connection are serialised by a row lock (``SELECT ... FOR
UPDATE``): the second writer waits for the first and then reads its result, so no update
is lost, and writers of other rows never wait or retry (as serializable isolation would
make them).
"""

from __future__ import annotations

import asyncio
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
from typing import Any, Final, TypeVar

import asyncpg

from gql.clock import utc_now
from gql.data.seed_files import migration_files
from gql.domain.geo import LatLonBox
from gql.observability.metrics.pool import write_waited
from gql.observability.statements import Backend, Kind, observed, returned_rows
from gql.repository.base import (
    CannotOpen,
    PoolUsage,
    SchemaTooNew,
    ServerUnreachable,
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
from gql.repository.postgres.errors import UNREACHABLE, open_failure
from gql.repository.rows import (
    API_KEY_COLUMNS,
    CHANGE_COLUMNS,
    CONNECTION_COLUMNS,
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
from gql.repository.statements import (
    SELECT_CONNECTIONS,
    count_statement,
    dumped,
    page_statement,
)
from gql.repository.url import hide_password

T = TypeVar("T")

# PostgreSQL cannot estimate how many points a box holds (its ``<@`` selectivity is a
# constant), and even a probe of the GiST index with a LIMIT builds the whole bitmap of
# candidates. So a count or a DISTANCE page estimates them from 1% of the table's pages
# (about 2 ms on 1,000,000 sites), and scans from 400,000 on (measured, bench/
# spatial_plans.py: 0.4 us per candidate through the index, 0.18 us per site scanned);
# a page by id needs no count of them: it probes its window alone.
SPATIAL_PLANNING: Final = SpatialPlanning(every_match_from=400_000, sample_percent=1.0)
# Bulk writes (imports, demo data) of at least this many rows refresh the statistics.
STATISTICS_AFTER_ROWS: Final = 1000
# How long opening a connection may take before the server counts as unreachable.
CONNECT_TIMEOUT_SECONDS: Final = 5.0
# Taken by every process that migrates, so two starting at once migrate one after the other.
_MIGRATION_LOCK: Final = 0x6F636D67716C  # "ocmgql"


# Column types, for the arrays a batch is sent as.
_TYPES: Final[dict[str, str]] = {
    "title": "text",
    "formal_name": "text",
    "comments": "text",
    "description": "text",
    "uuid": "text",
    "town": "text",
    "reference": "text",
    "date_created": "text",
    "date_last_verified": "text",
    "address_line1": "text",
    "address_line2": "text",
    "state_or_province": "text",
    "postcode": "text",
    "access_comments": "text",
    "related_url": "text",
    "contact_telephone1": "text",
    "usage_cost": "text",
    "general_comments": "text",
    "website_url": "text",
    "iso_code": "text",
    "continent_code": "text",
    "date_last_status_update": "text",
    "latitude": "float8",
    "longitude": "float8",
    "voltage": "float8",
    "power_kw": "float8",
    "power_kw_source": "float8",
}


# A cursor's sort key as sent: its id may be any 64-bit integer (a cursor made elsewhere
# or by hand), which an integer parameter would refuse with an error; compared as bigint
# it simply finds no row, as on SQLite. The index serves the comparison all the same.
_PARAM_TYPES: Final[dict[str, str]] = {
    "id": "bigint",
    "latitude": "double precision",
    "longitude": "double precision",
    "distance_km": "double precision",
    "power_sort_asc": "double precision",
    "power_sort_desc": "double precision",
}


def _type(column: str) -> str:
    if column.startswith("is_"):
        return "boolean"
    return _TYPES.get(column, "integer")


class PostgresRepository:
    def __init__(self, url: str, pool: asyncpg.Pool) -> None:
        self.url = url
        self._pool = pool
        self._statements = 0
        self._statement_listeners: list[Callable[[str], None]] = []
        self._reference_generation = 0
        # Public so tests and benchmarks can force either plan of a spatial search.
        self.spatial_planning = SPATIAL_PLANNING

    @classmethod
    async def open(
        cls, url: str, *, pool_size: int = 10, migrate: bool = True
    ) -> PostgresRepository:
        """Connect to and migrate the database at ``url``. Raises CannotOpen, with the
        reason in a line without the password, when it cannot be used. Without
        ``migrate`` (a read replica, which cannot be written) its schema must already be
        the newest."""
        try:
            pool = await asyncpg.create_pool(
                url,
                # No floor to keep: asyncpg would log a traceback each time it fails to
                # restore one while the server is down. Idle connections stay pooled.
                min_size=0,
                max_size=pool_size,
                timeout=CONNECT_TIMEOUT_SECONDS,
                server_settings={"application_name": "ocm-gql"},
                reset=_keep_session,
            )
        except (*UNREACHABLE, asyncpg.PostgresError, ValueError) as error:
            raise CannotOpen(open_failure(error)) from None
        repository = cls(url, pool)
        try:
            await (repository._migrate() if migrate else repository._check_schema())
        except BaseException as error:
            await pool.close()
            if isinstance(error, (*UNREACHABLE, asyncpg.PostgresError)):
                raise CannotOpen(open_failure(error)) from None
            raise
        return repository

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
        size = self._pool.get_size()
        idle = self._pool.get_idle_size()
        return [PoolUsage("postgresql", in_use=size - idle, idle=idle)]

    async def close(self) -> None:
        await self._pool.close()

    def _counted(self, sql: str) -> str:
        self._statements += 1
        for listener in self._statement_listeners:
            listener(sql)
        return sql

    async def _migrate(self) -> None:
        migrations = migration_files("postgres")
        newest = _newest_migration()
        async with self._pool.acquire() as connection, connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS ocm_gql_schema_version ("
                " version integer PRIMARY KEY, applied_at text NOT NULL)"
            )
            current = await connection.fetchval(
                "SELECT coalesce(max(version), 0) FROM ocm_gql_schema_version"
            )
            if current > newest:
                raise SchemaTooNew(
                    f"{hide_password(self.url)} has schema version {current}; "
                    f"this ocm-gql knows up to {newest}"
                )
            for version, path in migrations:
                if version <= current:
                    continue
                await connection.execute(path.read_text(encoding="utf-8"))
                await connection.execute(
                    "INSERT INTO ocm_gql_schema_version VALUES ($1, $2)", version, utc_now()
                )

    async def _check_schema(self) -> None:
        newest = _newest_migration()
        current = 0
        if await self._pool.fetchval("SELECT to_regclass('ocm_gql_schema_version') IS NOT NULL"):
            current = await self._pool.fetchval(
                "SELECT coalesce(max(version), 0) FROM ocm_gql_schema_version"
            )
        if current > newest:
            raise SchemaTooNew(
                f"{hide_password(self.url)} has schema version {current}; "
                f"this ocm-gql knows up to {newest}"
            )
        if current < newest:
            raise CannotOpen(
                f"{hide_password(self.url)} has schema version {current}, not {newest}: "
                "a read replica is migrated by its primary (wait until it has caught up)"
            )

    async def schema_version(self) -> int:
        return int(
            await self._fetchval("SELECT coalesce(max(version), 0) FROM ocm_gql_schema_version")
        )

    # -- running statements --------------------------------------------------------------

    async def _fetch(self, sql: str, *params: Any, kind: Kind = Kind.OTHER) -> list[asyncpg.Record]:
        try:
            with observed(Backend.POSTGRESQL, kind, sql) as statement:
                rows: list[asyncpg.Record] = await self._pool.fetch(self._counted(sql), *params)
                statement.rows = len(rows)
        except UNREACHABLE as error:
            raise _unreachable(error) from error
        return rows

    async def _fetchval(self, sql: str, *params: Any, kind: Kind = Kind.OTHER) -> Any:
        try:
            with observed(Backend.POSTGRESQL, kind, sql) as statement:
                value = await self._pool.fetchval(self._counted(sql), *params)
                statement.rows = 1
        except UNREACHABLE as error:
            raise _unreachable(error) from error
        return value

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_Writer]:
        """One transaction on one pooled connection; rolled back on any error."""
        asked = time.perf_counter()
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                # Waited for a pooled connection (and for BEGIN).
                write_waited(Backend.POSTGRESQL, time.perf_counter() - asked)
                yield _Writer(connection, self._counted)
        except UNREACHABLE as error:
            raise _unreachable(error) from error
        except asyncpg.IntegrityConstraintViolationError as error:
            raise WriteConflict(str(error)) from error
        except (asyncpg.SerializationError, asyncpg.DeadlockDetectedError) as error:
            raise Unavailable(f"{error}; nothing was changed") from error

    async def _write(self, work: Callable[[_Writer], Awaitable[T]]) -> T:
        """Runs ``work`` in one transaction that a cancelled caller cannot cut short: it
        still commits or rolls back as a whole."""

        async def run() -> T:
            async with self._transaction() as writer:
                return await work(writer)

        return await asyncio.shield(run())

    async def ping(self, *, writable: bool = False) -> None:
        await self._fetch("SELECT 1 FROM connection_info LIMIT 1")
        if writable and await self._fetchval("SELECT pg_is_in_recovery()"):
            raise Unavailable("the server is a read-only standby")

    # -- reads ---------------------------------------------------------------------------

    async def connections_by_ids(self, ids: Iterable[int]) -> dict[int, ConnectionRecord]:
        rows = await self._fetch(
            f"{SELECT_CONNECTIONS} WHERE id = ANY($1::integer[])", list(ids), kind=Kind.BATCH
        )
        return {row[0]: ConnectionRecord._make(row) for row in rows}

    async def connection_page(self, query: PageQuery) -> list[ConnectionRecord]:
        sql, params = page_statement(query, DIALECT)
        return list(map(ConnectionRecord._make, await self._fetch(sql, *params, kind=Kind.PAGE)))

    async def count_connections(self, filter: ConnectionFilter) -> int:
        sql, params = count_statement(filter, DIALECT)
        return int(await self._fetchval(sql, *params, kind=Kind.COUNT))

    async def sites_by_ids(self, ids: Iterable[int]) -> dict[int, SiteRecord]:
        sql, params = sites_by_ids_statement(list(ids), DIALECT)
        rows = await self._fetch(sql, *params, kind=Kind.BATCH)
        return {row[0]: SiteRecord(*row) for row in rows}

    async def site_page(self, query: SitePageQuery) -> list[SiteHit]:
        plan = await chosen_page_plan(query, self.spatial_planning, DIALECT, self._scalar)
        sql, params = site_page_statement(query, DIALECT, plan)
        with_distance = query.filter.near is not None
        rows = await self._fetch(sql, *params, kind=Kind.PAGE)
        return [site_hit(row, with_distance=with_distance) for row in rows]

    async def count_sites(self, filter: SiteFilter) -> int:
        plan = await chosen_count_plan(filter, self.spatial_planning, DIALECT, self._scalar)
        sql, params = site_count_statement(filter, DIALECT, plan)
        return int(await self._fetchval(sql, *params, kind=Kind.COUNT))

    async def _scalar(self, sql: str, params: list[Any]) -> int:
        # A spatial plan's count of candidates.
        return int(await self._fetchval(sql, *params, kind=Kind.COUNT))

    async def connections_of_sites(
        self, site_ids: Sequence[int], filter: ConnectionFilter
    ) -> dict[int, list[ConnectionRecord]]:
        if not site_ids:
            return {}
        sql, params = connections_of_sites_statement(site_ids, filter, DIALECT)
        return connections_by_site(await self._fetch(sql, *params, kind=Kind.BATCH))

    async def reference_rows(self, kind: ReferenceKind) -> list[ReferenceRecord]:
        sql = f"SELECT {', '.join(reference_columns(kind))} FROM {kind.value} ORDER BY id"
        return [reference_record(kind, row) for row in await self._fetch(sql)]

    async def connection_changes(
        self, connection_id: int, *, limit: int, before_change: int | None = None
    ) -> list[ConnectionChange]:
        """The newest ``limit`` changes of a connection older than ``before_change``."""
        sql = f"SELECT {', '.join(CHANGE_COLUMNS)} FROM connection_change WHERE connection_id = $1"
        params: list[Any] = [connection_id]
        if before_change is not None:
            params.append(before_change)
            sql += f" AND id < ${len(params)}"
        params.append(limit)
        sql += f" ORDER BY id DESC LIMIT ${len(params)}"
        return [change_record(row) for row in await self._fetch(sql, *params, kind=Kind.PAGE)]

    async def existing_site_ids(self, ids: Iterable[int]) -> set[int]:
        rows = await self._fetch(
            "SELECT id FROM charge_point WHERE id = ANY($1::integer[])", list(ids)
        )
        return {row[0] for row in rows}

    # -- writes --------------------------------------------------------------------------

    async def upsert_reference(
        self, kind: ReferenceKind, rows: Sequence[ReferenceRecord]
    ) -> WriteCounts:
        names = reference_columns(kind)
        try:
            async with self._transaction() as writer:
                written = await writer.upsert(kind.value, names, [astuple(row) for row in rows])
        finally:
            self._reference_generation += 1
        return WriteCounts(read=len(rows), written=written)

    async def write_sites(
        self,
        sites: Sequence[SiteRecord],
        connections: Sequence[ConnectionWrite],
        *,
        replace_site_connections: bool,
    ) -> ImportCounts:
        async with self._transaction() as writer:
            return await writer.write_sites(sites, connections, replace_site_connections)

    async def bulk_write_done(self, connections_written: int) -> None:
        if connections_written >= STATISTICS_AFTER_ROWS:
            await self._fetch("ANALYZE connection_info, charge_point")

    # -- connection edits, each logged in its own transaction ---------------------------

    async def create_connection(self, values: Mapping[str, Any], *, actor: str) -> ConnectionChange:
        row = stored_values(values)
        names = list(row)
        placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
        sql = (
            f"INSERT INTO connection_info ({', '.join(names)}) VALUES ({placeholders})"
            f" RETURNING {', '.join(CONNECTION_COLUMNS)}"
        )

        async def work(writer: _Writer) -> ConnectionChange:
            inserted = await writer.fetchrow(sql, *row.values())
            assert inserted is not None
            after = ConnectionRecord._make(inserted)
            return await writer.log_change(ChangeAction.CREATE, actor, None, after)

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
        sources = writable_source_columns()
        locked = (
            f"SELECT {', '.join(CONNECTION_COLUMNS)}, {', '.join(sources)}"
            " FROM connection_info WHERE id = $1 FOR UPDATE"
        )
        width = len(CONNECTION_COLUMNS)

        async def work(writer: _Writer) -> ConnectionChange | ConnectionRecord | None:
            found = await writer.fetchrow(locked, connection_id)
            if found is None:
                return None
            before = ConnectionRecord._make(tuple(found)[:width])
            current = dict(zip(WRITABLE_CONNECTION_FIELDS, tuple(found)[width:], strict=True))
            if {**current, **changes} == current:
                return before
            row = stored_values({**current, **changes})
            assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(row, start=2))
            updated = await writer.fetchrow(
                f"UPDATE connection_info SET {assignments} WHERE id = $1"
                f" RETURNING {', '.join(CONNECTION_COLUMNS)}",
                connection_id,
                *row.values(),
            )
            assert updated is not None  # the row is locked: it is still there
            after = ConnectionRecord._make(updated)
            return await writer.log_change(action, actor, before, after)

        return await self._write(work)

    async def delete_connection(self, connection_id: int, *, actor: str) -> ConnectionChange | None:
        async def work(writer: _Writer) -> ConnectionChange | None:
            deleted = await writer.fetchrow(
                "DELETE FROM connection_info WHERE id = $1"
                f" RETURNING {', '.join(CONNECTION_COLUMNS)}",
                connection_id,
            )
            if deleted is None:
                return None
            before = ConnectionRecord._make(deleted)
            return await writer.log_change(ChangeAction.DELETE, actor, before, None)

        return await self._write(work)

    # -- API keys ------------------------------------------------------------------------

    async def add_api_key(self, key: ApiKeyRecord) -> None:
        placeholders = ", ".join(f"${i}" for i in range(1, len(API_KEY_COLUMNS) + 1))
        sql = f"INSERT INTO api_key ({', '.join(API_KEY_COLUMNS)}) VALUES ({placeholders})"

        async def work(writer: _Writer) -> None:
            await writer.execute(sql, *astuple(key))

        await self._write(work)

    async def api_keys(self) -> list[ApiKeyRecord]:
        sql = f"SELECT {', '.join(API_KEY_COLUMNS)} FROM api_key ORDER BY created_at, name"
        return [api_key_record(row) for row in await self._fetch(sql)]

    async def api_key(self, key_id: str) -> ApiKeyRecord | None:
        sql = f"SELECT {', '.join(API_KEY_COLUMNS)} FROM api_key WHERE key_id = $1"
        rows = await self._fetch(sql, key_id)
        return api_key_record(rows[0]) if rows else None

    async def revoke_api_key(self, name: str) -> bool:
        """Marks the named, not yet revoked key revoked; False when there is none."""

        async def work(writer: _Writer) -> bool:
            status = await writer.execute(
                "UPDATE api_key SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL",
                utc_now(),
                name,
            )
            return bool(status == "UPDATE 1")

        return await self._write(work)

    # -- moving a whole database ---------------------------------------------------------

    async def is_empty(self) -> bool:
        any_rows = " OR ".join(f"EXISTS (SELECT 1 FROM {table.name})" for table in TABLES)
        return not await self._fetchval(f"SELECT {any_rows}")

    def dump_table(self, table: Table, *, batch_size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        return dumped(table, batch_size, DIALECT, self._fetch)

    async def load_tables(
        self, batches: AsyncIterable[tuple[Table, list[tuple[Any, ...]]]], *, replace: bool
    ) -> dict[str, int]:
        async def work(writer: _Writer) -> dict[str, int]:
            if replace:
                await writer.execute(f"TRUNCATE {', '.join(t.name for t in TABLES)}")
            written = {table.name: 0 for table in TABLES}
            async for table, batch in batches:
                await writer.copy(table, batch)
                written[table.name] += len(batch)
            for name in ("connection_info", "connection_change"):
                await writer.next_ids_after_given(name)
            return written

        try:
            return await self._write(work)
        finally:
            self._reference_generation += 1

    # -- syncing from OCM's API ----------------------------------------------------------

    async def sync_checkpoint(self, country_code: str) -> SyncCheckpoint | None:
        sql = f"SELECT {', '.join(SYNC_STATE_COLUMNS)} FROM sync_state WHERE country_code = $1"
        rows = await self._fetch(sql, country_code)
        return SyncCheckpoint(*rows[0]) if rows else None

    async def write_synced_sites(
        self,
        sites: Sequence[SiteRecord],
        connections: Sequence[ConnectionWrite],
        checkpoint: SyncCheckpoint,
    ) -> ImportCounts:
        async with self._transaction() as writer:
            counts = await writer.write_sites(sites, connections, True)
            await writer.upsert_checkpoint(checkpoint)
        return counts


class _Writer:
    """One connection inside a transaction, counting what it runs."""

    def __init__(self, connection: asyncpg.Connection, counted: Callable[[str], str]) -> None:
        self._connection = connection
        self._counted = counted

    async def execute(self, sql: str, *params: Any) -> str:
        status: str = await self._run(self._connection.execute, sql, *params)
        return status

    async def fetchrow(self, sql: str, *params: Any) -> asyncpg.Record | None:
        row: asyncpg.Record | None = await self._run(self._connection.fetchrow, sql, *params)
        return row

    async def _run(self, run: Callable[..., Awaitable[Any]], sql: str, *params: Any) -> Any:
        """Every statement of a write transaction runs here: counted and observed."""
        with observed(Backend.POSTGRESQL, Kind.WRITE, sql) as statement:
            result = await run(self._counted(sql), *params)
            statement.rows = returned_rows(result)
        return result

    async def write_sites(
        self,
        sites: Sequence[SiteRecord],
        connections: Sequence[ConnectionWrite],
        replace_site_connections: bool,
    ) -> ImportCounts:
        counts = ImportCounts()
        counts.sites.read = len(sites)
        counts.connections.read = len(connections)
        if sites:
            counts.sites.written = await self.upsert(
                "charge_point", SITE_COLUMNS, [astuple(s) for s in sites]
            )
        if connections:
            counts.connections.written = await self.upsert(
                "connection_info",
                CONNECTION_WRITE_COLUMNS,
                [connection_write_row(c) for c in connections],
            )
            await self.next_ids_after_given("connection_info")
        if replace_site_connections and sites:
            # Upserts went first, so a kept connection already points at its site.
            await self.execute(
                "DELETE FROM connection_info WHERE charge_point_id = ANY($1::integer[])"
                " AND NOT (id = ANY($2::integer[]))",
                [site.id for site in sites],
                [c.id for c in connections],
            )
        return counts

    async def upsert_checkpoint(self, checkpoint: SyncCheckpoint) -> None:
        rest = [c for c in SYNC_STATE_COLUMNS if c != "country_code"]
        placeholders = ", ".join(f"${i}" for i in range(1, len(SYNC_STATE_COLUMNS) + 1))
        await self.execute(
            f"INSERT INTO sync_state ({', '.join(SYNC_STATE_COLUMNS)}) VALUES ({placeholders})"
            f" ON CONFLICT (country_code) DO UPDATE"
            f" SET {', '.join(f'{c} = excluded.{c}' for c in rest)}",
            *astuple(checkpoint),
        )

    async def upsert(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> int:
        """Inserts or updates ``rows`` by id in one statement; returns how many rows were
        written (an unchanged row is neither touched nor counted)."""
        if not rows:
            return 0
        # Within one statement a row may be written once: the last of a repeated id wins,
        # as it would when the rows were written one after another.
        by_id = {row[0]: row for row in rows}
        arrays = [list(values) for values in zip(*by_id.values(), strict=True)]
        unnest = ", ".join(f"${i}::{_type(c)}[]" for i, c in enumerate(columns, start=1))
        rest = [c for c in columns if c != "id"]
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({unnest})"
            f" ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in rest)}"
            f" WHERE ({', '.join(f'{table}.{c}' for c in rest)})"
            f" IS DISTINCT FROM ({', '.join(f'excluded.{c}' for c in rest)})"
            " RETURNING id"
        )
        written = await self._run(self._connection.fetch, sql, *arrays)
        return len(written)

    async def copy(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows written with COPY: the fastest way in, for a table being filled."""
        sql = self._counted(f"COPY {table.name}")
        with observed(Backend.POSTGRESQL, Kind.WRITE, sql):
            await self._connection.copy_records_to_table(
                table.name, records=rows, columns=list(table.columns)
            )

    async def next_ids_after_given(self, table: str) -> None:
        """Moves the table's id sequence past the largest id, after rows were written with
        ids of their own, so the next row made here does not take one of theirs. Never
        back (nextval - 1 is the last id handed out): a deleted connection's id, named
        by its change log, is not handed out again."""
        largest = (
            LARGEST_CONNECTION_ID_SQL
            if table == "connection_info"
            else f"SELECT max(id) FROM {table}"
        )
        sequence = f"pg_get_serial_sequence('{table}', 'id')"
        await self.execute(
            f"SELECT setval({sequence}, greatest(({largest}), nextval({sequence}) - 1, 1))"
        )

    async def log_change(
        self,
        action: ChangeAction,
        actor: str,
        before: ConnectionRecord | None,
        after: ConnectionRecord | None,
    ) -> ConnectionChange:
        subject = after or before
        assert subject is not None
        changed_at = utc_now()
        change_id = await self._run(
            self._connection.fetchval,
            "INSERT INTO connection_change"
            " (connection_id, action, actor, changed_at, before, after)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            subject.id,
            action.value,
            actor,
            changed_at,
            snapshot(before),
            snapshot(after),
        )
        return ConnectionChange(change_id, subject.id, action, actor, changed_at, before, after)


def _newest_migration() -> int:
    migrations = migration_files("postgres")
    return migrations[-1][0] if migrations else 0


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """The pool's reset of a released connection, after asyncpg has rolled back any open
    transaction: nothing more. Its default sends RESET ALL, CLOSE ALL, UNLISTEN * and
    pg_advisory_unlock_all() on every release, a second round trip for each one-statement
    read, to undo session state this repository never makes (it sets nothing, listens to
    nothing, and its one advisory lock is the migration's, released at commit)."""


def _unreachable(error: BaseException) -> ServerUnreachable:
    return ServerUnreachable(open_failure(error))


class PostgresDialect:
    def param(self, params: list[Any], value: Any, column: str | None = None) -> str:
        params.append(value)
        cast = _PARAM_TYPES.get(column or "")
        return f"${len(params)}::{cast}" if cast else f"${len(params)}"

    def in_list(self, params: list[Any], column: str, values: Sequence[int]) -> str:
        params.append(list(values))
        return f"{column} = ANY(${len(params)}::integer[])"

    def in_text_list(self, params: list[Any], column: str, values: Sequence[str]) -> str:
        params.append(list(values))
        return f"{column} = ANY(${len(params)}::text[])"

    def least(self, first: str, second: str) -> str:
        return f"least({first}, {second})"

    def located_in(self, params: list[Any], boxes: Sequence[LatLonBox]) -> str:
        # Written as the GiST index ix_charge_point_location's expression, so it serves
        # the search (two boxes: a BitmapOr of two index scans). ``<@`` counts a point
        # on the edge as inside, with PostgreSQL's geometric tolerance: a superset.
        searches = []
        for box in boxes:
            west = self.param(params, box.west, "longitude")
            south = self.param(params, box.south, "latitude")
            east = self.param(params, box.east, "longitude")
            north = self.param(params, box.north, "latitude")
            searches.append(
                f"point(longitude, latitude) <@ box(point({west}, {south}), point({east}, {north}))"
            )
        return f"({' OR '.join(searches)})"

    def table_sample(self, params: list[Any], percent: float) -> str | None:
        # Whole pages at random (SYSTEM), a fixed seed so a plan does not flip between
        # two runs of one request.
        return f"TABLESAMPLE SYSTEM ({self.param(params, percent)}::real) REPEATABLE (16)"

    def spatial_candidates(self, params: list[Any], boxes: Sequence[LatLonBox]) -> str:
        return f"SELECT id FROM charge_point WHERE {self.located_in(params, boxes)}"


DIALECT: Final = PostgresDialect()
"""Public so tests and benchmarks can build the very statements this backend runs."""
