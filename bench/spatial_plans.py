"""What each plan of a spatial search costs on generated sites, and which one is chosen.

For every scenario (a radius or a map view, a page of 100 or a count) it times, on the
same database: the statement by the spatial index alone (the only plan before the probe
existed), the scan alone, the probe (0 where none runs), and the repository's method as
shipped (probe, then the chosen plan). It checks first that both plans give the same rows.

    .venv/bin/python bench/spatial_plans.py                       # SQLite, made once
    .venv/bin/python bench/spatial_plans.py --database-url postgresql://postgres@127.0.0.1:5432/DB

The SQLite file is bench/.cache/spatial-plans-N.db, seeded once with ``ocm-gql seed
--demo N`` (2,000,000 connections make about 1,000,000 sites). A PostgreSQL database must
already hold the demo data (``ocm-gql seed --demo N --database-url URL``, then VACUUM
ANALYZE). Demo sites cluster around Estonian and Icelandic towns, Tallinn the busiest.

Measured (2 CPUs shared with other work, so +-30%; 1,018,751 sites; pages of 100; ms;
"index" is the statement of the only plan before the probe, "shipped" probe + plan):

    scenario (matches)                  SQLite index -> shipped   PostgreSQL index -> shipped
    1 km radius in a town, by id (2,833)        3.2 -> 3.1                4-18 -> 8-14
    1 km radius in a town, count                 10 -> 14                    4 -> 12
    10 km radius, by distance (62,658)          167 -> 170-300            160-200 -> 180-250
    10 km radius, by distance, deep             159 -> 184                141-160 -> 136-152
    10 km radius, by id                          41 -> 3.4                129-154 -> 2.4-3.8
    map view of most sites, by id (732,851)    1141 -> 1.4                349-668 -> 1.7-5
    map view of most sites, count              1878 -> 231                304-412 -> 236-331
    whole world, count (1,018,751)             2683 -> 257                361-395 -> 235
    500 km radius, by distance (732,851)       1879 -> 763                865-1139 -> 565
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from gql.repository.base import Repository
from gql.repository.models import (
    GeoBox,
    GeoRadius,
    SiteFilter,
    SiteOrder,
    SitePageQuery,
    SiteSeekKey,
)
from gql.repository.site_statements import (
    SitePlan,
    SpatialPlanning,
    candidates_probe_statement,
    chosen_count_plan,
    chosen_page_plan,
    page_probe_statement,
    site_count_statement,
    site_page_statement,
)
from gql.repository.statements import Dialect

ROOT = Path(__file__).resolve().parent.parent
TALLINN = GeoRadius(59.437, 24.7536, radius_km=10)
_TOWN = GeoRadius(64.1466, -21.9426, radius_km=1)  # Reykjavík, the second busiest
_WIDE = GeoRadius(59.437, 24.7536, radius_km=500)  # the largest radius allowed by default

Run = Callable[[str, list[Any]], Awaitable[list[Any]]]


@dataclass(frozen=True)
class Scenario:
    name: str
    filter: SiteFilter
    order: SiteOrder | None  # None: count_sites
    deep: bool = False  # a page after the match at 90% of the way


SCENARIOS = [
    Scenario("1 km radius in a town, by id", SiteFilter(near=_TOWN), SiteOrder.ID_ASC),
    Scenario("1 km radius in a town, by distance", SiteFilter(near=_TOWN), SiteOrder.DISTANCE),
    Scenario("1 km radius in a town, count", SiteFilter(near=_TOWN), None),
    Scenario("10 km radius, by distance", SiteFilter(near=TALLINN), SiteOrder.DISTANCE),
    Scenario("10 km radius, by distance, deep", SiteFilter(near=TALLINN), SiteOrder.DISTANCE, True),
    Scenario("10 km radius, by id", SiteFilter(near=TALLINN), SiteOrder.ID_ASC),
    Scenario("10 km radius, count", SiteFilter(near=TALLINN), None),
    Scenario(
        "city box, by id",
        SiteFilter(within=GeoBox(south=59.40, west=24.65, north=59.47, east=24.85)),
        SiteOrder.ID_ASC,
    ),
    Scenario(
        "region box, by id",
        SiteFilter(within=GeoBox(south=58.2, west=25.0, north=59.6, east=28.3)),
        SiteOrder.ID_ASC,
    ),
    Scenario(
        "region box, count",
        SiteFilter(within=GeoBox(south=58.2, west=25.0, north=59.6, east=28.3)),
        None,
    ),
    *(
        Scenario(f"map view of most sites, {label}", SiteFilter(within=_ESTONIA), order)
        for _ESTONIA in [GeoBox(south=57.3, west=21.5, north=59.9, east=28.4)]
        for label, order in (
            ("by id", SiteOrder.ID_ASC),
            ("by id desc", SiteOrder.ID_DESC),
            ("count", None),
        )
    ),
    Scenario("whole world, by id", SiteFilter(within=GeoBox(-90, -180, 90, 180)), SiteOrder.ID_ASC),
    Scenario("whole world, count", SiteFilter(within=GeoBox(-90, -180, 90, 180)), None),
    Scenario(
        "500 km radius, by distance",
        SiteFilter(near=_WIDE),
        SiteOrder.DISTANCE,
    ),
    Scenario("500 km radius, by id", SiteFilter(near=_WIDE), SiteOrder.ID_ASC),
    Scenario("500 km radius, count", SiteFilter(near=_WIDE), None),
]


def statement(
    scenario: Scenario, plan: SitePlan, dialect: Dialect, after: SiteSeekKey | None
) -> tuple[str, list[Any]]:
    if scenario.order is None:
        return site_count_statement(scenario.filter, dialect, plan)
    query = SitePageQuery(scenario.filter, scenario.order, limit=100, after=after)
    return site_page_statement(query, dialect, plan)


async def timed(action: Callable[[], Awaitable[Any]], rounds: int) -> float:
    """The median of ``rounds`` runs, in milliseconds, after one untimed run."""
    await action()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def deep_key(scenario: Scenario, repository: Repository) -> SiteSeekKey | None:
    if not scenario.deep or scenario.order is None:
        return None
    every = await repository.site_page(SitePageQuery(scenario.filter, scenario.order, 100_000))
    hit = every[len(every) * 9 // 10]
    return SiteSeekKey(scenario.order, hit.site.id, hit.distance_km)


async def measure(
    repository: Repository, planning: SpatialPlanning, run: Run, dialect: Dialect, rounds: int
) -> None:
    print(
        f"{'scenario':38} {'matches':>9} {'probe':>8} {'index':>9} {'scan':>9}"
        f" {'shipped':>9}  chosen (ms, median of {rounds})"
    )
    for scenario in SCENARIOS:
        await measure_one(scenario, repository, planning, run, dialect, rounds)


async def measure_one(
    scenario: Scenario,
    repository: Repository,
    planning: SpatialPlanning,
    run: Run,
    dialect: Dialect,
    rounds: int,
) -> None:
    after = await deep_key(scenario, repository)
    answers = {}
    costs = {}
    for plan in SitePlan:
        sql, params = statement(scenario, plan, dialect, after)
        answers[plan] = await run(sql, params)
        costs[plan] = await timed(partial(run, sql, params), rounds)
    if answers[SitePlan.SCAN] != answers[SitePlan.SPATIAL_INDEX]:
        sys.exit(f"{scenario.name}: the two plans disagree")

    async def scalar(sql: str, params: list[Any]) -> int:
        return int((await run(sql, params))[0][0])

    query = None
    if scenario.order is None or scenario.order is SiteOrder.DISTANCE:
        chosen = await chosen_count_plan(scenario.filter, planning, dialect, scalar)
        cap = planning.every_match_from
        probe = (
            None
            if cap is None
            else candidates_probe_statement(scenario.filter, dialect, cap, planning.sample_percent)
        )
    else:
        query = SitePageQuery(scenario.filter, scenario.order, limit=100, after=after)
        chosen = await chosen_page_plan(query, planning, dialect, scalar)
        probe = page_probe_statement(query, dialect, planning)
    probe_ms = 0.0 if probe is None else await timed(partial(run, *probe), rounds)
    if scenario.order is None:
        shipped = await timed(partial(repository.count_sites, scenario.filter), rounds)
    else:
        query = SitePageQuery(scenario.filter, scenario.order, limit=100, after=after)
        shipped = await timed(partial(repository.site_page, query), rounds)
    matches = await repository.count_sites(scenario.filter)
    print(
        f"{scenario.name:38} {matches:>9,} {probe_ms:>8.2f}"
        f" {costs[SitePlan.SPATIAL_INDEX]:>9.2f} {costs[SitePlan.SCAN]:>9.2f}"
        f" {shipped:>9.2f}  {chosen.value}",
        flush=True,
    )


async def on_sqlite(path: Path, rounds: int) -> None:
    from gql.repository.sqlite import SqliteRepository
    from gql.repository.sqlite.repository import DIALECT

    repository = await SqliteRepository.open(path)
    raw = await aiosqlite.connect(path)
    try:

        async def run(sql: str, params: list[Any]) -> list[Any]:
            return list(await raw.execute_fetchall(sql, params))

        await measure(repository, repository.spatial_planning, run, DIALECT, rounds)
    finally:
        await raw.close()
        await repository.close()


async def on_postgres(url: str, rounds: int) -> None:
    from gql.repository.postgres import PostgresRepository
    from gql.repository.postgres.repository import DIALECT

    repository = await PostgresRepository.open(url)
    raw = await asyncpg.connect(url)
    try:

        async def run(sql: str, params: list[Any]) -> list[Any]:
            return [tuple(row) for row in await raw.fetch(sql, *params)]

        await measure(repository, repository.spatial_planning, run, DIALECT, rounds)
    finally:
        await raw.close()
        await repository.close()


def sqlite_file(connections: int) -> Path:
    path = ROOT / "bench" / ".cache" / f"spatial-plans-{connections}.db"
    if not path.exists():
        partial = path.with_suffix(".partial.db")
        partial.unlink(missing_ok=True)
        print(f"generating {path.relative_to(ROOT)} ({connections:,} connections), once")
        subprocess.run(
            [sys.executable, "-m", "gql", "seed", "--db", str(partial), "--demo", str(connections)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        partial.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=2_000_000)
    parser.add_argument("--db", type=Path, help="an already seeded SQLite file")
    parser.add_argument("--database-url", help="a seeded PostgreSQL database instead")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if args.database_url:
        asyncio.run(on_postgres(args.database_url, args.rounds))
    else:
        asyncio.run(on_sqlite(args.db or sqlite_file(args.connections), args.rounds))


if __name__ == "__main__":
    main()
