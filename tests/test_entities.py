"""The Apollo Federation 2 subgraph surface: _service, _entities and inline tracing."""

from __future__ import annotations

import base64
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.graphql.schema import federation_sdl
from gql.settings import Settings
from tests.conftest import GraphQLRunner, graphql_runner
from tests.sites_data import FULL_SITE, REMOVED_SITE, SITES, sample_sites_database

ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on ConnectionInfo { id powerKw connectionType { title } }
    ... on ConnectionType { id title }
    ... on StatusType { id title }
    ... on LevelType { id title }
    ... on SupplyType { id title }
  }
}
"""
DEMO = 1_000_000_000


async def test_service_sdl_is_a_federation_2_subgraph(demo_graphql: GraphQLRunner) -> None:
    sdl = (await demo_graphql.data("{ _service { sdl } }"))["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key"])' in sdl
    for entity in (
        "ConnectionInfo",
        "ConnectionType",
        "StatusType",
        "LevelType",
        "SupplyType",
        "ChargePoint",
        "Operator",
        "UsageType",
        "Country",
    ):
        assert f'type {entity} @key(fields: "id")' in sdl
    assert sdl.strip() == federation_sdl().strip()


def test_export_schema_federation_prints_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gql", "export-schema", "--federation"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == federation_sdl()
    assert "_entities" not in (Path(__file__).parents[1] / "schema.graphql").read_text()


def _mixed_representations(count: int) -> list[dict[str, object]]:
    rng = random.Random(count)
    kinds = [
        ("ConnectionInfo", lambda: DEMO + rng.randint(1, 3200)),  # some beyond the 3,000 rows
        ("ConnectionType", lambda: rng.choice([0, 2, 25, 33, 1036, 9999])),
        ("StatusType", lambda: rng.choice([0, 50, 100, 12345])),
        ("LevelType", lambda: rng.choice([1, 2, 3, 4])),
        ("SupplyType", lambda: rng.choice([10, 20, 30, 40])),
    ]
    picks = [rng.choice(kinds) for _ in range(count)]
    return [{"__typename": name, "id": make_id()} for name, make_id in picks]


async def test_entities_resolve_in_order_with_null_for_unknown_ids(
    demo_graphql: GraphQLRunner,
) -> None:
    representations = _mixed_representations(1000)
    data = await demo_graphql.data(ENTITIES, {"representations": representations})
    entities = data["_entities"]
    assert len(entities) == 1000
    known = {
        "ConnectionInfo": set(range(DEMO + 1, DEMO + 3001)),
        "ConnectionType": {0, 2, 25, 33, 1036},
        "StatusType": {0, 50, 100},
        "LevelType": {1, 2, 3},
        "SupplyType": {10, 20, 30},
    }
    for representation, entity in zip(representations, entities, strict=True):
        if representation["id"] in known[str(representation["__typename"])]:
            assert entity["__typename"] == representation["__typename"]
            assert entity["id"] == representation["id"]
        else:
            assert entity is None, representation
    assert any(e is None for e in entities)
    assert any(e and e["__typename"] == "ConnectionInfo" for e in entities)


async def test_entities_run_at_most_one_statement_per_type(demo_db: str) -> None:
    counts = []
    for size in (10, 1000):
        async with graphql_runner(demo_db) as runner:
            before = runner.repository.statement_count
            await runner.data(ENTITIES, {"representations": _mixed_representations(size)})
            counts.append(runner.repository.statement_count - before)
    print(f"_entities statements: 10 representations -> {counts[0]}, 1000 -> {counts[1]}")
    # One for the connections, one per reference list (cold cache); never per representation.
    assert counts[1] <= 5
    assert counts[0] == counts[1]


async def test_malformed_representations_get_their_own_error(demo_graphql: GraphQLRunner) -> None:
    representations = [
        {"__typename": "ConnectionType", "id": 25},
        {"__typename": "ConnectionType"},
        {"__typename": "Charger", "id": 1},
        {"id": 1},
        {"__typename": "LevelType", "id": "3"},
        {"__typename": "LevelType", "id": True},
        {"__typename": "LevelType", "id": 2**40},
        "ConnectionType:25",
        {"__typename": "StatusType", "id": 50},
    ]
    result = await demo_graphql.execute(ENTITIES, {"representations": representations})
    assert result.data is not None
    entities = result.data["_entities"]
    assert entities[0] == {
        "__typename": "ConnectionType",
        "id": 25,
        "title": "Type 2 (Socket Only)",
    }
    assert entities[-1] == {"__typename": "StatusType", "id": 50, "title": "Operational"}
    assert entities[1:-1] == [None] * 7
    errors = sorted(result.errors or [], key=lambda e: e.path or [])
    assert [e.path for e in errors] == [["_entities", i] for i in range(1, 8)]
    for error in errors:
        assert error.extensions == {"code": "BAD_USER_INPUT", "argument": "representations"}
    messages = [e.message for e in errors]
    assert messages[0] == "representations[1]: ConnectionType is keyed by an Int `id`, got None"
    assert messages[1].startswith("representations[2]: __typename must be one of ConnectionInfo")
    assert "got 'Charger'" in messages[1]


SITE_ENTITIES = """
query($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on ChargePoint { id title address { country { isoCode } } operator { title } }
    ... on Operator { id title }
    ... on UsageType { id title }
    ... on Country { id isoCode }
  }
}
"""


@pytest.fixture(scope="module")
def sites_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from sample_sites_database(backend, tmp_path_factory.mktemp("sites"))


async def test_charge_points_and_their_references_are_entities(sites_db: str) -> None:
    representations = [
        {"__typename": "ChargePoint", "id": FULL_SITE},
        {"__typename": "ChargePoint", "id": REMOVED_SITE},  # hidden from lists, not by id
        {"__typename": "ChargePoint", "id": 424_242},
        {"__typename": "Operator", "id": 5},
        {"__typename": "Operator", "id": 999_999},
        {"__typename": "UsageType", "id": 4},
        {"__typename": "Country", "id": 105},
    ]
    async with graphql_runner(sites_db) as runner:
        data = await runner.data(SITE_ENTITIES, {"representations": representations})
    assert data["_entities"] == [
        {
            "__typename": "ChargePoint",
            "id": FULL_SITE,
            "title": "Viru Keskus",
            "address": {"country": {"isoCode": "EE"}},
            "operator": {"title": "ChargePoint"},
        },
        {
            "__typename": "ChargePoint",
            "id": REMOVED_SITE,
            "title": "Removed",
            "address": {"country": {"isoCode": "EE"}},
            "operator": None,
        },
        None,
        {"__typename": "Operator", "id": 5, "title": "ChargePoint"},
        None,
        {"__typename": "UsageType", "id": 4, "title": "Public - Membership Required"},
        {"__typename": "Country", "id": 105, "isoCode": "IS"},
    ]


async def test_site_entities_run_one_statement_per_type(sites_db: str) -> None:
    rng = random.Random(16)
    site_ids = [site.id for site in SITES]
    kinds = [
        ("ChargePoint", lambda: rng.choice([*site_ids, 424_242])),
        ("Operator", lambda: rng.randint(1, 40)),
        ("UsageType", lambda: rng.randint(0, 9)),
        ("Country", lambda: rng.randint(1, 260)),
    ]
    counts = []
    for size in (8, 800):
        picks = [rng.choice(kinds) for _ in range(size)]
        async with graphql_runner(sites_db) as runner:
            before = runner.repository.statement_count
            await runner.data(
                SITE_ENTITIES,
                {"representations": [{"__typename": n, "id": make()} for n, make in picks]},
            )
            counts.append(runner.repository.statement_count - before)
    # The sites, and one load of each reference list (a cold cache): operators, usage
    # types, countries.
    assert counts == [4, 4]


def test_inline_trace_only_when_the_gateway_asks(demo_db: str) -> None:
    query = {"query": "{ connectionInfos(first: 3) { nodes { id statusType { title } } } }"}
    with TestClient(create_app(Settings(database_url=demo_db))) as client:
        plain = client.post("/graphql", json=query).json()
        traced = client.post(
            "/graphql", json=query, headers={"apollo-federation-include-trace": "ftv1"}
        ).json()
    assert "ftv1" not in (plain.get("extensions") or {})
    assert traced["data"] == plain["data"]
    trace = base64.b64decode(traced["extensions"]["ftv1"])
    assert len(trace) > 20
    assert b"connectionInfos" in trace  # the trace names the fields it timed
