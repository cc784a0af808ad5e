"""bench/run.py --spatial on a small dataset: each scenario's answer is the same, byte for
byte, from the server and from the floor (bench/floor_app.py), which the benchmark's
ratios rely on; and the scenarios search where the benchmark says they do."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import orjson
import pytest

from bench.run import (
    BENCH,
    SPATIAL_PAGE_SIZE,
    SPATIAL_RADIUS_KM,
    _same_body,
    _serving,
    deep_rank,
    distance_cursor,
    spatial_candidates,
    spatial_plan,
    spatial_plans,
    spatial_scenarios,
)
from bench.spatial_seed import seed_sites
from gql.domain.geo import haversine_km
from gql.settings import Settings
from tests.databases import BACKENDS, throwaway_database

# Enough for a deep page around the densest town: about 250 of them lie within the radius.
SITES = 4000


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_spatial_scenarios_answer_alike_on_server_and_floor(
    backend: str, tmp_path: Path
) -> None:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(throwaway_database(backend, tmp_path))
        written = asyncio.run(seed_sites(Settings(database_url=url), SITES))
        assert written[0] == SITES
        database = (
            {"OCM_GQL_DB": url.removeprefix("sqlite:///")}
            if backend == "sqlite"
            else {"OCM_GQL_DATABASE_URL": url}
        )
        _server_pid, server_port = stack.enter_context(
            _serving("server", [sys.executable, "-m", "gql", "serve"], database)
        )
        _floor_pid, floor_port = stack.enter_context(
            _serving("floor", [sys.executable, str(BENCH / "floor_app.py")], database)
        )
        plan = spatial_plan()
        candidates = spatial_candidates(server_port, plan)
        # The index's box holds the radius, and the demo town fills both.
        assert SPATIAL_PAGE_SIZE < candidates.in_radius < candidates.in_radius_box < SITES
        assert SPATIAL_PAGE_SIZE < candidates.in_map_view < SITES
        rank = deep_rank(candidates.in_radius)
        assert rank == candidates.in_radius - SPATIAL_PAGE_SIZE
        cursor = distance_cursor(server_port, plan, rank)
        scenarios = spatial_scenarios(server_port, floor_port, plan, rank, cursor)
        assert [s.key for s in scenarios] == ["radius c=1", "box c=1", "deep radius c=1"]
        # The spatial index answers first, whichever the backend.
        plans = spatial_plans(database, plan)
        index = "charge_point_location"
        assert all(any(index in line for line in lines) for lines in plans.values()), plans
        # Raises BenchError on any difference, or on a page that is not full.
        bodies = {scenario.key: orjson.loads(_same_body(scenario)) for scenario in scenarios}

    first = bodies["radius c=1"]["data"]["chargePoints"]
    deep = bodies["deep radius c=1"]["data"]["chargePoints"]
    distances = [node["distanceKm"] for node in first["nodes"] + deep["nodes"]]
    assert distances == sorted(distances)
    assert distances[SPATIAL_PAGE_SIZE] > distances[SPATIAL_PAGE_SIZE - 1]  # pages far apart
    # The last full page within the radius: nothing after it.
    assert deep["pageInfo"]["hasNextPage"] is False
    for node in deep["nodes"]:
        location = node["location"]
        exact = haversine_km(
            plan.latitude, plan.longitude, location["latitude"], location["longitude"]
        )
        assert node["distanceKm"] == pytest.approx(exact, abs=1e-9)
        assert node["distanceKm"] <= SPATIAL_RADIUS_KM
        assert node["connections"]
    box = plan.box
    for node in bodies["box c=1"]["data"]["chargePoints"]["nodes"]:
        assert box["south"] <= node["location"]["latitude"] <= box["north"]
        assert box["west"] <= node["location"]["longitude"] <= box["east"]
        assert node["distanceKm"] is None
