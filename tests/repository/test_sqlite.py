"""What only the SQLite backend does: its file, pragmas, migrations by user_version,
transactions and query plans. The Protocol's behaviour is tested on every backend in
test_repository.py."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from gql.data.seed_files import migration_files
from gql.data.seeding import seed_reference
from gql.domain.power import effective_power_kw
from gql.repository.base import SchemaTooNew
from gql.repository.models import (
    ChangeAction,
    ConnectionFilter,
    PageQuery,
    SeekKey,
    SitePageQuery,
    SiteRecord,
    SortOrder,
)
from gql.repository.site_statements import SitePlan, site_page_statement
from gql.repository.sqlite import SqliteRepository
from gql.repository.sqlite.repository import DIALECT
from tests.conftest import run_cli
from tests.repository.page_plans import each_filter, each_page, one_index_serves_seek_and_order
from tests.repository.site_plans import (
    LARGE_AREA_PAGES,
    SITE_COUNT,
    SMALL_AREA_PAGES,
    each_spatial_page,
    page_and_statements,
    write_spread_sites,
)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    run_cli("seed", "--db", str(db), "--demo", "3000", "--seed", "1")
    return db


@pytest.fixture
async def sqlite_repository(tmp_path: Path) -> AsyncIterator[SqliteRepository]:
    repository = await SqliteRepository.open(tmp_path / "test.db")
    yield repository
    await repository.close()


async def test_a_new_file_is_migrated_to_the_newest_version(tmp_path: Path) -> None:
    repository = await SqliteRepository.open(tmp_path / "new.db")
    try:
        assert await repository.schema_version() == migration_files("sqlite")[-1][0]
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
        assert await repository.schema_version() == migration_files("sqlite")[-1][0]
    finally:
        await repository.close()


async def test_refuses_a_database_from_a_newer_version(tmp_path: Path) -> None:
    db = tmp_path / "future.db"
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA user_version = 999")
    with pytest.raises(SchemaTooNew, match="999"):
        await SqliteRepository.open(db)


@each_page
@each_filter
async def test_pages_are_seeks_on_an_index(
    demo_file: Path, order: SortOrder, condition: ConnectionFilter
) -> None:
    """A page deep in the table must not scan or sort: its plan is an index search."""
    captured: list[str] = []
    repository = await SqliteRepository.open(demo_file)
    try:
        repository.add_statement_listener(captured.append)
        seek = SeekKey(order, 1_000_001_500, 22.0)
        await repository.connection_page(
            PageQuery(filter=condition, order=order, limit=100, after=seek)
        )
    finally:
        await repository.close()
    (sql,) = [s for s in captured if s.startswith("SELECT")]
    with sqlite3.connect(demo_file) as raw:
        plan = " | ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert "SEARCH connection_info USING" in plan or (
        "SCAN connection_info USING" in plan and "INDEX" in plan
    ), plan
    # The seek and the order (and a power range on the same key) are served by one
    # index: no scan of earlier rows, no sort.
    if one_index_serves_seek_and_order(order, condition):
        assert "TEMP B-TREE" not in plan, plan
        assert "SEARCH" in plan, plan


async def test_statistics_are_gathered_so_filtered_power_pages_read_the_order_index(
    demo_file: Path,
) -> None:
    """Without ANALYZE, SQLite read a filter's index and sorted the whole match."""
    repository = await SqliteRepository.open(demo_file)
    captured: list[str] = []
    try:
        repository.add_statement_listener(captured.append)
        await repository.connection_page(
            PageQuery(
                filter=ConnectionFilter(min_power_kw=50, is_operational=True),
                order=SortOrder.POWER_KW_DESC,
                limit=100,
            )
        )
    finally:
        await repository.close()
    (sql,) = [s for s in captured if s.startswith("SELECT")]
    with sqlite3.connect(demo_file) as raw:
        assert raw.execute("SELECT count(*) FROM sqlite_stat1").fetchone()[0] > 0
        plan = " | ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}"))
    assert "ix_connection_info_power_desc" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


@pytest.fixture(scope="module")
def spread_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("spread") / "spread.db"

    async def fill() -> None:
        repository = await SqliteRepository.open(db)
        try:
            await write_spread_sites(repository)
        finally:
            await repository.close()

    asyncio.run(fill())
    return db


@each_spatial_page
async def test_spatial_searches_start_from_the_r_tree(
    spread_file: Path, query: SitePageQuery
) -> None:
    """A radius or a map view by the index plan reads the R*Tree's candidates and looks
    each up by id: it never reads charge_point whole."""
    sql, params = site_page_statement(query, DIALECT)
    with sqlite3.connect(spread_file) as raw:
        plan = " | ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert raw.execute("SELECT count(*) FROM charge_point_location").fetchone()[0] == SITE_COUNT
    assert "SCAN charge_point_location VIRTUAL TABLE INDEX" in plan, plan
    assert "SEARCH charge_point USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
    assert not re.search(r"SCAN charge_point\b", plan), plan
    # The repository answers in two statements: a probe, then this plan or the scan.
    repository = await SqliteRepository.open(spread_file)
    try:
        before = repository.statement_count
        hits = await repository.site_page(query)
        assert repository.statement_count - before == 2
    finally:
        await repository.close()
    assert 0 < len(hits) <= query.limit


@LARGE_AREA_PAGES
async def test_a_large_area_is_read_in_id_order_without_the_r_tree(
    spread_file: Path, query: SitePageQuery
) -> None:
    """A map view holding thousands of sites: the repository probes the R*Tree, then
    reads charge_point in id order (no sort, no R*Tree) and stops at the page's limit,
    which costs a fraction of the steps of SQLite's machine that collecting every
    candidate would (and less the larger the table: a scan's cost follows the share of
    sites inside, the index's their number)."""
    hits, seen = await page_and_statements(await SqliteRepository.open(spread_file), query)
    probe, page = seen  # as run, with their values in place
    assert "charge_point_location" in probe  # its candidates are counted first
    assert "charge_point_location" not in page
    sql, params = site_page_statement(query, DIALECT, SitePlan.SCAN)
    assert len(hits) == query.limit
    with sqlite3.connect(spread_file) as raw:
        plan = " | ".join(row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        assert "charge_point_location" not in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        assert re.search(r"SCAN charge_point\b", plan), plan
        scanned = _machine_steps(raw, sql, params)
        by_index = _machine_steps(raw, *site_page_statement(query, DIALECT))
    assert scanned * 3 < by_index, (scanned, by_index)


@SMALL_AREA_PAGES
async def test_a_small_area_costs_fewer_steps_through_the_r_tree(
    spread_file: Path, query: SitePageQuery
) -> None:
    """The other side of the choice: where the repository takes the index, a scan
    would cost more."""
    _, seen = await page_and_statements(await SqliteRepository.open(spread_file), query)
    assert "charge_point_location" in seen[-1]
    with sqlite3.connect(spread_file) as raw:
        by_index = _machine_steps(raw, *site_page_statement(query, DIALECT))
        scanned = _machine_steps(raw, *site_page_statement(query, DIALECT, SitePlan.SCAN))
    assert by_index < scanned, (by_index, scanned)


def _machine_steps(raw: sqlite3.Connection, sql: str, params: list[Any]) -> int:
    """The work of a statement, counted in hundreds of steps of SQLite's virtual machine
    (its progress handler), not timed."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    raw.set_progress_handler(step, 100)
    try:
        raw.execute(sql, params).fetchall()
    finally:
        raw.set_progress_handler(None, 0)
    return steps


# -- connection edits and their change log -----------------------------------------------


async def _site(repository: SqliteRepository) -> int:
    await seed_reference(repository)
    await repository.write_sites([SiteRecord(id=5)], [], replace_site_connections=False)
    return 5


async def test_a_create_is_logged_in_its_own_transaction(
    sqlite_repository: SqliteRepository,
) -> None:
    site = await _site(sqlite_repository)
    statements: list[str] = []
    sqlite_repository.add_statement_listener(statements.append)
    change = await sqlite_repository.create_connection(
        {"charge_point_id": site, "amps": 32, "voltage": 230, "current_type_id": 10},
        actor="alice",
    )
    assert change.action is ChangeAction.CREATE
    assert change.actor == "alice"
    assert change.before is None
    assert change.after is not None
    assert change.after.power_kw == effective_power_kw(None, 32, 230.0, 10)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", change.changed_at)
    # One transaction holds the row and its log entry.
    assert statements[0] == "BEGIN IMMEDIATE"
    assert statements[-1] == "COMMIT"
    assert statements.count("BEGIN IMMEDIATE") == statements.count("COMMIT") == 1
    assert [s.split(" (")[0] for s in statements if s.startswith("INSERT")] == [
        "INSERT INTO connection_info",
        "INSERT INTO connection_change",
    ]
    stored = await sqlite_repository.connections_by_ids([change.connection_id])
    assert stored[change.connection_id] == change.after
