"""Sites through the repository Protocol, on every backend: filters, OCM's visibility,
radius and map-view searches (checked against a distance computed here, independently of
gql.domain.geo), keyset pages by id and by distance, counts, and a page of sites'
connections in one statement."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Awaitable, Sequence
from pathlib import Path

import pytest

from gql.data.importer import import_exports
from gql.data.seeding import seed_reference
from gql.domain.visibility import is_visible
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
from gql.repository.replicated import ReplicatedRepository
from gql.repository.site_statements import SitePlan, SpatialPlanning
from gql.repository.sqlite import SqliteRepository
from tests.conftest import shared_ocm

TALLINN = (59.437, 24.7536)
ESTONIA, ICELAND = 74, 105  # the seed's country ids for EE and IS


def _distance_km(latitude1: float, longitude1: float, latitude2: float, longitude2: float) -> float:
    """Great-circle distance from the chord between the two points as unit vectors: a
    formula of its own, not the haversine the repository computes."""

    def unit(latitude: float, longitude: float) -> tuple[float, float, float]:
        phi, lam = math.radians(latitude), math.radians(longitude)
        return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))

    chord = math.dist(unit(latitude1, longitude1), unit(latitude2, longitude2))
    return 2 * 6371.0088 * math.asin(min(1.0, chord / 2))


async def _write(
    repository: Repository,
    sites: Sequence[SiteRecord],
    connections: Sequence[ConnectionWrite] = (),
) -> None:
    await seed_reference(repository)
    await repository.write_sites(sites, connections, replace_site_connections=False)


async def _all(
    repository: Repository, filter: SiteFilter, order: SiteOrder = SiteOrder.ID_ASC
) -> list[SiteHit]:
    return await repository.site_page(SitePageQuery(filter, order, limit=10_000))


async def _ids(repository: Repository, filter: SiteFilter) -> list[int]:
    return [hit.site.id for hit in await _all(repository, filter)]


def _located(site_id: int, latitude: float, longitude: float) -> SiteRecord:
    return SiteRecord(id=site_id, latitude=latitude, longitude=longitude)


# -- sites by id, filters, visibility ------------------------------------------------------


async def test_sites_by_ids_gives_every_field_whatever_the_visibility(
    repository: Repository,
) -> None:
    full = SiteRecord(
        id=1,
        uuid="6B5C4C25-0000-4000-8000-000000000001",
        title="Depot",
        town="Tallinn",
        country_id=ESTONIA,
        latitude=59.43,
        longitude=24.75,
        data_provider_id=1,
        operator_id=3,
        usage_type_id=4,
        status_type_id=200,
        number_of_points=2,
        date_created="2020-01-02T03:04:05Z",
        date_last_status_update="2021-01-02T03:04:05Z",
        address_line1="Vabaduse väljak 9",
        address_line2="Level -1",
        state_or_province="Harju",
        postcode="10146",
        access_comments="Underground",
        related_url="https://example.org",
        contact_telephone1="+372 000",
        usage_cost="0.30 EUR/kWh",
        submission_status_type_id=1,
        general_comments="Hidden by OCM",
        date_last_verified="2022-01-02T03:04:05Z",
    )
    await _write(repository, [full, SiteRecord(id=2)])
    assert await repository.sites_by_ids([1, 2, 3]) == {1: full, 2: SiteRecord(id=2)}
    assert await repository.sites_by_ids([]) == {}


_FILTERED = [
    SiteRecord(id=1, country_id=ESTONIA, operator_id=3, usage_type_id=1, status_type_id=50),
    SiteRecord(id=2, country_id=ICELAND, operator_id=3, usage_type_id=4, status_type_id=100),
    SiteRecord(id=3, country_id=ESTONIA, operator_id=7, usage_type_id=4, status_type_id=0),
    SiteRecord(id=4),
]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        (SiteFilter(), [1, 2, 3, 4]),
        (SiteFilter(ids=[2, 4, 99]), [2, 4]),
        (SiteFilter(ids=[]), []),
        (SiteFilter(country_ids=[ESTONIA]), [1, 3]),
        (SiteFilter(country_codes=["IS"]), [2]),
        (SiteFilter(country_codes=["ee", "XX"]), [1, 3]),
        (SiteFilter(operator_ids=[3]), [1, 2]),
        (SiteFilter(usage_type_ids=[4]), [2, 3]),
        (SiteFilter(status_type_ids=[0, 50]), [1, 3]),
        (SiteFilter(is_operational=True), [1]),
        # Status 0 ("Unknown") is neither operational nor not: like the connection filter.
        (SiteFilter(is_operational=False), [2]),
        (SiteFilter(country_codes=["EE"], operator_ids=[7]), [3]),
    ],
)
async def test_filters(repository: Repository, filter: SiteFilter, expected: list[int]) -> None:
    await _write(repository, _FILTERED)
    assert await _ids(repository, filter) == expected
    assert await repository.count_sites(filter) == len(expected)


async def test_a_site_matches_when_one_of_its_connections_does(repository: Repository) -> None:
    sites = [SiteRecord(id=n) for n in (1, 2, 3)]
    connections = [
        ConnectionWrite(id=10, charge_point_id=1, connection_type_id=25, power_kw=11),
        ConnectionWrite(id=11, charge_point_id=1, connection_type_id=33, power_kw=150),
        ConnectionWrite(id=20, charge_point_id=2, connection_type_id=25, power_kw=22),
    ]
    await _write(repository, sites, connections)

    async def matching(condition: ConnectionFilter) -> list[int]:
        filter = SiteFilter(connections=condition)
        ids = await _ids(repository, filter)
        assert await repository.count_sites(filter) == len(ids)
        return ids

    assert await matching(ConnectionFilter()) == [1, 2]  # site 3 has none
    assert await matching(ConnectionFilter(connection_type_ids=[25])) == [1, 2]
    assert await matching(ConnectionFilter(min_power_kw=50)) == [1]
    assert await matching(ConnectionFilter(min_power_kw=15, max_power_kw=30)) == [2]
    # Both conditions must hold on one connection, not on two different ones.
    assert await matching(ConnectionFilter(connection_type_ids=[25], min_power_kw=50)) == []
    # Names the connection's own columns (id, status), not the site's.
    assert await matching(ConnectionFilter(ids=[11])) == [1]


async def test_hidden_sites_are_left_out_unless_asked_for(repository: Repository) -> None:
    statuses = [None, 0, 50, 100, 200, 210]
    submissions = [None, 1, 50, 100, 200, 250, 1000]
    sites = [
        SiteRecord(id=n, status_type_id=status, submission_status_type_id=submission)
        for n, (status, submission) in enumerate(
            ((s, m) for s in statuses for m in submissions), start=1
        )
    ]
    await _write(repository, sites)
    visible = [s.id for s in sites if is_visible(s.submission_status_type_id, s.status_type_id)]
    assert 0 < len(visible) < len(sites)
    assert await _ids(repository, SiteFilter()) == visible
    assert await repository.count_sites(SiteFilter()) == len(visible)
    everything = SiteFilter(include_unpublished=True)
    assert await _ids(repository, everything) == [s.id for s in sites]
    assert await repository.count_sites(everything) == len(sites)


# -- radius and map view -------------------------------------------------------------------


async def test_a_radius_around_tallinn_finds_the_tallinn_sites(repository: Repository) -> None:
    """On OCM's real Estonian and Icelandic sample."""
    poi = shared_ocm() / "poi"
    await seed_reference(repository)
    await import_exports(repository, [poi])
    exported = json.loads((poi / "poi_EE.json").read_text(encoding="utf-8"))
    in_tallinn = {site["ID"] for site in exported if site["AddressInfo"]["Town"] == "Tallinn"}
    near = GeoRadius(*TALLINN, radius_km=10)
    hits = await _all(repository, SiteFilter(near=near), SiteOrder.DISTANCE)
    assert {hit.site.id for hit in hits} == in_tallinn
    for hit in hits:
        assert hit.site.latitude is not None
        assert hit.site.longitude is not None
        assert hit.distance_km == pytest.approx(
            _distance_km(*TALLINN, hit.site.latitude, hit.site.longitude), rel=1e-9, abs=1e-9
        )
    assert [hit.distance_km for hit in hits] == sorted(hit.distance_km or 0 for hit in hits)
    # Every stored site closer than the radius is found, and no other.
    everything = await _all(repository, SiteFilter(include_unpublished=True))
    expected = {
        hit.site.id
        for hit in everything
        if hit.site.latitude is not None
        and hit.site.longitude is not None
        and _distance_km(*TALLINN, hit.site.latitude, hit.site.longitude) <= 10
    }
    assert {hit.site.id for hit in hits} == expected
    assert await repository.count_sites(SiteFilter(near=near)) == len(in_tallinn)
    assert await repository.count_sites(SiteFilter(country_codes=["EE"])) == len(exported)


async def test_distances_are_set_whenever_near_is_given(repository: Repository) -> None:
    await _write(repository, [_located(1, 59.43, 24.75), _located(2, 59.44, 24.76)])
    near = GeoRadius(*TALLINN, radius_km=5)
    for order in SiteOrder:
        hits = await _all(repository, SiteFilter(near=near), order)
        assert all(hit.distance_km is not None for hit in hits)
        assert len(hits) == 2
    for order in (SiteOrder.ID_ASC, SiteOrder.ID_DESC):
        assert all(hit.distance_km is None for hit in await _all(repository, SiteFilter(), order))
    with pytest.raises(ValueError, match="DISTANCE"):
        await repository.site_page(SitePageQuery(SiteFilter(), SiteOrder.DISTANCE, limit=1))


async def test_the_exact_distance_decides_not_the_box(repository: Repository) -> None:
    """A site in the corner of the radius's bounding box is farther than the radius."""
    corner = _located(1, 0.8, 0.8)  # inside the 100 km box (0.9 degrees), 126 km away
    inside = _located(2, 0.6, 0.6)  # 94 km away
    unlocated = SiteRecord(id=3)
    half = _located(4, 0.0, 0.0)
    half_located = SiteRecord(id=5, latitude=0.0)
    await _write(repository, [corner, inside, unlocated, half, half_located])
    assert _distance_km(0, 0, 0.8, 0.8) > 100 > _distance_km(0, 0, 0.6, 0.6)
    near = SiteFilter(near=GeoRadius(0, 0, 100), include_unpublished=True)
    assert await _ids(repository, near) == [2, 4]


async def test_a_radius_across_the_antimeridian(repository: Repository) -> None:
    centre = (-17.0, 179.95)  # Fiji
    sites = [
        _located(1, -17.0, 179.8),
        _located(2, -17.0, -179.9),
        _located(3, -17.0, -179.7),
        _located(4, -17.1, 180.0),
        _located(5, -17.0, -180.0),
        _located(6, -17.0, 0.0),
    ]
    await _write(repository, sites)
    near = GeoRadius(*centre, radius_km=20)
    expected = [
        s.id
        for s in sites
        if _distance_km(*centre, s.latitude or 0, s.longitude or 0) <= near.radius_km
    ]
    assert expected == [1, 2, 4, 5]  # both sides of the antimeridian
    assert await _ids(repository, SiteFilter(near=near)) == expected
    by_distance = await _all(repository, SiteFilter(near=near), SiteOrder.DISTANCE)
    assert [hit.site.id for hit in by_distance] == sorted(
        expected, key=lambda i: (_distance_km(*centre, *_point(sites, i)), i)
    )


async def test_a_radius_over_a_pole(repository: Repository) -> None:
    centre = (89.9, 0.0)
    sites = [
        _located(1, 89.9, 180.0),  # across the pole, 22 km away
        _located(2, 89.8, 90.0),
        _located(3, 89.6, -120.0),
        _located(4, 89.0, 0.0),  # 100 km south
        _located(5, 90.0, 45.0),  # the pole itself
    ]
    await _write(repository, sites)
    near = GeoRadius(*centre, radius_km=50)
    expected = [
        s.id
        for s in sites
        if _distance_km(*centre, s.latitude or 0, s.longitude or 0) <= near.radius_km
    ]
    assert 1 in expected
    assert 4 not in expected
    assert await _ids(repository, SiteFilter(near=near)) == expected


def _point(sites: Sequence[SiteRecord], site_id: int) -> tuple[float, float]:
    site = next(s for s in sites if s.id == site_id)
    assert site.latitude is not None
    assert site.longitude is not None
    return site.latitude, site.longitude


async def test_a_map_view_includes_its_edges_and_crosses_the_antimeridian(
    repository: Repository,
) -> None:
    sites = [
        _located(1, -15.0, 179.5),
        _located(2, -15.0, -179.5),
        _located(3, -15.0, 0.0),
        _located(4, -15.0, 180.0),
        _located(5, -15.0, -180.0),
        _located(6, -20.0, 178.0),  # on the south-west corner
        _located(7, -10.0, -178.0),  # on the north-east corner
        _located(8, -9.9, 179.0),  # just north
        _located(9, -15.0, 177.9),  # just west
        SiteRecord(id=10),
    ]
    await _write(repository, sites)
    across = GeoBox(south=-20, west=178, north=-10, east=-178)
    assert await _ids(repository, SiteFilter(within=across)) == [1, 2, 4, 5, 6, 7]
    assert await repository.count_sites(SiteFilter(within=across)) == 6
    plain = GeoBox(south=-20, west=-1, north=-10, east=1)
    assert await _ids(repository, SiteFilter(within=plain)) == [3]


async def test_the_index_box_is_rounded_so_coordinates_are_checked_again(
    repository: Repository,
) -> None:
    """The R*Tree keeps 32-bit floats (a few metres here), rounded outwards: sites a hair
    outside a box are among its candidates, and must still be left out."""
    sites = [
        _located(1, 59.0, 24.0),
        _located(2, 59.0000001, 24.0),
        _located(3, 58.9999999, 24.0),
        _located(4, 58.5, 24.0000001),
        _located(5, 58.5, 23.9999999),
    ]
    await _write(repository, sites)
    box = GeoBox(south=58, west=23, north=59.0, east=24.0)
    assert await _ids(repository, SiteFilter(within=box)) == [1, 3, 5]


async def test_near_and_within_together_keep_what_both_keep(repository: Repository) -> None:
    sites = [_located(1, 59.43, 24.70), _located(2, 59.43, 24.80), _located(3, 59.6, 24.75)]
    await _write(repository, sites)
    filter = SiteFilter(
        near=GeoRadius(*TALLINN, radius_km=10),
        within=GeoBox(south=59, west=24.75, north=60, east=25),
    )
    assert await _ids(repository, filter) == [2]
    assert await repository.count_sites(filter) == 1


def _inside_box(box: GeoBox, latitude: float, longitude: float) -> bool:
    if not box.south <= latitude <= box.north:
        return False
    if box.west <= box.east:
        return box.west <= longitude <= box.east
    return longitude >= box.west or longitude <= box.east


async def test_random_searches_over_the_whole_globe_match_a_plain_scan(
    repository: Repository,
) -> None:
    """Sites everywhere, thickest at the poles and along the antimeridian, and radii and
    boxes anywhere: what the index and the SQL keep is what a scan of every site keeps."""
    rng = random.Random(16)

    def somewhere() -> tuple[float, float]:
        latitude = rng.choice([rng.uniform(-90, 90), rng.uniform(80, 90), rng.uniform(-90, -80)])
        longitude = rng.choice([rng.uniform(-180, 180), 180 - rng.uniform(0, 3)])
        return latitude, -longitude if rng.random() < 0.5 else longitude

    sites = [_located(n, *somewhere()) for n in range(1, 1501)]
    await _write(repository, sites)
    for _ in range(25):
        centre = somewhere()
        near = GeoRadius(*centre, radius_km=rng.choice([5.0, 50.0, 500.0, 3000.0]))
        distances = {s.id: _distance_km(*centre, *_point(sites, s.id)) for s in sites}
        # Leave out sites a hair from the radius, where two formulas may round apart.
        borderline = {i for i, d in distances.items() if abs(d - near.radius_km) < 1e-6}
        hits = await _all(repository, SiteFilter(near=near), SiteOrder.DISTANCE)
        expected = {i for i, d in distances.items() if d <= near.radius_km} - borderline
        assert {hit.site.id for hit in hits} - borderline == expected
        for hit in hits:
            assert hit.distance_km == pytest.approx(distances[hit.site.id], abs=1e-6)
        south, north = sorted(rng.uniform(-90, 90) for _ in range(2))
        box = GeoBox(south, rng.uniform(-180, 180), north, rng.uniform(-180, 180))
        inside = [s.id for s in sites if _inside_box(box, *_point(sites, s.id))]
        assert await _ids(repository, SiteFilter(within=box)) == inside


# -- keyset pages --------------------------------------------------------------------------

# Three sites share each spot, so distances tie and the id breaks the ties.
_SPOTS = [(59.437, 24.7536), (59.44, 24.76), (59.45, 24.70), (59.42, 24.80), (59.40, 24.75)]
_TIED = [
    _located(spot * 10 + n, latitude, longitude)
    for spot, (latitude, longitude) in enumerate(_SPOTS, start=1)
    for n in (3, 1, 2)
]


def _key(order: SiteOrder, hit: SiteHit) -> SiteSeekKey:
    return SiteSeekKey(order, hit.site.id, hit.distance_km)


async def _forward(repository: Repository, filter: SiteFilter, order: SiteOrder) -> list[int]:
    seen: list[int] = []
    after: SiteSeekKey | None = None
    while True:
        page = await repository.site_page(SitePageQuery(filter, order, limit=2, after=after))
        seen += [hit.site.id for hit in page]
        if len(page) < 2:
            return seen
        after = _key(order, page[-1])


async def _backward(repository: Repository, filter: SiteFilter, order: SiteOrder) -> list[int]:
    seen: list[int] = []
    before: SiteSeekKey | None = None
    while True:
        page = await repository.site_page(
            SitePageQuery(filter, order, limit=2, before=before, backward=True)
        )
        seen += [hit.site.id for hit in page]  # nearest to `before` first
        if len(page) < 2:
            return seen[::-1]
        before = _key(order, page[-1])


@pytest.mark.parametrize("order", list(SiteOrder))
async def test_pages_walk_every_site_once_both_ways(
    repository: Repository, order: SiteOrder
) -> None:
    await _write(repository, _TIED)
    filter = SiteFilter(near=GeoRadius(*TALLINN, radius_km=50))
    whole = await _all(repository, filter, order)
    if order is SiteOrder.DISTANCE:
        expected = sorted(
            (s.id for s in _TIED),
            key=lambda i: (_distance_km(*TALLINN, *_point(_TIED, i)), i),
        )
    else:
        expected = sorted((s.id for s in _TIED), reverse=order is SiteOrder.ID_DESC)
    assert [hit.site.id for hit in whole] == expected
    assert await _forward(repository, filter, order) == expected
    assert await _backward(repository, filter, order) == expected


async def test_a_distance_cursor_seeks_past_its_ties_and_bounds_both_ends(
    repository: Repository,
) -> None:
    await _write(repository, _TIED)
    filter = SiteFilter(near=GeoRadius(*TALLINN, radius_km=50))
    order = SiteOrder.DISTANCE
    whole = await _all(repository, filter, order)
    tied = [hit for hit in whole if hit.site.id // 10 == 2]  # the second spot's three
    assert len({hit.distance_km for hit in tied}) == 1
    middle = _key(order, tied[1])

    async def ids(**bounds: object) -> list[int]:
        query = SitePageQuery(filter, order, limit=100, **bounds)  # type: ignore[arg-type]
        return [hit.site.id for hit in await repository.site_page(query)]

    ordered = [hit.site.id for hit in whole]
    at = ordered.index(tied[1].site.id)
    assert await ids(after=middle) == ordered[at + 1 :]
    assert await ids(after=middle, inclusive=True) == ordered[at:]
    assert await ids(before=middle) == ordered[:at]
    assert await ids(before=middle, backward=True) == ordered[:at][::-1]
    assert await ids(before=middle, backward=True, inclusive=True) == ordered[: at + 1][::-1]
    last = _key(order, whole[-1])
    assert await ids(after=middle, before=last) == ordered[at + 1 : -1]
    with pytest.raises(ValueError, match="distance"):
        await ids(after=SiteSeekKey(order, 1))


# -- connections of a page of sites --------------------------------------------------------


async def test_the_connections_of_many_sites_are_one_statement(repository: Repository) -> None:
    sites = [SiteRecord(id=n) for n in range(1, 41)]
    connections = [
        ConnectionWrite(id=site.id * 10 + k, charge_point_id=site.id, power_kw=10.0 * k)
        for site in sites
        if site.id % 4
        for k in (3, 1, 2)
    ]
    await _write(repository, sites, connections)
    ids = [s.id for s in sites]
    before = repository.statement_count
    found = await repository.connections_of_sites(ids, ConnectionFilter())
    assert repository.statement_count - before == 1
    assert sorted(found) == [i for i in ids if i % 4]
    assert [c.id for c in found[1]] == [11, 12, 13]
    assert all(c.charge_point_id == 1 for c in found[1])
    strong = await repository.connections_of_sites(ids, ConnectionFilter(min_power_kw=25))
    assert [c.id for c in strong[6]] == [63]
    assert set(strong) == set(found)
    before = repository.statement_count
    assert await repository.connections_of_sites([], ConnectionFilter()) == {}
    assert repository.statement_count == before


async def test_a_replicated_repository_reads_sites_from_the_replica_until_it_writes(
    tmp_path: Path,
) -> None:
    """Two SQLite files stand in for a primary and its replica, each with a site of its
    own at the same spot, so an answer shows which one served it."""
    primary = await SqliteRepository.open(tmp_path / "primary.db")
    replica = await SqliteRepository.open(tmp_path / "replica.db")
    replicated = ReplicatedRepository(primary, replica)
    try:
        for side, site_id in ((primary, 1), (replica, 2)):
            await _write(side, [_located(site_id, 59.43, 24.75)])
        near = SiteFilter(near=GeoRadius(*TALLINN, radius_km=5))
        request = replicated.for_request()
        assert await _ids(request, near) == [2]
        assert await request.count_sites(near) == 1
        assert list(await request.sites_by_ids([1, 2])) == [2]
        assert await request.connections_of_sites([2], ConnectionFilter()) == {}
        await request.write_sites([SiteRecord(id=3)], [], replace_site_connections=False)
        assert await _ids(request, near) == [1]
        assert list(await request.sites_by_ids([1, 2, 3])) == [1, 3]
    finally:
        await replicated.close()


# -- the two plans of a spatial search -----------------------------------------------------


def _planning(repository: Repository, planning: SpatialPlanning) -> None:
    assert isinstance(repository, SqliteRepository | PostgresRepository)
    repository.spatial_planning = planning


def _random_area(rng: random.Random) -> SiteFilter:
    """A radius or a box (or both), small or huge, anywhere, across the antimeridian too,
    sometimes with other conditions."""
    latitude, longitude = rng.choice(_AREA_TOWNS)
    latitude += rng.gauss(0, 0.5)
    longitude = (longitude + rng.gauss(0, 1) + 180) % 360 - 180
    near = GeoRadius(latitude, longitude, rng.choice([0.5, 5.0, 30.0, 300.0, 5000.0]))
    south = latitude - rng.choice([0.05, 0.5, 5.0, 60.0])
    north = latitude + rng.choice([0.05, 0.5, 5.0, 60.0])
    half_width = rng.choice([0.1, 1.0, 10.0, 170.0])
    box = GeoBox(
        max(south, -90),
        (longitude - half_width + 540) % 360 - 180,
        min(north, 90),
        (longitude + half_width + 540) % 360 - 180,
    )
    kind = rng.choice(["near", "within", "both"])
    return SiteFilter(
        near=None if kind == "within" else near,
        within=None if kind == "near" else box,
        connections=rng.choice([None, ConnectionFilter(min_power_kw=50)]),
        include_unpublished=rng.random() < 0.3,
    )


_AREA_TOWNS = [(59.437, 24.7536), (64.1466, -21.9426), (-16.8, 179.9), (0.0, 0.0)]


async def _every_page(
    repository: Repository, filter: SiteFilter, order: SiteOrder
) -> list[SiteHit]:
    """The whole search, walked by pages of 7 (so every seek runs too), and back."""
    hits: list[SiteHit] = []
    after: SiteSeekKey | None = None
    while True:
        page = await repository.site_page(SitePageQuery(filter, order, limit=7, after=after))
        hits += page
        if len(page) < 7:
            break
        after = _key(order, page[-1])
    if hits:
        back = await repository.site_page(
            SitePageQuery(filter, order, limit=7, before=_key(order, hits[-1]), backward=True)
        )
        assert back == hits[-8:-1][::-1]
    return hits


async def test_both_plans_of_a_spatial_search_give_the_same_pages_and_counts(
    repository: Repository,
) -> None:
    """Random radii and boxes over clustered sites (some unlocated, some hidden, some with
    a strong connection): the scan gives exactly what the spatial index gives."""
    rng = random.Random(1616)
    sites = []
    for site_id in range(1, 3001):
        if site_id % 97 == 0:
            sites.append(SiteRecord(id=site_id, status_type_id=200 if site_id % 2 else None))
            continue
        latitude, longitude = rng.choice(_AREA_TOWNS)
        sites.append(
            SiteRecord(
                id=site_id,
                latitude=max(-90.0, min(90.0, latitude + rng.gauss(0, 0.3))),
                longitude=(longitude + rng.gauss(0, 0.6) + 180) % 360 - 180,
                status_type_id=200 if site_id % 13 == 0 else 50,
            )
        )
    connections = [
        ConnectionWrite(id=site.id, charge_point_id=site.id, power_kw=float(site.id % 100))
        for site in sites
    ]
    await _write(repository, sites, connections)
    sizes = []
    for _ in range(40):
        filter = _random_area(rng)
        order = rng.choice(
            list(SiteOrder) if filter.near is not None else [SiteOrder.ID_ASC, SiteOrder.ID_DESC]
        )
        answers = []
        for plan in SitePlan:
            _planning(repository, SpatialPlanning(forced=plan))
            answers.append(
                (await _every_page(repository, filter, order), await repository.count_sites(filter))
            )
        assert answers[0] == answers[1], filter
        assert answers[0][1] == len(answers[0][0])
        sizes.append(answers[0][1])
    # The searches range from empty to most of the sites.
    assert min(sizes) == 0
    assert max(sizes) > 1500
    assert sum(1 for size in sizes if size > 0) >= 20, sizes


@pytest.mark.parametrize(
    ("candidates_first", "sample_percent"),
    [(False, None), (True, None), (False, 100.0)],
    ids=["window", "candidates-first", "sampled"],
)
async def test_a_large_area_is_scanned_and_a_small_one_read_through_the_index(
    repository: Repository, candidates_first: bool, sample_percent: float | None
) -> None:
    """A page by id probes a window of sites in its order: with a full page of matches
    there, it scans; otherwise it reads the index. A count probes the index's candidates
    up to its threshold. Either way one statement more than without an area."""
    # Nine sites in ten spread at low latitudes, every tenth in a small cluster.
    sites = [
        _located(n, 59.4 + n / 100_000 if n % 10 == 0 else 10 + n / 1000, 24.7)
        for n in range(1, 2001)
    ]
    await _write(repository, sites)
    _planning(
        repository,
        SpatialPlanning(
            window_per_row=5,
            every_match_from=1_500,
            candidates_first=candidates_first,
            sample_percent=sample_percent,
        ),
    )
    seen: list[str] = []
    repository.add_statement_listener(seen.append)
    cluster = SiteFilter(within=GeoBox(south=59.4, west=24, north=59.5, east=25))  # 200 sites
    spread = SiteFilter(within=GeoBox(south=10, west=24, north=12, east=25))  # 1,800
    everything = SiteFilter(near=GeoRadius(35, 24.7, radius_km=5_000))

    async def statements(search: Awaitable[object]) -> list[str]:
        seen.clear()
        await search
        return list(seen)

    def by_index(sql: str) -> bool:
        return "charge_point_location" in sql or "<@" in sql

    for filter, order, expected_index in (
        (cluster, SiteOrder.ID_ASC, True),  # 5 of a window of 50: fewer than a page
        (spread, SiteOrder.ID_ASC, False),
        (spread, SiteOrder.ID_DESC, False),
        (everything, SiteOrder.ID_ASC, False),
    ):
        probe, page = await statements(repository.site_page(SitePageQuery(filter, order, 10)))
        assert by_index(probe) is candidates_first, probe
        assert by_index(page) is expected_index, page
    # Two sites, the last two ids: a window of 5 by id descending holds a page of one,
    # but counted first, two candidates are fewer than a window: the index.
    tiny = SiteFilter(within=GeoBox(south=59.41985, west=24, north=59.4201, east=25))
    query = SitePageQuery(tiny, SiteOrder.ID_DESC, 1)
    probe, page = await statements(repository.site_page(query))
    assert by_index(page) is candidates_first, page
    assert [hit.site.id for hit in await repository.site_page(query)] == [2000]
    # A count's probe counts the index's candidates, or (PostgreSQL) samples the table.
    samples = sample_percent is not None and isinstance(repository, PostgresRepository)
    for filter, expected_index in ((cluster, True), (everything, False)):
        probe, page = await statements(
            repository.site_page(SitePageQuery(filter, SiteOrder.DISTANCE, 10))
            if filter.near is not None
            else repository.count_sites(filter)
        )
        assert by_index(probe) is not samples, probe
        assert ("TABLESAMPLE" in probe) is samples, probe
        assert by_index(page) is expected_index, page
        probe, count = await statements(repository.count_sites(filter))
        assert by_index(count) is expected_index, count
    # Without an area there is nothing to probe: one statement.
    assert len(await statements(repository.count_sites(SiteFilter()))) == 1
    page = SitePageQuery(SiteFilter(), SiteOrder.ID_ASC, 5)
    assert len(await statements(repository.site_page(page))) == 1
