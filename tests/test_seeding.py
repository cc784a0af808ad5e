"""The shipped seed files and what `ocm-gql seed` makes of them."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import fields

from gql.repository.base import Repository
from gql.repository.models import RECORD_BY_KIND, ReferenceKind
from gql.seed_build import build_demo_profile, build_reference, dump
from gql.seed_files import seed_dir
from gql.seeding import DEMO_ID_BASE, DemoProfile, demo_batches, seed_reference
from tests.conftest import run_cli, shared_ocm
from tests.databases import fetch_raw


def test_seed_files_are_what_seed_build_makes_from_ocm_data() -> None:
    ocm = shared_ocm()
    reference = build_reference(ocm / "reference")
    profile = build_demo_profile(sorted((ocm / "poi").glob("poi_*.json")), reference)
    assert (seed_dir() / "reference.json").read_bytes() == dump(reference), (
        "seed/reference.json is stale: run `python -m gql.seed_build ../shared/ocm`"
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
