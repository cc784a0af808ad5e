"""Loading the shipped seed: the OCM reference lists and generated demo connections.

The seed files are the project's own (built from OCM's published lists by
``gql.data.seed_build``). Demo connections are drawn from a profile of real OCM data, so their
mix of connector types, power, status and site sizes looks like the real thing, and their
sites cluster around real towns (a search near a town finds many) with their country's
operators and usage types; the same ``seed`` always gives the same rows.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from gql.data.seed_files import seed_dir
from gql.repository.base import Repository
from gql.repository.models import (
    RECORD_BY_KIND,
    ConnectionWrite,
    ReferenceKind,
    SiteRecord,
    WriteCounts,
)

# Seed file key for each reference list; its entries use the record's field names.
REFERENCE_KEYS: dict[ReferenceKind, str] = {
    ReferenceKind.CONNECTION_TYPE: "connectionTypes",
    ReferenceKind.STATUS_TYPE: "statusTypes",
    ReferenceKind.LEVEL: "levels",
    ReferenceKind.SUPPLY_TYPE: "supplyTypes",
    ReferenceKind.OPERATOR: "operators",
    ReferenceKind.USAGE_TYPE: "usageTypes",
    ReferenceKind.COUNTRY: "countries",
}

# Demo rows get ids far above OCM's so they never collide with imported sites.
DEMO_ID_BASE = 1_000_000_000
_DEMO_BATCH = 50_000
# What every demo site is: operational, published, from OCM's contributors.
_OPERATIONAL = 50
_PUBLISHED = 200
_OCM_CONTRIBUTORS = 1
# Demo sites are created between 2012 and 2025 (minutes since the Unix epoch).
_DEMO_FIRST_MINUTE = 1_325_376_000 // 60
_DEMO_MINUTES = (1_735_689_600 - 1_325_376_000) // 60
# Mean Earth radius 6,371 km: 2 * pi * 6371 / 360 km per degree of a great circle.
_KM_PER_DEGREE = 111.195
# Near a pole a degree of longitude is almost no distance; this keeps the spread finite.
_MIN_COSINE = 0.01
# A random UUID's version (4) and variant (RFC 4122) bits, set over random ones.
_UUID_VERSION_4 = 4 << 76 | 0b10 << 62
_UUID_KEPT_BITS = ~(0xF << 76 | 0b11 << 62)
# Demo addresses are numbered 1 to this on their street.
_HOUSE_NUMBERS = 120
# For a country whose real addresses name no street.
_ANY_STREET = "Main Street"


def load_seed_json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((seed_dir() / name).read_bytes())
    return data


async def seed_reference(repository: Repository) -> dict[ReferenceKind, WriteCounts]:
    data = load_seed_json("reference.json")
    counts = {}
    for kind, key in REFERENCE_KEYS.items():
        record = RECORD_BY_KIND[kind]
        counts[kind] = await repository.upsert_reference(
            kind, [record(**entry) for entry in data[key]]
        )
    return counts


@dataclass(frozen=True, slots=True)
class DemoTown:
    """A real town demo sites cluster around: the median of its real sites' coordinates,
    and the deviation (km) of the normal law they spread by."""

    name: str
    country_id: int
    latitude: float
    longitude: float
    spread_km: float


@dataclass(frozen=True, slots=True)
class DemoCountry:
    """The mix of one country's real sites: operators and usage types with their counts,
    and the street names of its addresses."""

    operators: list[int]
    operator_weights: list[int]
    usage_types: list[int]
    usage_type_weights: list[int]
    streets: list[str]


@dataclass(frozen=True, slots=True)
class DemoProfile:
    """Weighted samples of real OCM data that demo rows are drawn from."""

    connections: list[dict[str, Any]]
    connection_weights: list[int]
    connections_per_site: list[int]
    site_weights: list[int]
    towns: list[DemoTown]
    town_weights: list[int]
    countries: dict[int, DemoCountry]

    @classmethod
    def load(cls) -> DemoProfile:
        data = load_seed_json("demo_profile.json")
        return cls(
            connections=[entry["connection"] for entry in data["connections"]],
            connection_weights=[entry["count"] for entry in data["connections"]],
            connections_per_site=[entry["connections"] for entry in data["sites"]],
            site_weights=[entry["count"] for entry in data["sites"]],
            towns=[
                DemoTown(
                    name=town["name"],
                    country_id=town["countryId"],
                    latitude=town["latitude"],
                    longitude=town["longitude"],
                    spread_km=town["spreadKm"],
                )
                for town in (entry["town"] for entry in data["towns"])
            ],
            town_weights=[entry["count"] for entry in data["towns"]],
            countries={
                entry["countryId"]: DemoCountry(
                    operators=[mix["id"] for mix in entry["operators"]],
                    operator_weights=[mix["count"] for mix in entry["operators"]],
                    usage_types=[mix["id"] for mix in entry["usageTypes"]],
                    usage_type_weights=[mix["count"] for mix in entry["usageTypes"]],
                    streets=entry["streets"] or [_ANY_STREET],
                )
                for entry in data["countries"]
            },
        )


class _TownDraws:
    """What one town's sites are drawn from; made once per town, used for every site."""

    def __init__(self, rng: random.Random, town: DemoTown, country: DemoCountry) -> None:
        self.town = town
        self.sites = 0
        # Degrees per km: the same everywhere north-south, shrinking with latitude east-west.
        self.latitude_sigma = town.spread_km / _KM_PER_DEGREE
        east_west = max(math.cos(math.radians(town.latitude)), _MIN_COSINE)
        self.longitude_sigma = town.spread_km / (_KM_PER_DEGREE * east_west)
        self.operator = _weighted(rng, country.operators, country.operator_weights)
        self.usage_type = _weighted(rng, country.usage_types, country.usage_type_weights)
        self.streets = country.streets


def demo_batches(
    total: int, seed: int, profile: DemoProfile, batch_size: int = _DEMO_BATCH
) -> Iterator[tuple[list[SiteRecord], list[ConnectionWrite]]]:
    """``total`` demo connections with their sites, in batches of whole sites. Each site
    lies around a real town (drawn by its number of real sites), spread by a normal law
    around its centre, with its country's mix of operators and usage types."""
    rng = random.Random(seed)
    # random() scaled, not randrange(): a fraction of its cost, as even for these sizes.
    gauss, uniform = rng.gauss, rng.random
    pick_connection = _weighted(rng, profile.connections, profile.connection_weights)
    pick_site_size = _weighted(rng, profile.connections_per_site, profile.site_weights)
    towns = [_TownDraws(rng, town, profile.countries[town.country_id]) for town in profile.towns]
    pick_town = _weighted(rng, towns, profile.town_weights)
    sites: list[SiteRecord] = []
    connections: list[ConnectionWrite] = []
    made = 0
    site_number = 0
    while made < total:
        site_number += 1
        site_id = DEMO_ID_BASE + site_number
        draws = pick_town()
        town = draws.town
        draws.sites += 1
        size = min(pick_site_size(), total - made)
        created = _DEMO_FIRST_MINUTE + int(uniform() * _DEMO_MINUTES)
        updated = created + int(uniform() * (_DEMO_FIRST_MINUTE + _DEMO_MINUTES - created))
        latitude = town.latitude + gauss(0.0, draws.latitude_sigma)
        longitude = town.longitude + gauss(0.0, draws.longitude_sigma)
        sites.append(
            SiteRecord(
                id=site_id,
                uuid=_uuid(rng.getrandbits(128)),
                title=f"{town.name} charger {draws.sites}",
                town=town.name,
                country_id=town.country_id,
                latitude=round(min(max(latitude, -90.0), 90.0), 6),
                longitude=round((longitude + 180.0) % 360.0 - 180.0, 6),
                data_provider_id=_OCM_CONTRIBUTORS,
                operator_id=draws.operator(),
                usage_type_id=draws.usage_type(),
                status_type_id=_OPERATIONAL,
                number_of_points=size,
                date_created=_minute_text(created),
                date_last_status_update=_minute_text(updated),
                address_line1=(
                    f"{draws.streets[int(uniform() * len(draws.streets))]}"
                    f" {1 + int(uniform() * _HOUSE_NUMBERS)}"
                ),
                submission_status_type_id=_PUBLISHED,
            )
        )
        for _ in range(size):
            made += 1
            connections.append(
                ConnectionWrite(
                    id=DEMO_ID_BASE + made, charge_point_id=site_id, **pick_connection()
                )
            )
        if len(connections) >= batch_size:
            yield sites, connections
            sites, connections = [], []
    if sites:
        yield sites, connections


async def seed_demo(repository: Repository, total: int, seed: int) -> tuple[int, int]:
    """Write ``total`` demo connections; returns (sites, connections) written."""
    sites_written = connections_written = 0
    for sites, connections in demo_batches(total, seed, DemoProfile.load()):
        counts = await repository.write_sites(sites, connections, replace_site_connections=True)
        sites_written += counts.sites.written
        connections_written += counts.connections.written
    await repository.bulk_write_done(connections_written)
    return sites_written, connections_written


def _weighted(rng: random.Random, items: list[Any], weights: list[int]) -> Callable[[], Any]:
    """Draws one of ``items`` by its weight (None when there are none): a bisection of
    the running totals, as random.choices does, without building a list per draw."""
    if not items:
        return lambda: None
    cumulative = list(itertools.accumulate(weights))
    total = float(cumulative[-1])
    draw = rng.random

    def pick() -> Any:
        return items[bisect.bisect(cumulative, draw() * total)]

    return pick


def _uuid(bits: int) -> str:
    """128 random bits as OCM writes a UUID (version 4): upper-case hex, 8-4-4-4-12."""
    bits = bits & _UUID_KEPT_BITS | _UUID_VERSION_4
    text = f"{bits:032X}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _minute_text(minute: int) -> str:
    """Minutes since the Unix epoch as a stored date-time (gql/domain/dates.py)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(minute * 60))
