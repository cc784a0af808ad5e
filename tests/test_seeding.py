"""The shipped seed files and what `ocm-gql seed` makes of them."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter
from dataclasses import fields

import pytest

from gql.data.seed_build import build_demo_profile, build_reference, dump
from gql.data.seed_files import seed_dir
from gql.data.seeding import DEMO_ID_BASE, DemoProfile, demo_batches, seed_reference
from gql.domain.dates import normalised_utc
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import (
    RECORD_BY_KIND,
    GeoRadius,
    ReferenceKind,
    SiteFilter,
    SiteOrder,
    SitePageQuery,
    SiteRecord,
)
from gql.settings import Settings
from tests.conftest import run_cli, shared_ocm
from tests.databases import fetch_raw


def test_seed_files_are_what_seed_build_makes_from_ocm_data() -> None:
    ocm = shared_ocm()
    reference = build_reference(ocm / "reference")
    profile = build_demo_profile(sorted((ocm / "poi").glob("poi_*.json")), reference)
    assert (seed_dir() / "reference.json").read_bytes() == dump(reference), (
        "seed/reference.json is stale: run `python -m gql.data.seed_build ../shared/ocm`"
    )
    assert (seed_dir() / "demo_profile.json").read_bytes() == dump(profile)


# Each list's OCM file and, for each field of its record, OCM's name of it.
OCM_LISTS: dict[ReferenceKind, tuple[str, dict[str, str]]] = {
    ReferenceKind.CONNECTION_TYPE: (
        "ConnectionTypes.json",
        {
            "title": "Title",
            "formal_name": "FormalName",
            "is_discontinued": "IsDiscontinued",
            "is_obsolete": "IsObsolete",
        },
    ),
    ReferenceKind.STATUS_TYPE: (
        "StatusTypes.json",
        {
            "title": "Title",
            "is_operational": "IsOperational",
            "is_user_selectable": "IsUserSelectable",
        },
    ),
    ReferenceKind.LEVEL: (
        "ChargerTypes.json",
        {"title": "Title", "comments": "Comments", "is_fast_charge_capable": "IsFastChargeCapable"},
    ),
    ReferenceKind.SUPPLY_TYPE: (
        "CurrentTypes.json",
        {"title": "Title", "description": "Description"},
    ),
    ReferenceKind.OPERATOR: (
        "Operators.json",
        {
            "title": "Title",
            "website_url": "WebsiteURL",
            "is_private_individual": "IsPrivateIndividual",
        },
    ),
    ReferenceKind.USAGE_TYPE: (
        "UsageTypes.json",
        {
            "title": "Title",
            "is_pay_at_location": "IsPayAtLocation",
            "is_membership_required": "IsMembershipRequired",
            "is_access_key_required": "IsAccessKeyRequired",
        },
    ),
    ReferenceKind.COUNTRY: (
        "Countries.json",
        {"iso_code": "ISOCode", "continent_code": "ContinentCode", "title": "Title"},
    ),
}


def test_every_list_is_checked() -> None:
    assert set(OCM_LISTS) == set(ReferenceKind)
    for kind, (_file, names) in OCM_LISTS.items():
        assert ["id", *names] == [f.name for f in fields(RECORD_BY_KIND[kind])], kind


async def test_seeded_lists_equal_ocm_reference_files(empty_repository: Repository) -> None:
    ocm = shared_ocm()
    repository = empty_repository
    await seed_reference(repository)
    again = await seed_reference(repository)
    for kind, (file_name, names) in OCM_LISTS.items():
        ocm_rows = {r["ID"]: r for r in json.loads((ocm / "reference" / file_name).read_text())}
        ours = await repository.reference_rows(kind)
        assert [r.id for r in ours] == sorted(ocm_rows), kind
        for row in ours:
            for name, ocm_name in names.items():
                expected = ocm_rows[row.id][ocm_name]
                # An empty text is absent, as the importer reads OCM's records.
                assert getattr(row, name) == (None if expected == "" else expected), (
                    kind,
                    row.id,
                    name,
                )
        assert again[kind].written == 0, kind  # seeding twice changes nothing
    assert len(await repository.reference_rows(ReferenceKind.OPERATOR)) > 500


def test_demo_data_is_deterministic_per_seed() -> None:
    profile = DemoProfile.load()
    first = list(demo_batches(500, 7, profile, batch_size=100))
    assert first == list(demo_batches(500, 7, profile, batch_size=100))
    assert first != list(demo_batches(500, 8, profile, batch_size=100))
    connections = [c for _sites, batch in first for c in batch]
    assert [c.id for c in connections] == list(range(DEMO_ID_BASE + 1, DEMO_ID_BASE + 501))
    site_ids = {s.id for sites, _ in first for s in sites}
    assert {c.charge_point_id for c in connections} == site_ids


def test_demo_data_follows_the_real_mix() -> None:
    profile = DemoProfile.load()
    connections = [c for _s, batch in demo_batches(20_000, 3, profile) for c in batch]
    real = Counter[int | None]()
    for entry, weight in zip(profile.connections, profile.connection_weights, strict=True):
        real[entry["connection_type_id"]] += weight
    demo = Counter(c.connection_type_id for c in connections)
    real_total, demo_total = sum(real.values()), len(connections)
    for type_id, count in real.items():
        assert abs(demo[type_id] / demo_total - count / real_total) < 0.02, type_id
    assert set(demo) <= set(real)
    sizes = Counter(Counter(c.charge_point_id for c in connections).values())
    assert max(sizes) <= max(profile.connections_per_site)


def test_seed_command_with_demo(database_url: str) -> None:
    db = database_url
    out = run_cli("seed", "--database-url", db, "--demo", "250", "--seed", "5")
    assert "connection_type: 42 read, 42 written" in out
    assert "operator: 684 read, 684 written" in out
    assert "usage_type: 8 read, 8 written" in out
    assert "country: 250 read, 250 written" in out
    assert "demo: 250 connections (seed 5): 250 written" in out
    again = run_cli("seed", "--database-url", db, "--demo", "250", "--seed", "5")
    assert "42 read, 0 written, 42 unchanged" in again
    assert "250 connections (seed 5): 0 written" in again
    assert fetch_raw(db, "SELECT count(*) FROM connection_info") == [(250,)]


# -- demo sites around real towns ----------------------------------------------------------


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the mean Earth radius (6,371.0088 km)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _demo_sites(total: int, seed: int) -> list[SiteRecord]:
    return [site for sites, _ in demo_batches(total, seed, DemoProfile.load()) for site in sites]


def test_profile_towns_come_from_the_real_sites() -> None:
    """Each town of the profile is a real town of the exports: its weight is its number
    of located sites, its centre lies among them."""
    profile = DemoProfile.load()
    located: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for path in sorted((shared_ocm() / "poi").glob("poi_*.json")):
        for raw in json.loads(path.read_text()):
            address = raw["AddressInfo"]
            if address.get("Town") and address.get("Latitude") is not None:
                located.setdefault((address["CountryID"], address["Town"].strip()), []).append(
                    (address["Latitude"], address["Longitude"])
                )
    assert {(t.country_id, t.name) for t in profile.towns} == set(located)
    for town, weight in zip(profile.towns, profile.town_weights, strict=True):
        points = located[town.country_id, town.name]
        assert weight == len(points), town
        # The median of each coordinate (rounded to 6 places): inside the box of its sites.
        for axis, centre in enumerate((town.latitude, town.longitude)):
            assert min(p[axis] for p in points) - 1e-6 <= centre, town
            assert centre <= max(p[axis] for p in points) + 1e-6, town
    tallinn = next(t for t in profile.towns if t.name == "Tallinn")
    assert _haversine_km(tallinn.latitude, tallinn.longitude, 59.437, 24.7536) < 3
    assert profile.towns[0] == tallinn  # the town with the most sites comes first


def test_demo_sites_cluster_around_towns() -> None:
    profile = DemoProfile.load()
    centres = {(t.country_id, t.name): t for t in profile.towns}
    sites = _demo_sites(20_000, 11)
    distances = []
    for site in sites:
        assert site.town is not None
        assert site.country_id is not None
        assert site.latitude is not None
        assert site.longitude is not None
        town = centres[site.country_id, site.town]
        distances.append(
            _haversine_km(town.latitude, town.longitude, site.latitude, site.longitude)
        )
    within_15 = sum(distance <= 15 for distance in distances) / len(distances)
    assert within_15 >= 0.95, within_15
    # Spread out, not stacked on the centre: a town's sites are kilometres apart.
    assert statistics.median(distances) > 1.5
    # A 10 km search around the busiest town finds many sites: most of its share.
    tallinn = profile.towns[0]
    near = [
        s
        for s in sites
        if _haversine_km(tallinn.latitude, tallinn.longitude, s.latitude or 0, s.longitude or 0)
        <= 10
    ]
    share = profile.town_weights[0] / sum(profile.town_weights)
    assert len(near) >= 0.7 * share * len(sites), (len(near), share)
    # The uniform boxes per country this replaces put ~1 % of Estonia's sites there.
    assert len(near) > 300


def test_demo_sites_have_realistic_fields() -> None:
    profile = DemoProfile.load()
    sites = _demo_sites(5_000, 2)
    operators: Counter[int | None] = Counter()
    for site in sites:
        assert site.id > DEMO_ID_BASE
        assert site.town is not None
        assert site.country_id is not None
        assert site.title is not None
        assert site.title.startswith(f"{site.town} charger ")
        assert site.address_line1
        country = profile.countries[site.country_id]
        assert site.address_line1.rsplit(" ", 1)[0] in country.streets
        assert site.operator_id in country.operators
        assert site.usage_type_id in country.usage_types
        assert (site.status_type_id, site.submission_status_type_id) == (50, 200)
        assert site.uuid is not None
        assert len(site.uuid) == 36
        assert site.date_created is not None
        assert site.date_last_status_update is not None
        # Stored form of a date-time, and a site is updated after it is created.
        assert normalised_utc(site.date_created) == site.date_created
        assert normalised_utc(site.date_last_status_update) == site.date_last_status_update
        assert site.date_created <= site.date_last_status_update
        operators[site.operator_id] += site.country_id == 74
    assert len({site.title for site in sites}) == len(sites)
    assert len({site.uuid for site in sites}) == len(sites)
    # Estonia's operators in the real mix: its most common one the most common here too.
    estonia = profile.countries[74]
    assert operators.most_common(1)[0][0] == estonia.operators[0]


def test_demo_sites_are_the_same_for_a_seed() -> None:
    first = _demo_sites(2_000, 9)
    assert first == _demo_sites(2_000, 9)
    other = _demo_sites(2_000, 10)
    assert [s.latitude for s in first[:50]] != [s.latitude for s in other[:50]]


async def test_a_radius_search_on_demo_data_finds_a_town_full_of_chargers(demo_db: str) -> None:
    """`seed --demo` on each backend: a 10 km search around the busiest town of the profile
    finds its sites (shown by default: published, operational), nearest first, each truly
    within 10 km; the same search in the middle of nowhere finds none."""
    tallinn = DemoProfile.load().towns[0]
    repository = await open_repository(Settings(database_url=demo_db))
    try:
        near = GeoRadius(tallinn.latitude, tallinn.longitude, 10.0)
        total = await repository.count_sites(SiteFilter(near=near))
        page = await repository.site_page(
            SitePageQuery(filter=SiteFilter(near=near), order=SiteOrder.DISTANCE, limit=50)
        )
        sites = await repository.count_sites(SiteFilter())
        empty = await repository.count_sites(SiteFilter(near=GeoRadius(0.0, -30.0, 10.0)))
    finally:
        await repository.close()
    [(stored,)] = fetch_raw(demo_db, "SELECT count(*) FROM charge_point")
    assert sites == stored  # every demo site is shown by default
    # The busiest of ~100 towns holds ~6 % of the real sites, so of the demo sites too.
    assert total >= 0.05 * sites, (total, sites)
    assert len(page) == 50
    distances = [hit.distance_km for hit in page if hit.distance_km is not None]
    assert len(distances) == 50
    assert distances == sorted(distances)
    for hit in page:
        site = hit.site
        assert site.latitude is not None
        assert site.longitude is not None
        exact = _haversine_km(tallinn.latitude, tallinn.longitude, site.latitude, site.longitude)
        assert exact <= 10.0
        assert hit.distance_km == pytest.approx(exact, abs=0.01)
    assert empty == 0
