"""The spatial searches whose query plans each backend's tests read, and the sites they
run over: enough of them, clustered around towns like real ones, that a planner which
could read the whole table would rather (the plan must start from the spatial index)."""

from __future__ import annotations

import random

import pytest

from gql.repository.base import Repository
from gql.repository.models import (
    ConnectionFilter,
    ConnectionWrite,
    GeoBox,
    GeoRadius,
    SiteFilter,
    SiteHit,
    SiteOrder,
    SitePageQuery,
    SiteRecord,
    SiteSeekKey,
)
from gql.repository.postgres import PostgresRepository
from gql.repository.sqlite import SqliteRepository

SITE_COUNT = 30_000
_TOWNS = [(59.437, 24.7536), (64.1466, -21.9426), (52.52, 13.405), (-16.8, 179.9)]
_TALLINN = GeoRadius(59.437, 24.7536, radius_km=10)

each_spatial_page = pytest.mark.parametrize(
    "query",
    [
        SitePageQuery(SiteFilter(near=_TALLINN), SiteOrder.DISTANCE, limit=100),
        SitePageQuery(
            SiteFilter(near=_TALLINN),
            SiteOrder.DISTANCE,
            limit=100,
            after=SiteSeekKey(SiteOrder.DISTANCE, 5_000, 4.5),
        ),
        SitePageQuery(SiteFilter(near=_TALLINN), SiteOrder.ID_ASC, limit=100),
        SitePageQuery(SiteFilter(near=_TALLINN), SiteOrder.ID_DESC, limit=100),
        SitePageQuery(
            SiteFilter(near=_TALLINN, connections=ConnectionFilter(min_power_kw=50)),
            SiteOrder.DISTANCE,
            limit=100,
        ),
        SitePageQuery(
            SiteFilter(within=GeoBox(south=59.40, west=24.65, north=59.47, east=24.85)),
            SiteOrder.ID_ASC,
            limit=100,
        ),
        SitePageQuery(
            SiteFilter(within=GeoBox(south=-17.1, west=179.7, north=-16.5, east=-179.9)),
            SiteOrder.ID_ASC,
            limit=100,
        ),
        SitePageQuery(
            SiteFilter(near=GeoRadius(-16.8, 179.99, radius_km=10)), SiteOrder.DISTANCE, 100
        ),
    ],
    ids=[
        "near",
        "near-deep",
        "near-by-id",
        "near-by-id-desc",
        "near-with-connections",
        "within",
        "within-antimeridian",
        "near-antimeridian",
    ],
)


# Searches in a share of the sites too small to fill a page by id within its probe's
# window (about 1%), or by distance: the repository reads the index.
SMALL_AREA_PAGES = pytest.mark.parametrize(
    "query",
    [
        SitePageQuery(SiteFilter(near=_TALLINN), SiteOrder.DISTANCE, limit=100),
        SitePageQuery(
            SiteFilter(within=GeoBox(south=59.40, west=24.65, north=59.47, east=24.85)),
            SiteOrder.ID_ASC,
            limit=100,
        ),
    ],
    ids=["near", "within"],
)

# A map view over the whole of one town's cluster: a quarter of the sites, so a page by id
# fills within its probe's window, and the repository scans instead.
LARGE_AREA_PAGES = pytest.mark.parametrize(
    "query",
    [
        SitePageQuery(
            SiteFilter(within=GeoBox(south=57.0, west=20.0, north=62.0, east=30.0)),
            order,
            limit=100,
        )
        for order in (SiteOrder.ID_ASC, SiteOrder.ID_DESC)
    ]
    + [SitePageQuery(SiteFilter(near=GeoRadius(59.437, 24.7536, 300)), SiteOrder.ID_ASC, 100)],
    ids=["box-by-id", "box-by-id-desc", "radius-by-id"],
)


async def write_spread_sites(repository: Repository) -> None:
    """SITE_COUNT sites, most within 30 km of a town, a connection each."""
    rng = random.Random(16)
    sites: list[SiteRecord] = []
    for site_id in range(1, SITE_COUNT + 1):
        latitude, longitude = rng.choice(_TOWNS)
        latitude += rng.gauss(0, 0.15)
        longitude = (longitude + rng.gauss(0, 0.3) + 180) % 360 - 180
        sites.append(SiteRecord(id=site_id, latitude=latitude, longitude=longitude))
    connections = [
        ConnectionWrite(id=site.id, charge_point_id=site.id, power_kw=float(site.id % 150))
        for site in sites
    ]
    for start in range(0, SITE_COUNT, 5_000):
        await repository.write_sites(
            sites[start : start + 5_000],
            connections[start : start + 5_000],
            replace_site_connections=False,
        )
    await repository.bulk_write_done(len(connections))


async def page_and_statements(
    repository: SqliteRepository | PostgresRepository, query: SitePageQuery
) -> tuple[list[SiteHit], list[str]]:
    """The page, and the statements the repository ran for it (as run); the repository is
    closed afterwards."""
    seen: list[str] = []
    repository.add_statement_listener(seen.append)
    try:
        return await repository.site_page(query), seen
    finally:
        await repository.close()
