"""What only the PostgreSQL backend does: migrations under an advisory lock, its schema
version table, and query plans. The Protocol's behaviour is tested on every backend in
test_repository.py."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import pytest

from gql.data.seed_files import migration_files
from gql.data.seeding import seed_demo, seed_reference
from gql.repository.base import SchemaTooNew
from gql.repository.models import (
    ConnectionFilter,
    PageQuery,
    SeekKey,
    SiteOrder,
    SitePageQuery,
    SortOrder,
)
from gql.repository.postgres import PostgresRepository
from gql.repository.postgres.repository import DIALECT
from gql.repository.site_statements import SitePlan, site_page_statement
from tests.conftest import REPO_ROOT
from tests.databases import throwaway_postgres
from tests.repository.page_plans import each_filter, each_page, one_index_serves_seek_and_order
from tests.repository.site_plans import (
    LARGE_AREA_PAGES,
    SITE_COUNT,
    each_spatial_page,
    page_and_statements,
    write_spread_sites,
)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with throwaway_postgres() as url:
        yield url


async def _versions(url: str) -> list[int]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch("SELECT version FROM ocm_gql_schema_version ORDER BY 1")
    finally:
        await connection.close()
    return [row[0] for row in rows]


def test_both_backends_have_the_same_migration_versions() -> None:
    sqlite = [version for version, _ in migration_files("sqlite")]
    assert sqlite == [version for version, _ in migration_files("postgres")]
    assert sqlite == list(range(1, len(sqlite) + 1))


def test_processes_starting_at_once_migrate_the_database_once(postgres_url: str) -> None:
    """Three `seed`s start together on an empty database: the advisory lock lets one
    migrate while the others wait, then they find the schema in place."""
    seeds = [
        subprocess.Popen(
            [sys.executable, "-m", "gql", "seed", "--database-url", postgres_url],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for seed in seeds:
        _out, err = seed.communicate(timeout=120)
        assert seed.returncode == 0, err
    newest = [version for version, _ in migration_files("postgres")]
    assert asyncio.run(_versions(postgres_url)) == newest


async def test_opening_again_runs_no_migration(postgres_url: str) -> None:
    await (await PostgresRepository.open(postgres_url)).close()
    repository = await PostgresRepository.open(postgres_url)
    try:
        assert await repository.schema_version() == migration_files("postgres")[-1][0]
    finally:
        await repository.close()
    assert await _versions(postgres_url) == [v for v, _ in migration_files("postgres")]


async def test_refuses_a_database_from_a_newer_version(postgres_url: str) -> None:
    await (await PostgresRepository.open(postgres_url)).close()
    connection = await asyncpg.connect(postgres_url)
    try:
        await connection.execute("INSERT INTO ocm_gql_schema_version VALUES (999, 'later')")
    finally:
        await connection.close()
    with pytest.raises(SchemaTooNew, match="999"):
        await PostgresRepository.open(postgres_url)


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    async def fill(url: str) -> None:
        repository = await PostgresRepository.open(url)
        try:
            await seed_reference(repository)
            await seed_demo(repository, 20_000, seed=1)
        finally:
            await repository.close()

    with throwaway_postgres() as url:
        asyncio.run(fill(url))
        yield url


@pytest.fixture
async def demo(demo_url: str) -> AsyncIterator[tuple[PostgresRepository, list[Any]]]:
    """The demo repository, and the (statement, parameters) it sends from now on."""
    repository = await PostgresRepository.open(demo_url)
    sent: list[Any] = []
    fetch = repository._fetch

    async def spied(sql: str, *params: Any, **kind: Any) -> Any:
        sent.append((sql, params))
        return await fetch(sql, *params, **kind)

    repository._fetch = spied  # type: ignore[method-assign]
    yield repository, sent
    await repository.close()


@each_page
@each_filter
async def test_pages_are_seeks_on_an_index(
    demo: tuple[PostgresRepository, list[Any]], order: SortOrder, condition: ConnectionFilter
) -> None:
    """A page deep in the table must not read the table whole: its plan starts from an
    index; without a filter, or with a power range in a power order, one index serves
    the seek and the order, so there is no sort."""
    repository, sent = demo
    seek = SeekKey(order, 1_000_010_000, 22.0)
    await repository.connection_page(
        PageQuery(filter=condition, order=order, limit=100, after=seek)
    )
    ((sql, params),) = sent
    connection = await asyncpg.connect(repository.url)
    try:
        plan = "\n".join(row[0] for row in await connection.fetch(f"EXPLAIN {sql}", *params))
    finally:
        await connection.close()
    assert "Seq Scan on connection_info" not in plan, plan
    if one_index_serves_seek_and_order(order, condition):
        assert "Sort" not in plan, plan
        assert "Index Scan" in plan, plan


@pytest.fixture(scope="module")
def spread_url() -> Iterator[str]:
    async def fill(url: str) -> None:
        repository = await PostgresRepository.open(url)
        try:
            await write_spread_sites(repository)
        finally:
            await repository.close()

    with throwaway_postgres() as url:
        asyncio.run(fill(url))
        yield url


def _plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


@each_spatial_page
async def test_spatial_searches_start_from_the_gist_index(
    spread_url: str, query: SitePageQuery
) -> None:
    """A radius or a map view reads the GiST index on point(longitude, latitude) (two
    scans of it, or'ed, across the antimeridian), never charge_point whole. The table
    is analysed and large enough that the planner picks the index on its own."""
    sql, params = site_page_statement(query, DIALECT)
    connection = await asyncpg.connect(spread_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM charge_point") == SITE_COUNT
        (explained,) = json.loads(
            await connection.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *params)
        )
    finally:
        await connection.close()
    nodes = list(_plan_nodes(explained["Plan"]))
    on_sites = [node for node in nodes if node.get("Relation Name") == "charge_point"]
    assert on_sites, nodes
    assert all(node["Node Type"] != "Seq Scan" for node in on_sites), nodes
    assert any(node.get("Index Name") == "ix_charge_point_location" for node in nodes), nodes
    hits, seen = await page_and_statements(await PostgresRepository.open(spread_url), query)
    probe, page = seen  # a window by id, a sample of the table by distance
    assert ("TABLESAMPLE" in probe) is (query.order is SiteOrder.DISTANCE), probe
    assert page in (sql, site_page_statement(query, DIALECT, SitePlan.SCAN)[0])
    assert 0 < len(hits) <= query.limit


@LARGE_AREA_PAGES
async def test_a_large_area_is_read_in_id_order_without_the_gist_index(
    spread_url: str, query: SitePageQuery
) -> None:
    """A map view holding thousands of sites: after the probe, the page walks the
    primary key in the page's order and stops at its limit; it neither reads the GiST
    index nor sorts. Reading 100 of a quarter of the table costs a fraction of the
    buffers that collecting every candidate through the index does."""
    hits, seen = await page_and_statements(await PostgresRepository.open(spread_url), query)
    sql, params = site_page_statement(query, DIALECT, SitePlan.SCAN)
    assert seen[-1] == sql
    assert len(seen) == 2
    assert len(hits) == query.limit
    connection = await asyncpg.connect(spread_url)
    try:
        scanned = await _explained(connection, sql, params)
        by_index = await _explained(connection, *site_page_statement(query, DIALECT))
    finally:
        await connection.close()
    nodes = list(_plan_nodes(scanned["Plan"]))
    assert all(node.get("Index Name") != "ix_charge_point_location" for node in nodes), nodes
    assert all(node["Node Type"] not in ("Sort", "Seq Scan") for node in nodes), nodes
    assert any(node.get("Index Name") == "charge_point_pkey" for node in nodes), nodes
    assert _buffers(scanned) * 3 < _buffers(by_index), (scanned, by_index)


async def _explained(connection: asyncpg.Connection, sql: str, params: list[Any]) -> Any:
    (explained,) = json.loads(
        await connection.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", *params)
    )
    return explained


def _buffers(explained: dict[str, Any]) -> int:
    """The pages a run read, from cache or disk: its work, not its time."""
    plan = explained["Plan"]
    return int(plan["Shared Hit Blocks"]) + int(plan["Shared Read Blocks"])
