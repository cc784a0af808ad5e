"""A small, hand-made set of sites for the charge point tests: a cluster around Tallinn
(some at one same point, for ties in distance), single sites in Tartu and Reykjavik, two
on either side of the antimeridian (Fiji), one without coordinates, one with every field
and one with none, and two that OCM hides (removed, not published). Written through the
repository, so every test knows each value it should read back."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from gql.repository.factory import open_repository
from gql.repository.models import ConnectionWrite, SiteRecord
from gql.settings import Settings
from tests.conftest import run_cli
from tests.databases import throwaway_database

TALLINN: Final = (59.437, 24.7536)
EE, IS, FJ = 74, 105, 78
FULL_SITE: Final = 100
BARE_SITE: Final = 99
UNLOCATED_SITE: Final = 501
REMOVED_SITE: Final = 601  # status type 200, Removed (Decommissioned)
UNPUBLISHED_SITE: Final = 602  # submission status 1, Submitted, Under Review
HIDDEN: Final = frozenset({REMOVED_SITE, UNPUBLISHED_SITE})
SAME_POINT: Final = (59.45, 24.80)
SAME_POINT_SITES: Final = (131, 132, 133)

FULL = SiteRecord(
    id=FULL_SITE,
    uuid="0f6e1c9a-1111-4b6a-9d7e-000000000100",
    title="Viru Keskus",
    town="Tallinn",
    country_id=EE,
    latitude=59.4368,
    longitude=24.7553,
    data_provider_id=1,
    operator_id=5,
    usage_type_id=4,
    status_type_id=50,
    number_of_points=4,
    date_created="2012-06-21T21:16:00Z",
    date_last_status_update="2023-02-01T08:30:15Z",
    address_line1="Viru väljak 4",
    address_line2="Parking level -2",
    state_or_province="Harju maakond",
    postcode="10111",
    access_comments="Enter from Narva mnt",
    related_url="https://example.org/viru",
    contact_telephone1="+372 600 0000",
    usage_cost="0.39 EUR/kWh",
    submission_status_type_id=200,
    general_comments="Ünïcode and 'quotes'",
    date_last_verified="2024-11-30T23:59:59Z",
)


def _cluster() -> list[SiteRecord]:
    rng = random.Random(16)
    sites = []
    for index, site_id in enumerate(range(101, 131)):
        sites.append(
            SiteRecord(
                id=site_id,
                title=f"Tallinn {site_id}",
                town="Tallinn",
                country_id=EE,
                latitude=TALLINN[0] + rng.uniform(-0.25, 0.25),
                longitude=TALLINN[1] + rng.uniform(-0.45, 0.45),
                operator_id=(3, 5, None)[index % 3],
                usage_type_id=(1, 4, 5, None)[index % 4],
                status_type_id=(50, 100, None, 0, 30)[index % 5],
                submission_status_type_id=(200, None)[index % 2],
            )
        )
    sites += [
        SiteRecord(
            id=site_id,
            title=f"Same point {site_id}",
            country_id=EE,
            latitude=SAME_POINT[0],
            longitude=SAME_POINT[1],
            status_type_id=50,
        )
        for site_id in SAME_POINT_SITES
    ]
    return sites


SITES: Final = [
    FULL,
    SiteRecord(id=BARE_SITE, latitude=59.40, longitude=24.70),
    *_cluster(),
    SiteRecord(id=201, title="Tartu", country_id=EE, latitude=58.3776, longitude=26.7290),
    SiteRecord(id=301, title="Reykjavik", country_id=IS, latitude=64.1466, longitude=-21.9426),
    SiteRecord(id=401, title="Fiji east", country_id=FJ, latitude=-17.8, longitude=179.95),
    SiteRecord(id=402, title="Fiji west", country_id=FJ, latitude=-17.8, longitude=-179.95),
    SiteRecord(id=UNLOCATED_SITE, title="Nowhere", country_id=EE),
    SiteRecord(
        id=REMOVED_SITE,
        title="Removed",
        country_id=EE,
        latitude=59.437,
        longitude=24.7536,
        status_type_id=200,
    ),
    SiteRecord(
        id=UNPUBLISHED_SITE,
        title="Under review",
        country_id=EE,
        latitude=59.437,
        longitude=24.7537,
        submission_status_type_id=1,
    ),
]


def _connections() -> list[ConnectionWrite]:
    """Every site but the bare one has one to three connections, ids site * 10 + n."""
    rng = random.Random(61)
    kinds = [(25, 20, 22.0, 2), (33, 30, 150.0, 3), (2, 30, 50.0, 3), (1036, 10, 7.4, 2)]
    connections = []
    for site in SITES:
        if site.id == BARE_SITE:
            continue
        for n in range(1, rng.randint(1, 3) + 1):
            type_id, current, power, level = rng.choice(kinds)
            connections.append(
                ConnectionWrite(
                    id=site.id * 10 + n,
                    charge_point_id=site.id,
                    connection_type_id=type_id,
                    current_type_id=current,
                    power_kw=power,
                    level_id=level,
                    status_type_id=rng.choice([50, 100, None]),
                    quantity=rng.randint(1, 4),
                )
            )
    return connections


CONNECTIONS: Final = _connections()


def visible_sites() -> list[SiteRecord]:
    return [site for site in SITES if site.id not in HIDDEN]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the mean earth radius (6,371.0088 km),
    written here apart from the server's, to check it."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


async def write_sample_sites(url: str) -> None:
    repository = await open_repository(Settings(database_url=url))
    try:
        await repository.write_sites(SITES, CONNECTIONS, replace_site_connections=True)
        await repository.bulk_write_done(len(CONNECTIONS))
    finally:
        await repository.close()


def sample_sites_database(backend: str, folder: Path) -> Iterator[str]:
    """A new database holding the reference lists and the sites above."""
    with throwaway_database(backend, folder) as url:
        run_cli("seed", "--database-url", url)
        asyncio.run(write_sample_sites(url))
        yield url
