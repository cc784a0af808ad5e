"""`chargePoint`, `chargePoints` and the types around them, on both backends, against the
hand-made sites of tests/sites_data.py: every field and its nulls, the filters (with OCM's
meaning of a connection condition and of hidden sites), `near`, `within` and the DISTANCE
order checked against an independent haversine, paging both ways by stable cursors, the
argument checks, and the statements a page runs."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from gql.domain.cursor import encode_cursor
from gql.domain.dates import utc_datetime
from gql.repository.models import SeekKey, SortOrder
from tests.conftest import GraphQLRunner, graphql_runner
from tests.sites_data import (
    BARE_SITE,
    CONNECTIONS,
    EE,
    FULL_SITE,
    HIDDEN,
    IS,
    REMOVED_SITE,
    SAME_POINT,
    SAME_POINT_SITES,
    SITES,
    TALLINN,
    UNLOCATED_SITE,
    haversine_km,
    sample_sites_database,
    visible_sites,
)

EVERY_FIELD = """
  id uuid title
  address { addressLine1 addressLine2 town stateOrProvince postcode countryId
            country { id isoCode continentCode title }
            accessComments relatedUrl contactTelephone1 }
  location { latitude longitude }
  operatorId operator { id title websiteUrl isPrivateIndividual }
  usageTypeId usageType { id title isPayAtLocation isMembershipRequired isAccessKeyRequired }
  usageCost statusTypeId statusType { id title isOperational }
  submissionStatusTypeId numberOfPoints generalComments
  dateCreated dateLastStatusUpdate dateLastVerified dataProviderId distanceKm
  connections { id powerKw connectionType { title } }
"""

PAGE = f"""
query Page($first: Int, $after: String, $last: Int, $before: String,
    $filter: ChargePointFilter, $near: GeoRadius, $within: GeoBox, $orderBy: ChargePointOrder) {{
  chargePoints(first: $first, after: $after, last: $last, before: $before, filter: $filter,
      near: $near, within: $within, orderBy: $orderBy) {{
    totalCount
    edges {{ cursor node {{ {EVERY_FIELD} }} }}
    pageInfo {{ startCursor endCursor hasNextPage hasPreviousPage }}
  }}
}}"""

IDS = """
query Ids($filter: ChargePointFilter, $near: GeoRadius, $within: GeoBox,
    $orderBy: ChargePointOrder, $first: Int = 1000) {
  chargePoints(first: $first, filter: $filter, near: $near, within: $within, orderBy: $orderBy) {
    totalCount nodes { id distanceKm }
  }
}"""


@pytest.fixture(scope="module")
def sites_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from sample_sites_database(backend, tmp_path_factory.mktemp("sites"))


@pytest.fixture
async def api(sites_db: str) -> AsyncIterator[GraphQLRunner]:
    async with graphql_runner(sites_db) as runner:
        yield runner


async def _ids(api: GraphQLRunner, **variables: Any) -> list[int]:
    page = (await api.data(IDS, variables))["chargePoints"]
    ids = [node["id"] for node in page["nodes"]]
    assert page["totalCount"] == len(ids)
    return ids


async def _error(api: GraphQLRunner, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    result = await api.execute(query, variables)
    assert result.errors is not None, result.data
    (error,) = result.errors
    assert result.data is None or result.data.get("chargePoints") is None
    extensions: dict[str, Any] = error.extensions or {}
    return {"message": error.message, **extensions}


def _by_id(site_id: int) -> Any:
    return next(site for site in SITES if site.id == site_id)


# -- fields -----------------------------------------------------------------------------


async def test_every_field_of_a_site(api: GraphQLRunner) -> None:
    query = f"query($id: Int!) {{ chargePoint(id: $id) {{ {EVERY_FIELD} }} }}"
    site = (await api.data(query, {"id": FULL_SITE}))["chargePoint"]
    connections = site.pop("connections")
    assert site == {
        "id": FULL_SITE,
        "uuid": "0f6e1c9a-1111-4b6a-9d7e-000000000100",
        "title": "Viru Keskus",
        "address": {
            "addressLine1": "Viru väljak 4",
            "addressLine2": "Parking level -2",
            "town": "Tallinn",
            "stateOrProvince": "Harju maakond",
            "postcode": "10111",
            "countryId": EE,
            "country": {"id": EE, "isoCode": "EE", "continentCode": "EU", "title": "Estonia"},
            "accessComments": "Enter from Narva mnt",
            "relatedUrl": "https://example.org/viru",
            "contactTelephone1": "+372 600 0000",
        },
        "location": {"latitude": 59.4368, "longitude": 24.7553},
        "operatorId": 5,
        "operator": {
            "id": 5,
            "title": "ChargePoint",
            "websiteUrl": "http://www.chargepoint.net/",
            "isPrivateIndividual": False,
        },
        "usageTypeId": 4,
        "usageType": {
            "id": 4,
            "title": "Public - Membership Required",
            "isPayAtLocation": False,
            "isMembershipRequired": True,
            "isAccessKeyRequired": True,
        },
        "usageCost": "0.39 EUR/kWh",
        "statusTypeId": 50,
        "statusType": {"id": 50, "title": "Operational", "isOperational": True},
        "submissionStatusTypeId": 200,
        "numberOfPoints": 4,
        "generalComments": "Ünïcode and 'quotes'",
        "dateCreated": "2012-06-21T21:16:00+00:00",
        "dateLastStatusUpdate": "2023-02-01T08:30:15+00:00",
        "dateLastVerified": "2024-11-30T23:59:59+00:00",
        "dataProviderId": 1,
        "distanceKm": None,  # no `near`
    }
    expected = sorted(c.id for c in CONNECTIONS if c.charge_point_id == FULL_SITE)
    assert [c["id"] for c in connections] == expected
    assert all(c["connectionType"]["title"] for c in connections)


async def test_absent_values_are_null(api: GraphQLRunner) -> None:
    query = f"query($id: Int!) {{ chargePoint(id: $id) {{ {EVERY_FIELD} }} }}"
    bare = (await api.data(query, {"id": BARE_SITE}))["chargePoint"]
    assert bare["id"] == BARE_SITE
    assert bare["location"] == {"latitude": 59.40, "longitude": 24.70}
    assert bare["connections"] == []
    assert set(bare["address"].values()) == {None}
    for name, value in bare.items():
        if name not in ("id", "location", "connections", "address"):
            assert value is None, name
    unlocated = (await api.data(query, {"id": UNLOCATED_SITE}))["chargePoint"]
    assert unlocated["location"] is None
    assert unlocated["address"]["country"]["isoCode"] == "EE"


async def test_lookups_by_id(api: GraphQLRunner) -> None:
    data = await api.data(
        """{ missing: chargePoint(id: 424242) { id }
             removed: chargePoint(id: 601) { id statusTypeId }
             operator(id: 5) { title } usageType(id: 5) { title }
             country(id: 105) { isoCode } noCountry: country(id: 99999) { isoCode } }"""
    )
    assert data == {
        "missing": None,
        # Named by id, a hidden site is still found (a connection may name it).
        "removed": {"id": REMOVED_SITE, "statusTypeId": 200},
        "operator": {"title": "ChargePoint"},
        "usageType": {"title": "Public - Pay At Location"},
        "country": {"isoCode": "IS"},
        "noCountry": None,
    }


async def test_reference_lists(api: GraphQLRunner) -> None:
    data = await api.data(
        "{ operators { id title } usageTypes { id title } countries { id isoCode } }"
    )
    for name in ("operators", "usageTypes", "countries"):
        ids = [row["id"] for row in data[name]]
        assert ids == sorted(ids)
    assert len(data["countries"]) > 200
    assert {"id": IS, "isoCode": "IS"} in data["countries"]
    assert len(data["usageTypes"]) == 8


async def test_a_connection_names_its_site(api: GraphQLRunner) -> None:
    connection = next(c for c in CONNECTIONS if c.charge_point_id == REMOVED_SITE)
    data = await api.data(
        "query($id: Int!) { connectionInfo(id: $id) { chargePoint { id title } } }",
        {"id": connection.id},
    )
    assert data["connectionInfo"]["chargePoint"] == {"id": REMOVED_SITE, "title": "Removed"}


# -- what is listed ------------------------------------------------------------------------


async def test_hidden_sites_are_left_out_unless_asked_for(api: GraphQLRunner) -> None:
    shown = await _ids(api)
    assert shown == sorted(site.id for site in visible_sites())
    every = await _ids(api, filter={"includeUnpublished": True})
    assert every == sorted(site.id for site in SITES)
    assert set(every) - set(shown) == HIDDEN


async def test_orders_by_id(api: GraphQLRunner) -> None:
    ascending = await _ids(api, orderBy="ID_ASC")
    assert await _ids(api, orderBy="ID_DESC") == ascending[::-1]


@pytest.mark.parametrize(
    ("filter", "keep"),
    [
        ({"ids": [FULL_SITE, 201, REMOVED_SITE, 777]}, lambda s: s.id in (FULL_SITE, 201)),
        ({"ids": []}, lambda s: False),
        ({"countryIds": [IS, 78]}, lambda s: s.country_id in (IS, 78)),
        ({"countryCodes": ["is", "FJ"]}, lambda s: s.country_id in (IS, 78)),
        ({"operatorIds": [3]}, lambda s: s.operator_id == 3),
        ({"usageTypeIds": [4, 5]}, lambda s: s.usage_type_id in (4, 5)),
        ({"statusTypeIds": [0, 100]}, lambda s: s.status_type_id in (0, 100)),
        # Via the status type: Operational (50), Temporarily Unavailable (30) are; Unknown
        # (0) and no status match neither.
        ({"isOperational": True}, lambda s: s.status_type_id in (30, 50)),
        ({"isOperational": False}, lambda s: s.status_type_id == 100),
        (
            {"countryCodes": ["EE"], "operatorIds": [5], "usageTypeIds": [4]},
            lambda s: s.country_id == EE and s.operator_id == 5 and s.usage_type_id == 4,
        ),
    ],
)
async def test_filters(api: GraphQLRunner, filter: dict[str, Any], keep: Any) -> None:
    expected = sorted(site.id for site in visible_sites() if keep(site))
    assert await _ids(api, filter=filter) == expected


@pytest.mark.parametrize(
    ("connections", "keep"),
    [
        ({"minPowerKw": 50}, lambda c: c.power_kw >= 50),
        ({"connectionTypeIds": [33], "currentTypeIds": [30]}, lambda c: c.connection_type_id == 33),
        ({"maxPowerKw": 10}, lambda c: c.power_kw <= 10),
        ({"isOperational": False}, lambda c: c.status_type_id == 100),
        ({"isFastChargeCapable": True}, lambda c: c.level_id == 3),
    ],
)
async def test_a_site_matches_when_one_of_its_connections_does(
    api: GraphQLRunner, connections: dict[str, Any], keep: Any
) -> None:
    matching = {c.charge_point_id for c in CONNECTIONS if keep(c)}
    expected = sorted(site.id for site in visible_sites() if site.id in matching)
    assert expected, "the sample has such sites"
    assert await _ids(api, filter={"connections": connections}) == expected
    # The filter picks sites; each site still lists all its connections, or those its
    # own `connections(filter)` keeps.
    data = await api.data(
        """query($filter: ChargePointFilter, $connections: ConnectionInfoFilter) {
          chargePoints(first: 1000, filter: $filter) { nodes { id
            all: connections { id } some: connections(filter: $connections) { id } } } }""",
        {"filter": {"connections": connections}, "connections": connections},
    )
    for node in data["chargePoints"]["nodes"]:
        mine = [c for c in CONNECTIONS if c.charge_point_id == node["id"]]
        assert [c["id"] for c in node["all"]] == sorted(c.id for c in mine)
        assert [c["id"] for c in node["some"]] == sorted(c.id for c in mine if keep(c))
        assert node["some"]


# -- near, within, distance --------------------------------------------------------------


def _within_radius(latitude: float, longitude: float, radius_km: float) -> dict[int, float]:
    return {
        site.id: distance
        for site in visible_sites()
        if site.latitude is not None and site.longitude is not None
        for distance in [haversine_km(latitude, longitude, site.latitude, site.longitude)]
        if distance <= radius_km
    }


@pytest.mark.parametrize("radius_km", [1.0, 12.5, 25.0, 500.0])
async def test_near_keeps_sites_within_the_radius(api: GraphQLRunner, radius_km: float) -> None:
    near = {"latitude": TALLINN[0], "longitude": TALLINN[1], "radiusKm": radius_km}
    expected = _within_radius(*TALLINN, radius_km)
    page = (await api.data(IDS, {"near": near}))["chargePoints"]
    nodes = page["nodes"]
    assert [node["id"] for node in nodes] == sorted(expected)  # ID_ASC unless asked
    assert page["totalCount"] == len(expected)
    for node in nodes:
        assert math.isclose(node["distanceKm"], expected[node["id"]], rel_tol=1e-5, abs_tol=1e-6)


async def test_distance_order_is_nearest_first_ties_by_id(api: GraphQLRunner) -> None:
    near = {"latitude": TALLINN[0], "longitude": TALLINN[1], "radiusKm": 500}
    nodes = (await api.data(IDS, {"near": near, "orderBy": "DISTANCE"}))["chargePoints"]["nodes"]
    keys = [(node["distanceKm"], node["id"]) for node in nodes]
    assert keys == sorted(keys)
    assert {node["id"] for node in nodes} == set(_within_radius(*TALLINN, 500))
    tied = [node["id"] for node in nodes if node["id"] in SAME_POINT_SITES]
    assert tied == list(SAME_POINT_SITES)
    assert len({node["distanceKm"] for node in nodes if node["id"] in tied}) == 1
    # Tartu (about 160 km) is in, Reykjavik is not.
    assert 201 in [node["id"] for node in nodes]
    assert 301 not in [node["id"] for node in nodes]


@pytest.mark.parametrize(
    ("box", "expected"),
    [
        # A map view of central Tallinn.
        ({"south": 59.40, "west": 24.65, "north": 59.47, "east": 24.85}, None),
        # Crossing the antimeridian: west greater than east.
        ({"south": -18.0, "west": 179.9, "north": -17.5, "east": -179.9}, [401, 402]),
        ({"south": -18.0, "west": 179.0, "north": -17.5, "east": 179.99}, [401]),
        ({"south": 64.0, "west": -22.0, "north": 64.2, "east": -21.9}, [301]),
        ({"south": 10.0, "west": 10.0, "north": 10.0, "east": 10.0}, []),
    ],
)
async def test_within_keeps_sites_inside_the_box(
    api: GraphQLRunner, box: dict[str, float], expected: list[int] | None
) -> None:
    if expected is None:
        crosses = box["west"] > box["east"]
        expected = sorted(
            site.id
            for site in visible_sites()
            if site.latitude is not None
            and site.longitude is not None
            and box["south"] <= site.latitude <= box["north"]
            and (
                (box["west"] <= site.longitude or site.longitude <= box["east"])
                if crosses
                else box["west"] <= site.longitude <= box["east"]
            )
        )
        assert len(expected) > 3
    assert await _ids(api, within=box) == expected


async def test_near_within_and_filter_together(api: GraphQLRunner) -> None:
    near = {"latitude": TALLINN[0], "longitude": TALLINN[1], "radiusKm": 20}
    box = {"south": 59.40, "west": 24.5, "north": 60.0, "east": 25.0}
    expected = sorted(
        site_id
        for site_id in _within_radius(*TALLINN, 20)
        if 59.40 <= _by_id(site_id).latitude <= 60.0
        and 24.5 <= _by_id(site_id).longitude <= 25.0
        and _by_id(site_id).operator_id == 5
    )
    assert expected
    ids = await _ids(api, near=near, within=box, filter={"operatorIds": [5]})
    assert ids == expected


# -- paging ----------------------------------------------------------------------------------


async def _walk(
    api: GraphQLRunner, variables: dict[str, Any], size: int, *, forward: bool
) -> list[dict[str, Any]]:
    edges: list[dict[str, Any]] = []
    cursor = None
    while True:
        if forward:
            page_variables = {**variables, "first": size, "after": cursor}
        else:
            page_variables = {**variables, "last": size, "before": cursor}
        page = (await api.data(PAGE, page_variables))["chargePoints"]
        assert len(page["edges"]) <= size
        edges += page["edges"] if forward else page["edges"][::-1]
        info = page["pageInfo"]
        if not (info["hasNextPage"] if forward else info["hasPreviousPage"]):
            return edges if forward else edges[::-1]
        cursor = info["endCursor"] if forward else info["startCursor"]


@pytest.mark.parametrize("order", ["ID_ASC", "ID_DESC", "DISTANCE"])
async def test_walks_forward_and_backward(api: GraphQLRunner, order: str) -> None:
    # Around the tied sites, so pages of 1 and 3 end in the middle of a tie.
    near = {"latitude": SAME_POINT[0], "longitude": SAME_POINT[1], "radiusKm": 60}
    variables = {"near": near, "orderBy": order}
    whole = (await api.data(PAGE, {**variables, "first": 1000}))["chargePoints"]
    assert len(whole["edges"]) == whole["totalCount"] > 20
    for size in (1, 3, 7):
        ahead = await _walk(api, variables, size, forward=True)
        behind = await _walk(api, variables, size, forward=False)
        assert ahead == whole["edges"]
        assert behind == whole["edges"]


async def test_page_info_at_both_ends(api: GraphQLRunner) -> None:
    first = (await api.data(PAGE, {"first": 2}))["chargePoints"]
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert first["pageInfo"]["hasNextPage"] is True
    last = (await api.data(PAGE, {"last": 2}))["chargePoints"]
    assert last["pageInfo"]["hasNextPage"] is False
    assert last["pageInfo"]["hasPreviousPage"] is True
    empty = (await api.data(PAGE, {"first": 0}))["chargePoints"]
    assert empty["edges"] == []
    assert empty["pageInfo"]["startCursor"] is None


async def test_a_distance_cursor_belongs_to_its_centre(api: GraphQLRunner) -> None:
    near = {"latitude": TALLINN[0], "longitude": TALLINN[1], "radiusKm": 30}
    page = await api.data(PAGE, {"near": near, "orderBy": "DISTANCE", "first": 3})
    cursor = page["chargePoints"]["pageInfo"]["endCursor"]
    # Another radius around the same centre keeps the order: the cursor goes on.
    wider = {**near, "radiusKm": 40}
    await api.data(PAGE, {"near": wider, "orderBy": "DISTANCE", "first": 3, "after": cursor})
    moved = {**near, "latitude": TALLINN[0] + 0.01}
    error = await _error(api, PAGE, {"near": moved, "orderBy": "DISTANCE", "after": cursor})
    assert error["code"] == "BAD_USER_INPUT"
    assert error["argument"] == "after"
    assert "centre" in error["message"]
    error = await _error(api, PAGE, {"near": near, "orderBy": "ID_ASC", "before": cursor})
    assert (error["code"], error["argument"]) == ("BAD_USER_INPUT", "before")


async def test_a_connection_cursor_is_no_site_cursor(api: GraphQLRunner) -> None:
    cursor = encode_cursor(SeekKey(SortOrder.ID_ASC, FULL_SITE))
    error = await _error(api, PAGE, {"after": cursor})
    assert (error["code"], error["argument"]) == ("BAD_USER_INPUT", "after")


# -- argument checks -------------------------------------------------------------------------

_NEAR = {"latitude": 59.4, "longitude": 24.7, "radiusKm": 10}
_BOX = {"south": 59.0, "west": 24.0, "north": 60.0, "east": 25.0}


@pytest.mark.parametrize(
    ("variables", "argument", "words"),
    [
        ({"near": {**_NEAR, "latitude": 90.5}}, "near", "latitude"),
        ({"near": {**_NEAR, "latitude": -91}}, "near", "latitude"),
        ({"near": {**_NEAR, "longitude": 180.01}}, "near", "longitude"),
        ({"near": {**_NEAR, "longitude": -181}}, "near", "longitude"),
        ({"near": {**_NEAR, "radiusKm": 0}}, "near", "radiusKm"),
        ({"near": {**_NEAR, "radiusKm": -1}}, "near", "radiusKm"),
        ({"near": {**_NEAR, "radiusKm": 500.001}}, "near", "500"),
        ({"within": {**_BOX, "south": 61}}, "within", "south"),
        ({"within": {**_BOX, "north": 90.1}}, "within", "north"),
        ({"within": {**_BOX, "west": -200}}, "within", "west"),
        ({"within": {**_BOX, "east": 181}}, "within", "east"),
        ({"orderBy": "DISTANCE"}, "orderBy", "near"),
        ({"orderBy": "DISTANCE", "within": _BOX}, "orderBy", "near"),
        ({"first": 1001}, "first", "1000"),
        ({"first": 2, "last": 2}, "last", "either"),
        ({"after": "not a cursor"}, "after", "malformed"),
    ],
)
async def test_bad_arguments_are_named(
    api: GraphQLRunner, variables: dict[str, Any], argument: str, words: str
) -> None:
    error = await _error(api, PAGE, variables)
    assert error["code"] == "BAD_USER_INPUT"
    assert error["argument"] == argument
    assert words in error["message"]


async def test_edge_values_are_accepted(api: GraphQLRunner) -> None:
    for near in (
        {"latitude": 90, "longitude": 180, "radiusKm": 500},
        {"latitude": -90, "longitude": -180, "radiusKm": 0.001},
    ):
        await api.data(PAGE, {"near": near})
    await api.data(PAGE, {"within": {"south": -90, "west": -180, "north": 90, "east": 180}})


async def test_non_finite_numbers_are_refused(api: GraphQLRunner) -> None:
    for value in (math.nan, math.inf, -math.inf):
        result = await api.execute(PAGE, {"near": {**_NEAR, "radiusKm": value}})
        assert result.errors is not None
        assert result.data is None
        assert {e.extensions["code"] for e in result.errors if e.extensions} == {"BAD_USER_INPUT"}


async def test_the_radius_limit_is_a_setting(sites_db: str) -> None:
    async with graphql_runner(sites_db, max_radius_km=1000) as runner:
        await runner.data(PAGE, {"near": {**_NEAR, "radiusKm": 1000}})
        error = await _error(runner, PAGE, {"near": {**_NEAR, "radiusKm": 1000.5}})
        assert (error["argument"], error["code"]) == ("near", "BAD_USER_INPUT")


# -- statements ------------------------------------------------------------------------------

EVERYTHING = f"""
query($first: Int!, $near: GeoRadius) {{
  chargePoints(first: $first, near: $near, orderBy: DISTANCE,
               filter: {{ includeUnpublished: true }}) {{
    edges {{ cursor node {{ {EVERY_FIELD} connections {{ id statusType {{ title }}
      currentType {{ title }} chargePoint {{ id }} }} }} }}
  }}
}}"""


async def _statements(api: GraphQLRunner, query: str, variables: dict[str, Any]) -> int:
    before = api.repository.statement_count
    await api.data(query, variables)
    return api.repository.statement_count - before


async def test_a_page_runs_the_same_statements_whatever_its_size(api: GraphQLRunner) -> None:
    near = {"latitude": TALLINN[0], "longitude": TALLINN[1], "radiusKm": 500}
    await api.data(
        "{ operators { id } usageTypes { id } countries { id } statusTypes { id } "
        "connectionTypes { id } currentTypes { id } }"
    )
    small = await _statements(api, EVERYTHING, {"first": 2, "near": near})
    large = await _statements(api, EVERYTHING, {"first": 30, "near": near})
    print(f"statements per page of sites: 2 sites -> {small}, 30 sites -> {large}")
    assert small == large
    # The probe that picks the spatial plan, the page, the connections of its sites, and
    # the sites those connections name.
    assert large == 4


async def test_a_cold_cache_adds_one_statement_per_reference_list(sites_db: str) -> None:
    near = {"latitude": TALLINN[0], "longitude": TALLINN[1], "radiusKm": 500}
    counts = []
    for first in (2, 30):
        async with graphql_runner(sites_db) as runner:  # a new process's empty cache
            counts.append(await _statements(runner, EVERYTHING, {"first": first, "near": near}))
    # As warm (4), plus operators, usage types, countries, status types, connection types and
    # supply types, each loaded once.
    assert counts == [4 + 6, 4 + 6]


async def test_connections_of_sites_run_one_statement_per_filter(api: GraphQLRunner) -> None:
    query = """{ chargePoints(first: 40) { nodes { id
        a: connections { id } b: connections { id }
        fast: connections(filter: { minPowerKw: 50 }) { id }
        fast2: connections(filter: { minPowerKw: 50 }) { id }
        slow: connections(filter: { maxPowerKw: 22 }) { id } } } }"""
    assert await _statements(api, query, {}) == 1 + 3


async def test_the_sites_of_a_page_of_connections_are_read_at_once(api: GraphQLRunner) -> None:
    query = """{ connectionInfos(first: 200) { nodes { id
        chargePoint { id title address { town } } } } }"""
    data = await api.data(query)
    nodes = data["connectionInfos"]["nodes"]
    assert len({node["chargePoint"]["id"] for node in nodes}) > 20
    assert await _statements(api, query, {}) == 2


# -- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("2012-06-21T21:16:00Z", "2012-06-21T21:16:00+00:00"),
        ("2012-06-21T21:16:00", "2012-06-21T21:16:00+00:00"),  # OCM's zone-less ones are UTC
        ("2012-06-21T23:16:00+02:00", "2012-06-21T21:16:00+00:00"),
        ("2023-02-01T08:30:15.25Z", "2023-02-01T08:30:15.250000+00:00"),
        ("not a date", None),
        (None, None),
    ],
)
def test_stored_dates_read_as_utc(stored: str | None, shown: str | None) -> None:
    moment = utc_datetime(stored)
    assert (None if moment is None else moment.isoformat()) == shown
