"""Loading the shipped seed: the OCM reference lists and generated demo connections.

The seed files are the project's own (built from OCM's published lists by
``gql.seed_build``). Demo connections are drawn from a profile of real OCM connections,
so their mix of connector types, power, status and site sizes looks like the real thing;
the same ``seed`` always gives the same rows.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from gql.repository.base import Repository
from gql.repository.models import (
    RECORD_BY_KIND,
    ConnectionWrite,
    ReferenceKind,
    SiteRecord,
    WriteCounts,
)
from gql.seed_files import seed_dir

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
class DemoProfile:
    """Weighted samples of real OCM data that demo rows are drawn from."""

    connections: list[dict[str, Any]]
    connection_weights: list[int]
    connections_per_site: list[int]
    site_weights: list[int]
    countries: list[dict[str, Any]]
    country_weights: list[int]

    @classmethod
    def load(cls) -> DemoProfile:
        data = load_seed_json("demo_profile.json")
        return cls(
            connections=[entry["connection"] for entry in data["connections"]],
            connection_weights=[entry["count"] for entry in data["connections"]],
            connections_per_site=[entry["connections"] for entry in data["sites"]],
            site_weights=[entry["count"] for entry in data["sites"]],
            countries=[entry["country"] for entry in data["countries"]],
            country_weights=[entry["count"] for entry in data["countries"]],
        )


def demo_batches(
    total: int, seed: int, profile: DemoProfile, batch_size: int = _DEMO_BATCH
) -> Iterator[tuple[list[SiteRecord], list[ConnectionWrite]]]:
    """``total`` demo connections with their sites, in batches of whole sites."""
    rng = random.Random(seed)
    pick_connection = _weighted(rng, profile.connections, profile.connection_weights)
    pick_site_size = _weighted(rng, profile.connections_per_site, profile.site_weights)
    pick_country = _weighted(rng, profile.countries, profile.country_weights)
    sites: list[SiteRecord] = []
    connections: list[ConnectionWrite] = []
    made = 0
    site_number = 0
    while made < total:
        site_number += 1
        site_id = DEMO_ID_BASE + site_number
        country = pick_country()
        size = min(pick_site_size(), total - made)
        sites.append(
            SiteRecord(
                id=site_id,
                title=f"Demo site {site_number}",
                country_id=country["countryId"],
                latitude=round(rng.uniform(country["minLatitude"], country["maxLatitude"]), 6),
                longitude=round(rng.uniform(country["minLongitude"], country["maxLongitude"]), 6),
                status_type_id=50,
                number_of_points=size,
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
    cumulative = []
    running = 0
    for weight in weights:
        running += weight
        cumulative.append(running)

    def pick() -> Any:
        return rng.choices(items, cum_weights=cumulative)[0]

    return pick
