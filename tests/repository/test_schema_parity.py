"""The SQLite and PostgreSQL schemas cannot drift apart.

A freshly migrated database of each backend is read back from the database itself
(SQLite: PRAGMA table_xinfo / index_list / index_info; PostgreSQL: information_schema and
pg_index), not from the migration files, and the two descriptions must be equal: tables,
columns with their type family, nullability and whether they are generated, primary keys,
unique constraints, and indexes by name with their columns in order.

Left out: SQLite's internal tables (sqlite_*), PostgreSQL's ocm_gql_schema_version
(SQLite keeps its version in PRAGMA user_version), and the indexes that only carry a
primary key or a unique constraint (their names are each engine's own; the key or
constraint itself is compared).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from gql.data.seed_files import migration_files
from gql.repository.factory import open_repository
from gql.settings import Settings
from tests.databases import throwaway_postgres


@dataclass(frozen=True)
class Column:
    family: str
    """integer, real, text, blob or boolean."""
    nullable: bool
    generated: bool


@dataclass
class Table:
    columns: dict[str, Column] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    unique: set[tuple[str, ...]] = field(default_factory=set)
    indexes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Named indexes (CREATE INDEX): their columns, in order."""


Schema = dict[str, Table]

# The spatial index is each backend's own by design: an R*Tree virtual table (with its
# shadow tables) on SQLite, a GiST index on an expression on PostgreSQL.
_SQLITE_SPATIAL_TABLE = "charge_point_location"
_POSTGRES_SPATIAL_INDEX = "ix_charge_point_location"


def _is_boolean(column: str) -> bool:
    """SQLite stores booleans as INTEGER: these columns hold them."""
    return column.startswith("is_") or column == "read_only"


_SQLITE_FAMILIES = {"INTEGER": "integer", "REAL": "real", "TEXT": "text", "BLOB": "blob"}
_POSTGRES_FAMILIES = {
    "smallint": "integer",
    "integer": "integer",
    "bigint": "integer",
    "real": "real",
    "double precision": "real",
    "text": "text",
    "character varying": "text",
    "bytea": "blob",
    "boolean": "boolean",
}


def sqlite_schema(path: Path) -> Schema:
    connection = sqlite3.connect(path)
    try:
        schema: Schema = {}
        names = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE ?",
            (f"{_SQLITE_SPATIAL_TABLE}%",),
        ).fetchall()
        for (name,) in names:
            table = schema[name] = Table()
            key: list[tuple[int, str]] = []
            # cid, name, type, notnull, default, pk, hidden (2, 3: generated)
            for _, column, type_, notnull, _, pk, hidden in connection.execute(
                f"PRAGMA table_xinfo({name})"
            ):
                family = _SQLITE_FAMILIES[type_.upper()]
                if family == "integer" and _is_boolean(column):
                    family = "boolean"
                # A primary key column is never null here: SQLite's rowid one cannot be,
                # and the text keys (api_key.key_id) are always given.
                nullable = not notnull and not pk
                table.columns[column] = Column(family, nullable, hidden in (2, 3))
                if pk:
                    key.append((pk, column))
            table.primary_key = tuple(column for _, column in sorted(key))
            # seq, name, unique, origin (c: CREATE INDEX, u: UNIQUE, pk), partial
            for _, index, unique, origin, _ in connection.execute(f"PRAGMA index_list({name})"):
                columns = tuple(row[2] for row in connection.execute(f"PRAGMA index_info({index})"))
                if origin == "u":
                    table.unique.add(columns)
                elif origin == "c":
                    table.indexes[index] = columns
                    if unique:
                        table.unique.add(columns)
        return schema
    finally:
        connection.close()


async def read_postgres_schema(url: str) -> Schema:
    connection = await asyncpg.connect(url)
    try:
        return await postgres_schema(connection)
    finally:
        await connection.close()


async def postgres_schema(connection: asyncpg.Connection) -> Schema:
    schema: Schema = {}
    columns = await connection.fetch(
        "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable, c.is_generated"
        " FROM information_schema.columns c JOIN information_schema.tables t"
        " USING (table_schema, table_name)"
        " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        " AND c.table_name <> 'ocm_gql_schema_version'"
        " ORDER BY c.table_name, c.ordinal_position"
    )
    for row in columns:
        table = schema.setdefault(row["table_name"], Table())
        table.columns[row["column_name"]] = Column(
            _POSTGRES_FAMILIES[row["data_type"]],
            row["is_nullable"] == "YES",
            row["is_generated"] == "ALWAYS",
        )
    indexes = await connection.fetch(
        "SELECT t.relname AS table_name, i.relname AS index_name, x.indisprimary,"
        " x.indisunique, con.contype::text AS contype,"
        " array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)"
        "  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
        "  ORDER BY k.n)::text[] AS columns"
        " FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_class t ON t.oid = x.indrelid"
        " JOIN pg_namespace s ON s.oid = t.relnamespace"
        " LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid"
        " AND con.contype IN ('p', 'u')"
        " WHERE s.nspname = 'public' AND t.relname <> 'ocm_gql_schema_version'"
        " AND i.relname <> $1",
        _POSTGRES_SPATIAL_INDEX,
    )
    for row in indexes:
        table = schema[row["table_name"]]
        index_columns = tuple(row["columns"])
        if row["indisprimary"]:
            table.primary_key = index_columns
        elif row["contype"] == "u":
            table.unique.add(index_columns)
        else:
            table.indexes[row["index_name"]] = index_columns
            if row["indisunique"]:
                table.unique.add(index_columns)
    return schema


def _migrate(url: str) -> None:
    async def run() -> None:
        repository = await open_repository(Settings(database_url=url))
        await repository.close()

    asyncio.run(run())


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A freshly migrated database on each backend: the SQLite file, the PostgreSQL URL."""
    path = tmp_path_factory.mktemp("parity") / "fresh.db"
    with throwaway_postgres() as url:
        _migrate(f"sqlite:///{path}")
        _migrate(url)
        yield path, url


def differences(left: Schema, right: Schema) -> list[str]:
    """What differs between two schemas, one line per difference (left: SQLite)."""
    found = [f"table {name} on one side only" for name in sorted(left.keys() ^ right.keys())]
    for name in sorted(left.keys() & right.keys()):
        a, b = left[name], right[name]
        for column in sorted(a.columns.keys() | b.columns.keys()):
            if a.columns.get(column) != b.columns.get(column):
                found.append(f"{name}.{column}: {a.columns.get(column)} != {b.columns.get(column)}")
        if a.primary_key != b.primary_key:
            found.append(f"{name} primary key: {a.primary_key} != {b.primary_key}")
        if a.unique != b.unique:
            found.append(f"{name} unique: {sorted(a.unique)} != {sorted(b.unique)}")
        for index in sorted(a.indexes.keys() | b.indexes.keys()):
            if a.indexes.get(index) != b.indexes.get(index):
                found.append(
                    f"{name} index {index}: {a.indexes.get(index)} != {b.indexes.get(index)}"
                )
    return found


def test_both_backends_have_the_same_schema(fresh: tuple[Path, str]) -> None:
    path, url = fresh
    sqlite = sqlite_schema(path)
    postgres = asyncio.run(read_postgres_schema(url))
    assert differences(sqlite, postgres) == []
    # What the queries need is there (on both, as they are equal).
    assert set(sqlite) >= {"connection_info", "connection_change", "api_key", "charge_point"}
    connection_info = sqlite["connection_info"]
    assert connection_info.indexes["ix_connection_info_power_asc"] == ("power_sort_asc", "id")
    assert connection_info.indexes["ix_connection_info_power_desc"] == ("power_sort_desc", "id")
    assert connection_info.columns["power_sort_asc"].generated
    assert sqlite["api_key"].unique == {("name",)}
    assert sqlite["connection_change"].primary_key == ("id",)


def test_a_drift_is_seen(fresh: tuple[Path, str]) -> None:
    """The comparison is not blind: one change on one side shows as a difference."""
    path, url = fresh
    sqlite = sqlite_schema(path)

    async def drifted() -> Schema:
        """The PostgreSQL schema with an index more and a column made NOT NULL, read
        inside a transaction that is then rolled back."""
        connection = await asyncpg.connect(url)
        try:
            transaction = connection.transaction()
            await transaction.start()
            await connection.execute("CREATE INDEX ix_extra ON connection_info (amps)")
            await connection.execute("ALTER TABLE charge_point ALTER COLUMN title SET NOT NULL")
            schema = await postgres_schema(connection)
            await transaction.rollback()
            return schema
        finally:
            await connection.close()

    found = differences(sqlite, asyncio.run(drifted()))
    assert found == [
        "charge_point.title: Column(family='text', nullable=True, generated=False)"
        " != Column(family='text', nullable=False, generated=False)",
        "connection_info index ix_extra: None != ('amps',)",
    ]
    assert differences(sqlite, asyncio.run(read_postgres_schema(url))) == []  # rolled back


def test_both_backends_have_the_same_migration_versions() -> None:
    sqlite = [version for version, _ in migration_files("sqlite")]
    assert sqlite == [version for version, _ in migration_files("postgres")]
    assert sqlite == list(range(1, len(sqlite) + 1))
