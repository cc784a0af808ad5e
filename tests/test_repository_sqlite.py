"""The SQLite repository: migrations, pragmas, upserts, keyset pages and their query plans."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gql.repository.models import (
    ConnectionFilter,
    ConnectionWrite,
    PageQuery,
    ReferenceKind,
    SeekKey,
    SiteRecord,
    SortOrder,
    StatusTypeRecord,
)
from gql.repository.sqlite import SchemaTooNew, SqliteRepository
from gql.seed_files import migration_files
from gql.seeding import seed_reference


async def test_a_new_file_is_migrated_to_the_newest_version(tmp_path: Path) -> None:
    repository = await SqliteRepository.open(tmp_path / "new.db")
    try:
        assert await repository.schema_version() == migration_files()[-1][0]
    finally:
        await repository.close()
    with sqlite3.connect(tmp_path / "new.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    assert {"connection_info", "charge_point", "connection_type", "status_type"} <= tables


async def test_opening_again_does_not_migrate_again(tmp_path: Path) -> None:
    db = tmp_path / "again.db"
    await (await SqliteRepository.open(db)).close()
    repository = await SqliteRepository.open(db)
    try:
        # Only the pragmas, the version check and the readers' pragmas run: no DDL.
        assert repository.statement_count < 15
        assert await repository.schema_version() == migration_files()[-1][0]
    finally:
        await repository.close()


async def test_refuses_a_database_from_a_newer_version(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA user_version = 999")
    with pytest.raises(SchemaTooNew, match="999"):
        await SqliteRepository.open(db)


async def test_foreign_keys_are_enforced(empty_repository: SqliteRepository) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        await empty_repository.write_sites(
            [SiteRecord(id=1)],
            [ConnectionWrite(id=1, charge_point_id=1, connection_type_id=12345)],
            replace_site_connections=False,
        )
    # The failed transaction left nothing behind, not even the site.
    page = await empty_repository.connection_page(
        PageQuery(filter=ConnectionFilter(), order=SortOrder.ID_ASC, limit=10)
    )
    assert page == []


async def test_upserts_count_only_real_changes(empty_repository: SqliteRepository) -> None:
    await seed_reference(empty_repository)
    sites = [SiteRecord(id=7, title="Depot")]
    connections = [
        ConnectionWrite(id=70, charge_point_id=7, connection_type_id=25, amps=32, voltage=230),
        ConnectionWrite(id=71, charge_point_id=7, power_kw=50, current_type_id=30),
    ]
    first = await empty_repository.write_sites(sites, connections, replace_site_connections=True)
    assert (first.sites.written, first.connections.written) == (1, 2)
    again = await empty_repository.write_sites(sites, connections, replace_site_connections=True)
    assert (again.sites.written, again.connections.written) == (0, 0)
    changed = [connections[0], ConnectionWrite(id=71, charge_point_id=7, power_kw=150)]
    third = await empty_repository.write_sites(sites, changed, replace_site_connections=True)
    assert third.connections.written == 1
    rows = await empty_repository.connections_by_ids([70, 71])
    assert rows[70].power_kw == 7.4  # derived on write from 32 A x 230 V
    assert rows[71].power_kw == 150


async def test_replacing_a_site_removes_its_dropped_connections(
    empty_repository: SqliteRepository,
) -> None:
    await seed_reference(empty_repository)
    site = [SiteRecord(id=1)]
    both = [ConnectionWrite(id=10, charge_point_id=1), ConnectionWrite(id=11, charge_point_id=1)]
    await empty_repository.write_sites(site, both, replace_site_connections=True)
    await empty_repository.write_sites(site, both[:1], replace_site_connections=True)
    assert set(await empty_repository.connections_by_ids([10, 11])) == {10}


async def test_reference_writes_bump_the_generation(empty_repository: SqliteRepository) -> None:
    before = empty_repository.reference_generation
    await empty_repository.upsert_reference(
        ReferenceKind.STATUS_TYPE, [StatusTypeRecord(id=1, title="x")]
    )
    assert empty_repository.reference_generation > before
    rows = await empty_repository.reference_rows(ReferenceKind.STATUS_TYPE)
    assert rows == [StatusTypeRecord(id=1, title="x")]


async def test_booleans_come_back_as_booleans(empty_repository: SqliteRepository) -> None:
    await seed_reference(empty_repository)
    statuses = await empty_repository.reference_rows(ReferenceKind.STATUS_TYPE)
    unknown = next(s for s in statuses if s.id == 0)
    assert isinstance(unknown, StatusTypeRecord)
    assert unknown.is_operational is None
    assert unknown.is_user_selectable is True


@pytest.mark.parametrize("order", list(SortOrder))
@pytest.mark.parametrize(
    "condition",
    [
        ConnectionFilter(),
        ConnectionFilter(min_power_kw=20, max_power_kw=60),
        ConnectionFilter(connection_type_ids=[25]),
        ConnectionFilter(charge_point_ids=[1_000_000_001]),
        ConnectionFilter(is_operational=True),
    ],
    ids=["none", "power", "type", "site", "operational"],
)
async def test_pages_are_seeks_on_an_index(
    demo_db: Path, order: SortOrder, condition: ConnectionFilter
) -> None:
    """A page deep in the table must not scan or sort: its plan is an index search."""
    captured: list[str] = []
    repository = await SqliteRepository.open(demo_db)
    try:
        repository.add_statement_listener(captured.append)
        seek = SeekKey(order, 1_000_001_500, 22.0)
        await repository.connection_page(
            PageQuery(filter=condition, order=order, limit=100, after=seek)
        )
    finally:
        await repository.close()
    (sql,) = [s for s in captured if s.startswith("SELECT")]
    with sqlite3.connect(demo_db) as raw:
        plan = " | ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert "SEARCH connection_info USING" in plan or (
        "SCAN connection_info USING" in plan and "INDEX" in plan
    ), plan
    if condition == ConnectionFilter():
        # The seek and the order are served by one index: no scan of earlier rows, no sort.
        assert "TEMP B-TREE" not in plan, plan
        assert "SEARCH" in plan, plan
