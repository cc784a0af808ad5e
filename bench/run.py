"""Performance suite: the GraphQL server beside a hand-written floor, over real HTTP.

Usage, from the repository root:

    .venv/bin/python bench/run.py [--quick] [--rows N] [--duration S] [--rounds N]
        [--warmup S] [--load auto|wrk|python] [--database-url URL] [--workers N | --spatial]

Serves a generated dataset (1,000,000 connections with their sites by default, made once
with `ocm-gql seed --demo N` and cached in bench/.cache) from `ocm-gql serve` and from
bench/floor_app.py, each a single-worker uvicorn process on loopback. For every scenario
it first checks that both return the same body, byte for byte, then drives each in turn
with a load generator in its own process (Debian's `wrk`, or bench/load.py) at a fixed
concurrency for a fixed time. It prints requests/s, p50/p99 latency, the ratio
server/floor per scenario, the peak RSS of both servers, and PASS/FAIL against the
targets; the results also go to bench/results/latest.json.

With `--workers N` it measures scaling instead: `ocm-gql serve --workers N` beside
`ocm-gql serve --workers 1`, on the same data in the same run, at concurrency 16 for pages
of 100 and 1,000; it prints requests/s of both, the ratio, requests/s per worker, and the
CPU the servers and the load generator used (results in bench/results/latest-workers.json).

With `--spatial` it prices searches by place over N generated sites instead (made once by
bench/spatial_seed.py): a 10 km radius search nearest first, a city-sized map view, and a
radius page deep in the distance order, each beside the floor's /sites; it prints the
candidates the spatial index leaves, the ratios, and the deep page's cost against the
first (results in bench/results/latest-spatial.json).

The exit code is 0 whenever the measurements were made, targets met or not; 1 on an
error, including a body that differs between the server and the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import os
import platform
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson

from gql.domain.geo import radius_boxes
from gql.repository.url import Backend, BadDatabaseUrl, DatabaseUrl, hide_password

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results" / "latest.json"
POSTGRES_RESULTS = BENCH / "results" / "latest-postgres.json"

DEFAULT_ROWS = 1_000_000
QUICK_ROWS = 200_000
MIN_ROWS = 10_000
DEEP_FRACTION = 0.9  # the deep page starts after this fraction of the rows
ENTITY_COUNT = 1000
PAGE_SIZES = (10, 100, 1000)
CONCURRENCIES = (1, 16)
DEEP_PAGE_SIZE = 100
FILTER_PAGE_SIZE = 100
# Type 2 and CCS (Type 2) connectors, operational, 50 kW or more, most powerful first.
FILTER: dict[str, object] = {
    "connectionTypeIds": [25, 33],
    "isOperational": True,
    "minPowerKw": 50.0,
}
FILTER_ORDER = "POWER_KW_DESC"

RATIO_TARGET = 0.5  # server/floor throughput, pages of 100 and 1,000, c=1 and c=16
DEEP_TARGET = 1.5  # server latency of the deep page / of the first page
RSS_TARGET = 2.0  # server peak RSS / floor peak RSS
SCALING_TARGET = 1.5  # req/s of `serve --workers 2` / of one worker, at c=16
SCALING_CONCURRENCY = 16
WORKERS_RESULTS = BENCH / "results" / "latest-workers.json"

SEED_TIMEOUT_S = 3600.0
READY_TIMEOUT_S = 60.0
HTTP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
LOAD_GRACE_S = 120.0  # beyond warm-up and duration, before a load run counts as hung
NOISY_CPUS = 0.1  # CPUs other processes used while timing, above which a warning shows

NODE_FIELDS = """id connectionTypeId reference statusTypeId levelId amps voltage powerKw
      currentTypeId quantity comments chargePointId
      connectionType { id title formalName isDiscontinued isObsolete }
      statusType { id title isOperational isUserSelectable }
      level { id title comments isFastChargeCapable }
      currentType { id title description }"""

PAGE_QUERY = f"""query Page($first: Int!, $after: String, $filter: ConnectionInfoFilter,
    $orderBy: ConnectionInfoOrder) {{
  connectionInfos(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {{
    nodes {{
      {NODE_FIELDS}
    }}
    pageInfo {{ endCursor hasNextPage }}
  }}
}}"""

ENTITIES_QUERY = f"""query Entities($representations: [_Any!]!) {{
  _entities(representations: $representations) {{
    ... on ConnectionInfo {{
      {NODE_FIELDS}
    }}
  }}
}}"""

CURSOR_QUERY = """query Cursor($id: Int!) {
  connectionInfos(first: 1, filter: {ids: [$id]}) { edges { cursor } }
}"""

# The spatial scenarios (--spatial): a radius search and a map view around the demo
# profile's densest town, and a radius page deep in the distance order.
SPATIAL_RESULTS = BENCH / "results" / "latest-spatial.json"
POSTGRES_SPATIAL_RESULTS = BENCH / "results" / "latest-spatial-postgres.json"
SPATIAL_RADIUS_KM = 10.0
MAP_VIEW_KM = 11.0  # each side of the map view: a city on a phone's screen
KM_PER_DEGREE = 111.195  # of latitude, on the mean earth sphere
SPATIAL_PAGE_SIZE = 100
SPATIAL_DEEP_RANK = 5000  # the deep page starts after this many of the nearest sites
SPATIAL_CURSOR_PAGE = 1000  # pages read to reach that rank's cursor

SITE_FIELDS = """id uuid title operatorId usageTypeId usageCost statusTypeId
      submissionStatusTypeId numberOfPoints generalComments dateCreated
      dateLastStatusUpdate dateLastVerified dataProviderId distanceKm
      location { latitude longitude }
      address { addressLine1 addressLine2 town stateOrProvince postcode countryId
        accessComments relatedUrl contactTelephone1 }
      connections { id connectionTypeId reference statusTypeId levelId amps voltage
        powerKw currentTypeId quantity comments chargePointId }"""

SPATIAL_QUERY = f"""query Sites($first: Int!, $after: String, $near: GeoRadius,
    $within: GeoBox, $orderBy: ChargePointOrder) {{
  chargePoints(first: $first, after: $after, near: $near, within: $within,
      orderBy: $orderBy) {{
    nodes {{
      {SITE_FIELDS}
    }}
    pageInfo {{ endCursor hasNextPage }}
  }}
}}"""

SPATIAL_COUNT_QUERY = """query Count($near: GeoRadius, $within: GeoBox) {
  chargePoints(first: 0, near: $near, within: $within) { totalCount }
}"""

SPATIAL_CURSOR_QUERY = """query Cursor($first: Int!, $after: String, $near: GeoRadius,
    $orderBy: ChargePointOrder) {
  chargePoints(first: $first, after: $after, near: $near, orderBy: $orderBy) {
    nodes { id }
    pageInfo { endCursor }
  }
}"""

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class BenchError(Exception):
    """The benchmark cannot give a meaningful result; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """One server and the HTTP request that asks it for one scenario's answer."""

    name: str
    port: int
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def raw(self) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body is not None:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + (self.body or b"")


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    title: str
    concurrency: int
    server: Target
    floor: Target
    expected_items: int


@dataclass(frozen=True, slots=True)
class LoadRun:
    """How one load generator run drives a server."""

    concurrency: int
    warmup: int
    """Seconds of requests before the timed part, not counted."""
    duration: int
    """Seconds of the timed part."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One timed run of one side of a scenario."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int


@dataclass(slots=True)
class Result:
    scenario: Scenario
    body_bytes: int
    floor: list[Sample] = field(default_factory=list)
    server: list[Sample] = field(default_factory=list)

    @staticmethod
    def best(samples: list[Sample]) -> Sample:
        return max(samples, key=lambda s: s.rps)

    @property
    def ratio(self) -> float:
        return self.best(self.server).rps / self.best(self.floor).rps

    @property
    def p50_ratio(self) -> float:
        """The floor's lowest p50 over the server's: the ratio told by typical requests,
        which stalls from other processes disturb less than throughput."""
        floor = min(s.p50_ms for s in self.floor)
        server = min(s.p50_ms for s in self.server)
        return floor / server


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    value: float
    limit: float
    passed: bool
    detail: str


class CpuMeter:
    """CPU time this machine spent on other processes than the benchmark's, from /proc:
    anything much above zero means the numbers are noisier than they should be."""

    def __init__(self, pids: list[int]) -> None:
        self._pids = pids
        self._started = time.monotonic()
        self._start = self._sample()

    def _sample(self) -> tuple[float, float]:
        """(CPU-seconds the machine has been busy, of which the benchmark's processes)."""
        ticks = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat", encoding="ascii") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal: all but idle and iowait are busy,
        # steal included (the hypervisor gave the CPU to another machine).
        busy = sum(values[:3]) + sum(values[5:8])
        times = os.times()
        ours = times.user + times.system + times.children_user + times.children_system
        for pid in self._pids:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ours += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return busy / ticks, ours

    def others(self) -> float:
        """CPUs used on average by other processes since the meter started."""
        busy, ours = self._sample()
        elapsed = time.monotonic() - self._started
        return max(0.0, (busy - self._start[0]) - (ours - self._start[1])) / elapsed


def main() -> int:
    args = _arguments()
    # SIGTERM unwinds like Ctrl-C does, so the servers are stopped either way.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        return _run(args)
    except BenchError as error:
        print(f"bench: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_ROWS:,} rows and short runs (about two minutes)",
    )
    parser.add_argument(
        "--rows",
        type=_positive_int,
        default=None,
        help=f"connections in the dataset, or sites with --spatial (default {DEFAULT_ROWS:,}; "
        f"{QUICK_ROWS:,} with --quick)",
    )
    parser.add_argument(
        "--duration",
        type=_positive_int,
        default=None,
        help="seconds of each timed run (default 3, or 1 with --quick)",
    )
    parser.add_argument(
        "--rounds",
        type=_positive_int,
        default=None,
        help="timed runs per side and scenario; the best counts (default 5, or 2 with --quick)",
    )
    parser.add_argument(
        "--warmup",
        type=_non_negative_int,
        default=1,
        help="seconds of warm-up before each timed run (default 1)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        metavar="URL",
        help="run on this PostgreSQL server (postgresql://user@host:port/database): the "
        "dataset goes into a database of its own beside the one named, made once and reused",
    )
    parser.add_argument(
        "--load",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (when on PATH, the default) or bench/load.py",
    )
    parser.add_argument(
        "--spatial",
        action="store_true",
        help="searches by place instead: a radius search, a map view and a deep radius page "
        "over generated sites (--rows then counts sites)",
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        default=None,
        metavar="N",
        help="measure `serve --workers N` beside one worker (pages of 100 and 1,000 at c=16) "
        "instead of the server beside the floor",
    )
    args = parser.parse_args()
    if args.spatial and args.workers is not None:
        parser.error("--spatial and --workers measure different things; pass one")
    if args.rows is None:
        args.rows = QUICK_ROWS if args.quick else DEFAULT_ROWS
    if args.rows < MIN_ROWS:
        parser.error(f"--rows must be at least {MIN_ROWS:,}")
    if args.duration is None:
        args.duration = 1 if args.quick else 3
    if args.rounds is None:
        args.rounds = 2 if args.quick else 5
    if args.database_url is not None:
        try:
            database = DatabaseUrl.parse(args.database_url)
        except BadDatabaseUrl as error:
            parser.error(f"--database-url: {error}")
        if database.backend is not Backend.POSTGRES:
            parser.error("--database-url must be a postgresql:// URL (SQLite is the default)")
    if args.load == "auto":
        args.load = "wrk" if shutil.which("wrk") else "python"
    elif args.load == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not on PATH (Debian: apt-get install wrk)")
    return args


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.spatial:
        return _spatial(args, started)
    deep_after = round(args.rows * DEEP_FRACTION)
    if args.database_url is None:
        db, seed_seconds = _dataset(Dataset("connections", args.rows))
        ids = _sqlite_ids(db)
        database = {"OCM_GQL_DB": str(db)}
    else:
        url, seed_seconds = _postgres_dataset(args.database_url, Dataset("connections", args.rows))
        ids = asyncio.run(_postgres_ids(url))
        database = {"OCM_GQL_DATABASE_URL": url}
    if args.workers is not None:
        _scaling(args, database)
        print(f"\nwhole run {time.monotonic() - started:,.0f} s")
        return 0
    deep_id, entity_ids = _dataset_keys(ids, args.rows, deep_after)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ocm-gql-bench-")))
        server_pid, server_port = stack.enter_context(
            _serving("server", [sys.executable, "-m", "gql", "serve"], database)
        )
        floor_pid, floor_port = stack.enter_context(
            _serving("floor", [sys.executable, str(BENCH / "floor_app.py")], database)
        )
        cursor = _cursor_of(server_port, deep_id)
        scenarios = _scenarios(server_port, floor_port, cursor, deep_after, entity_ids)
        print(
            f"{args.rows:,} rows on {'SQLite' if args.database_url is None else 'PostgreSQL'}; "
            f"load generator {args.load}, a single thread; "
            f"{args.rounds} timed runs of {args.duration} s per side and scenario, the first "
            f"after {args.warmup} s of warm-up; the best run counts"
        )
        print("checking that the server and the floor answer alike:")
        bodies = {scenario.key: _same_body(scenario) for scenario in scenarios}
        generator_rps = _generator_ceiling(floor_port, work, args)
        print(f"load generator against the floor's /healthz at c=16: {generator_rps:,.0f} req/s")
        print("timing:")
        cpu = CpuMeter([server_pid, floor_pid])
        results = _timed(scenarios, bodies, work, args)
        other_cpus = cpu.others()
        rss_kb = {"floor": _peak_rss_kb(floor_pid), "server": _peak_rss_kb(server_pid)}
    checks = _checks(results, rss_kb, deep_after)
    _report(results, rss_kb, checks, generator_rps, other_cpus)
    _save(results, rss_kb, checks, generator_rps, other_cpus, seed_seconds, deep_after, args)
    print(f"\nwhole run {time.monotonic() - started:,.0f} s")
    return 0


def _timed(
    scenarios: list[Scenario], bodies: dict[str, bytes], work: Path, args: argparse.Namespace
) -> list[Result]:
    """Each scenario's rounds, both sides, the body checked under load."""
    results = []
    for scenario in scenarios:
        result = Result(scenario, len(bodies[scenario.key]))
        for round_ in range(args.rounds):
            # Alternate which goes first, so drift during a scenario favours neither.
            pair = [(scenario.floor, result.floor), (scenario.server, result.server)]
            for target, samples in pair if round_ % 2 == 0 else reversed(pair):
                # The first run of each side warms its server up for the scenario.
                run = LoadRun(
                    scenario.concurrency, args.warmup if round_ == 0 else 0, args.duration
                )
                samples.append(_load(target, run, len(bodies[scenario.key]), work, args))
        print(
            f"  {scenario.title:<34} c={scenario.concurrency:<3} ratio {result.ratio:.3f}",
            flush=True,
        )
        results.append(result)
    return results


# -- --spatial: sites found by place ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpatialPlan:
    """Where the spatial scenarios search: around the demo profile's densest town."""

    town: str
    latitude: float
    longitude: float

    @property
    def near(self) -> dict[str, float]:
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "radiusKm": SPATIAL_RADIUS_KM,
        }

    @property
    def box(self) -> dict[str, float]:
        """A city-sized map view centred on the town, MAP_VIEW_KM on each side."""
        half = MAP_VIEW_KM / 2 / KM_PER_DEGREE
        spread = half / math.cos(math.radians(self.latitude))
        return {
            "south": round(self.latitude - half, 6),
            "west": round(self.longitude - spread, 6),
            "north": round(self.latitude + half, 6),
            "east": round(self.longitude + spread, 6),
        }

    @property
    def index_box(self) -> dict[str, float]:
        """The box the spatial index is asked for around the radius (gql/domain/geo.py)."""
        (box,) = radius_boxes(self.latitude, self.longitude, SPATIAL_RADIUS_KM)
        return box._asdict()


@dataclass(frozen=True, slots=True)
class Candidates:
    """How many sites each search touches, as the server counts them (totalCount)."""

    in_radius: int
    in_radius_box: int
    """In the box the spatial index answers for the radius: the rows a radius search
    reads and measures."""
    in_map_view: int


def spatial_plan() -> SpatialPlan:
    """The densest town of seed/demo_profile.json (most real sites, so most demo sites)."""
    profile = orjson.loads((ROOT / "seed" / "demo_profile.json").read_bytes())
    town = max(profile["towns"], key=lambda entry: entry["count"])["town"]
    return SpatialPlan(town["name"], town["latitude"], town["longitude"])


def spatial_candidates(server_port: int, plan: SpatialPlan) -> Candidates:
    def count(variables: dict[str, object]) -> int:
        status, body = _fetch(_graphql(server_port, SPATIAL_COUNT_QUERY, variables))
        try:
            total = orjson.loads(body)["data"]["chargePoints"]["totalCount"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            total = None
        if status != 200 or not isinstance(total, int):
            raise BenchError(f"the server gave no totalCount for {variables}: {body[:300]!r}")
        return total

    return Candidates(
        in_radius=count({"near": plan.near}),
        in_radius_box=count({"within": plan.index_box}),
        in_map_view=count({"within": plan.box}),
    )


def spatial_plans(database: dict[str, str], plan: SpatialPlan) -> dict[str, list[str]]:
    """The query plans of the radius search's and the map view's page statements, built
    by the repository's own statement builder for the backend: they show the spatial index
    answering first (SQLite's R*Tree `charge_point_location`, PostgreSQL's GiST
    `ix_charge_point_location`)."""
    from gql.repository.models import GeoBox, GeoRadius, SiteFilter, SiteOrder, SitePageQuery
    from gql.repository.site_statements import site_page_statement

    near = plan.near
    queries = {
        "radius": SitePageQuery(
            SiteFilter(near=GeoRadius(near["latitude"], near["longitude"], near["radiusKm"])),
            SiteOrder.DISTANCE,
            SPATIAL_PAGE_SIZE + 1,
        ),
        "box": SitePageQuery(
            SiteFilter(within=GeoBox(**plan.box)), SiteOrder.ID_ASC, SPATIAL_PAGE_SIZE + 1
        ),
    }
    if "OCM_GQL_DB" in database:
        from gql.repository.sqlite.repository import DIALECT as SQLITE

        connection = sqlite3.connect(database["OCM_GQL_DB"])
        try:
            plans = {}
            for key, query in queries.items():
                sql, params = site_page_statement(query, SQLITE)
                rows = connection.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
                plans[key] = [row[3] for row in rows]
            return plans
        finally:
            connection.close()
    from gql.repository.postgres.repository import DIALECT as POSTGRES

    async def explain() -> dict[str, list[str]]:
        connection = await _connect(database["OCM_GQL_DATABASE_URL"])
        try:
            plans = {}
            for key, query in queries.items():
                sql, params = site_page_statement(query, POSTGRES)
                rows = await connection.fetch(f"EXPLAIN (COSTS OFF) {sql}", *params)
                # The plan's shape; the long filter and sort expressions are left out.
                plans[key] = [
                    row[0]
                    for row in rows
                    if not row[0].lstrip().startswith(("Filter:", "Sort Key:", "Recheck"))
                ]
            return plans
        finally:
            await connection.close()

    return asyncio.run(explain())


def deep_rank(in_radius: int) -> int:
    """How many of the nearest sites the deep page starts after: SPATIAL_DEEP_RANK, or as
    deep as the radius allows a full page."""
    return max(0, min(SPATIAL_DEEP_RANK, in_radius - SPATIAL_PAGE_SIZE))


def distance_cursor(server_port: int, plan: SpatialPlan, rank: int) -> str | None:
    """The server's cursor of the ``rank``th nearest site, read a page at a time."""
    cursor = None
    left = rank
    while left > 0:
        first = min(left, SPATIAL_CURSOR_PAGE)
        variables: dict[str, object] = {
            "first": first,
            "after": cursor,
            "near": plan.near,
            "orderBy": "DISTANCE",
        }
        status, body = _fetch(_graphql(server_port, SPATIAL_CURSOR_QUERY, variables))
        try:
            page = orjson.loads(body)["data"]["chargePoints"]
            cursor = page["pageInfo"]["endCursor"]
            read = len(page["nodes"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            cursor, read = None, 0
        if status != 200 or not isinstance(cursor, str) or read != first:
            raise BenchError(f"the server gave no cursor {rank - left + first}: {body[:300]!r}")
        left -= first
    return cursor


def spatial_scenarios(
    server_port: int, floor_port: int, plan: SpatialPlan, rank: int, cursor: str | None
) -> list[Scenario]:
    near = plan.near
    box = plan.box
    near_param = f"{near['latitude']!r},{near['longitude']!r},{near['radiusKm']!r}"
    box_param = ",".join(repr(box[edge]) for edge in ("south", "west", "north", "east"))

    def scenario(
        key: str,
        title: str,
        concurrency: int,
        variables: dict[str, object],
        params: dict[str, object],
    ) -> Scenario:
        return Scenario(
            key=f"{key} c={concurrency}",
            title=title,
            concurrency=concurrency,
            server=_graphql(server_port, SPATIAL_QUERY, {"first": SPATIAL_PAGE_SIZE, **variables}),
            floor=Target(
                "floor",
                floor_port,
                "GET",
                "/sites?" + urlencode({"first": SPATIAL_PAGE_SIZE, **params}),
            ),
            expected_items=SPATIAL_PAGE_SIZE,
        )

    radius_title = f"{SPATIAL_RADIUS_KM:g} km of {plan.town}, nearest {SPATIAL_PAGE_SIZE}"
    # One client at a time: a radius search reads tens of thousands of candidates, so 16
    # at once on a small machine would finish too few requests in a timed run to count.
    scenarios = [
        scenario(
            "radius",
            radius_title,
            1,
            {"near": near, "orderBy": "DISTANCE"},
            {"near": near_param, "order": "DISTANCE"},
        ),
        scenario(
            "box",
            f"map view {MAP_VIEW_KM:g} km, first {SPATIAL_PAGE_SIZE}",
            1,
            {"within": box},
            {"within": box_param},
        ),
    ]
    if cursor is not None:
        scenarios.append(
            scenario(
                "deep radius",
                f"{radius_title} after {rank:,}",
                1,
                {"near": near, "orderBy": "DISTANCE", "after": cursor},
                {"near": near_param, "order": "DISTANCE", "after": cursor},
            )
        )
    return scenarios


def _spatial(args: argparse.Namespace, started: float) -> int:
    dataset = Dataset("sites", args.rows)
    if args.database_url is None:
        db, seed_seconds = _dataset(dataset)
        database = {"OCM_GQL_DB": str(db)}
    else:
        url, seed_seconds = _postgres_dataset(args.database_url, dataset)
        database = {"OCM_GQL_DATABASE_URL": url}
    plan = spatial_plan()
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ocm-gql-bench-")))
        server_pid, server_port = stack.enter_context(
            _serving("server", [sys.executable, "-m", "gql", "serve"], database)
        )
        floor_pid, floor_port = stack.enter_context(
            _serving("floor", [sys.executable, str(BENCH / "floor_app.py")], database)
        )
        candidates = spatial_candidates(server_port, plan)
        rank = deep_rank(candidates.in_radius)
        if rank < SPATIAL_PAGE_SIZE:
            raise BenchError(
                f"only {candidates.in_radius:,} sites lie within {SPATIAL_RADIUS_KM:g} km of "
                f"{plan.town}: too few for a deep page; use more --rows"
            )
        cursor = distance_cursor(server_port, plan, rank)
        scenarios = spatial_scenarios(server_port, floor_port, plan, rank, cursor)
        print(
            f"{args.rows:,} sites on "
            f"{'SQLite' if args.database_url is None else 'PostgreSQL'}, around {plan.town} "
            f"({plan.latitude}, {plan.longitude}); load generator {args.load}, a single "
            f"thread; {args.rounds} timed runs of {args.duration} s per side and scenario, "
            f"the first after {args.warmup} s of warm-up; the best run counts"
        )
        print(
            f"candidates: {candidates.in_radius:,} sites within {SPATIAL_RADIUS_KM:g} km, "
            f"{candidates.in_radius_box:,} in the spatial index's box around that radius "
            f"(each read and measured); {candidates.in_map_view:,} in the map view "
            f"{plan.box}"
        )
        plans = spatial_plans(database, plan)
        for key, lines in plans.items():
            print(f"query plan of the {key} page:")
            for line in lines:
                print(f"    {line}")
        print("checking that the server and the floor answer alike:")
        bodies = {scenario.key: _same_body(scenario) for scenario in scenarios}
        generator_rps = _generator_ceiling(floor_port, work, args)
        print(f"load generator against the floor's /healthz at c=16: {generator_rps:,.0f} req/s")
        print("timing:")
        cpu = CpuMeter([server_pid, floor_pid])
        results = _timed(scenarios, bodies, work, args)
        other_cpus = cpu.others()
    checks = _spatial_checks(results, rank)
    _table(results)
    _context_lines(results, generator_rps, other_cpus)
    _print_checks(checks)
    document = {
        **_run_document(args, generator_rps, other_cpus),
        "sites": args.rows,
        "seed_seconds": seed_seconds,
        "town": asdict(plan),
        "near": plan.near,
        "map_view": plan.box,
        "candidates": asdict(candidates),
        "query_plans": plans,
        "deep_page_after_rank": rank,
        "scenarios": [_scenario_document(r) for r in results],
        "targets": [asdict(check) for check in checks],
    }
    results_file = SPATIAL_RESULTS if args.database_url is None else POSTGRES_SPATIAL_RESULTS
    _write_results(results_file, document)
    print(f"\nwhole run {time.monotonic() - started:,.0f} s")
    return 0


def _spatial_checks(results: list[Result], rank: int) -> list[Check]:
    by_key = {result.scenario.key: result for result in results}
    checks = []
    for key, name in (("radius", "radius search"), ("box", "map view")):
        ratio = by_key[f"{key} c=1"].ratio
        checks.append(
            Check(
                name=f"throughput {name}",
                value=ratio,
                limit=RATIO_TARGET,
                passed=ratio >= RATIO_TARGET,
                detail=f"server/floor {ratio:.3f} >= {RATIO_TARGET}",
            )
        )
    first = Result.best(by_key["radius c=1"].server).rps
    deep = Result.best(by_key["deep radius c=1"].server).rps
    floor_first = Result.best(by_key["radius c=1"].floor).rps
    floor_cost = floor_first / Result.best(by_key["deep radius c=1"].floor).rps
    checks.append(
        Check(
            name="deep radius page cost",
            value=first / deep,
            limit=DEEP_TARGET,
            passed=first / deep <= DEEP_TARGET,
            detail=(
                f"server req/s of the first page {first:,.1f} / of the page after the "
                f"{rank:,}th nearest {deep:,.1f} = {first / deep:.3f} <= {DEEP_TARGET} "
                f"(the floor's: {floor_cost:.3f})"
            ),
        )
    )
    return checks


# -- --workers: one server process beside several ------------------------------------


@dataclass(frozen=True, slots=True)
class ScalingRow:
    items: int
    one: Sample
    many: Sample
    cpu: dict[str, float]
    """CPUs used on average during the best timed run of each side: its server's processes
    (`one`, `many`) and the load generator (`generator_one`, `generator_many`)."""

    @property
    def ratio(self) -> float:
        return self.many.rps / self.one.rps


def _scaling(args: argparse.Namespace, database: dict[str, str]) -> None:
    """`serve --workers N` beside `serve --workers 1`, both up at once on the same data,
    driven in turn at concurrency 16."""
    workers = args.workers
    serve = [sys.executable, "-m", "gql", "serve", "--workers"]
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ocm-gql-bench-")))
        one_pid, one_port = stack.enter_context(_serving("1 worker", [*serve, "1"], database))
        many_pid, many_port = stack.enter_context(
            _serving(f"{workers} workers", [*serve, str(workers)], database)
        )
        print(
            f"{args.rows:,} rows on {'SQLite' if args.database_url is None else 'PostgreSQL'}; "
            f"`serve --workers {workers}` beside `serve --workers 1`, c={SCALING_CONCURRENCY}; "
            f"load generator {args.load}, a single thread; {args.rounds} timed runs of "
            f"{args.duration} s per side, the best counts; {os.cpu_count()} CPUs"
        )
        rows = []
        for items in (100, 1000):
            targets = {
                "one": _graphql(one_port, PAGE_QUERY, {"first": items}),
                "many": _graphql(many_port, PAGE_QUERY, {"first": items}),
            }
            trees = {"one": one_pid, "many": many_pid}
            bodies = {side: _fetch(target) for side, target in targets.items()}
            if bodies["one"] != bodies["many"] or bodies["one"][0] != 200:
                raise BenchError(f"1 and {workers} workers answer first {items} differently")
            body_bytes = len(bodies["one"][1])
            best: dict[str, tuple[Sample, dict[str, float]]] = {}
            for round_ in range(args.rounds):
                sides = ["one", "many"] if round_ % 2 == 0 else ["many", "one"]
                for side in sides:
                    if round_ == 0 and args.warmup:  # a run whose figures are not kept
                        warmup = LoadRun(SCALING_CONCURRENCY, 0, args.warmup)
                        _load(targets[side], warmup, body_bytes, work, args)
                    timed = LoadRun(SCALING_CONCURRENCY, 0, args.duration)
                    server_before, generator_before = _tree_cpu(trees[side]), _children_cpu()
                    clock = time.monotonic()
                    sample = _load(targets[side], timed, body_bytes, work, args)
                    elapsed = time.monotonic() - clock
                    cpu = {
                        side: (_tree_cpu(trees[side]) - server_before) / elapsed,
                        f"generator_{side}": (_children_cpu() - generator_before) / elapsed,
                    }
                    if side not in best or sample.rps > best[side][0].rps:
                        best[side] = (sample, cpu)
            row = ScalingRow(
                items, best["one"][0], best["many"][0], {**best["one"][1], **best["many"][1]}
            )
            rows.append(row)
            print(
                f"  first {items:>5,}: 1 worker {row.one.rps:7,.0f} req/s, {workers} workers "
                f"{row.many.rps:7,.0f} req/s ({row.many.rps / workers:,.0f} per worker), "
                f"ratio {row.ratio:.2f} "
                f"[{'PASS' if row.ratio >= SCALING_TARGET else 'FAIL'} >= {SCALING_TARGET}]; "
                f"CPUs used: servers {row.cpu['one']:.2f} / {row.cpu['many']:.2f}, "
                f"load generator {row.cpu['generator_one']:.2f} / {row.cpu['generator_many']:.2f}",
                flush=True,
            )
    WORKERS_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "backend": "sqlite" if args.database_url is None else "postgres",
        "rows": args.rows,
        "workers": workers,
        "concurrency": SCALING_CONCURRENCY,
        "load_generator": args.load,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "target_ratio": SCALING_TARGET,
        "pages": [
            {
                "items": row.items,
                "one_worker": asdict(row.one),
                "workers": asdict(row.many),
                "ratio": row.ratio,
                "rps_per_worker": row.many.rps / workers,
                "cpus_used": row.cpu,
            }
            for row in rows
        ],
    }
    WORKERS_RESULTS.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"written to {WORKERS_RESULTS.relative_to(ROOT)}")


def _tree_cpu(pid: int) -> float:
    """CPU-seconds used so far by a process and its live children (a server's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = {pid}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # ended meanwhile
                if int(_stat_fields(entry.name)[1]) == pid:
                    pids.add(int(entry.name))
    total = 0
    for member in pids:
        with contextlib.suppress(OSError):
            fields = _stat_fields(str(member))
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _stat_fields(pid: str) -> list[str]:
    """/proc/PID/stat after the command name: state, parent, ..."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def _children_cpu() -> float:
    """CPU-seconds used by this script's finished children (the load generator runs)."""
    times = os.times()
    return times.children_user + times.children_system


# -- the dataset -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dataset:
    """A generated dataset: what it counts, how many, and the command that seeds it
    (given the database as the servers are, in the environment or with --db)."""

    kind: str
    """"connections" (`ocm-gql seed --demo N`) or "sites" (bench/spatial_seed.py)."""
    rows: int

    @property
    def stem(self) -> str:
        return f"bench-{self.rows}" if self.kind == "connections" else f"spatial-{self.rows}"

    @property
    def described(self) -> str:
        if self.kind == "connections":
            return f"{self.rows:,} connections with their sites"
        return f"{self.rows:,} sites with their connections"

    def command(self) -> list[str]:
        if self.kind == "connections":
            return [sys.executable, "-m", "gql", "seed", "--demo", str(self.rows)]
        return [sys.executable, str(BENCH / "spatial_seed.py"), "--sites", str(self.rows)]

    def sources(self) -> list[Path]:
        """The files the generated rows depend on, beyond the schema."""
        files = [ROOT / "gql" / "data" / "seeding.py", ROOT / "seed" / "reference.json"]
        files.append(ROOT / "seed" / "demo_profile.json")
        if self.kind == "sites":
            files.append(BENCH / "spatial_seed.py")
        return files


def _dataset(dataset: Dataset) -> tuple[Path, float | None]:
    """The seeded database for ``dataset`` and how long seeding took, generated on first
    use and then reused."""
    db = CACHE / f"{dataset.stem}.db"
    record = CACHE / f"{dataset.stem}.seed.json"
    if db.exists():
        seconds = _seed_seconds(record)
        took = "" if seconds is None else f", seeded in {seconds:,.1f} s"
        print(f"dataset {db.relative_to(ROOT)} (reused{took})")
        return db, seconds
    CACHE.mkdir(parents=True, exist_ok=True)
    # Seeded under another name and renamed, so an interrupted seed is never reused.
    partial = db.with_name(db.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    print(f"generating {db.relative_to(ROOT)} ({dataset.described}), once")
    command = [*dataset.command(), "--db", str(partial)]
    seed_started = time.monotonic()
    try:
        subprocess.run(
            command, check=True, timeout=SEED_TIMEOUT_S, stdout=subprocess.DEVNULL, env=_env()
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"seeding the dataset failed: {error}") from None
    seconds = time.monotonic() - seed_started
    if Path(f"{partial}-wal").exists():
        raise BenchError(f"{partial} was left with an uncheckpointed WAL; delete it and rerun")
    partial.rename(db)
    record.write_text(
        json.dumps(
            {
                "rows": dataset.rows,
                "seconds": round(seconds, 1),
                "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"seeded in {seconds:,.1f} s")
    return db, seconds


def _seed_seconds(record: Path) -> float | None:
    try:
        seconds = json.loads(record.read_text(encoding="utf-8"))["seconds"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(seconds) if isinstance(seconds, int | float) else None


def _sqlite_ids(db: Path) -> list[int]:
    """Every connection id, in order."""
    connection = sqlite3.connect(db)
    try:
        return [row[0] for row in connection.execute("SELECT id FROM connection_info ORDER BY id")]
    finally:
        connection.close()


def _dataset_keys(ids: list[int], rows: int, deep_after: int) -> tuple[int, list[int]]:
    """The id of the row the deep page starts after, and the ids the `_entities` scenario
    asks for: a fixed random sample across the whole table, in random order."""
    if len(ids) != rows:
        raise BenchError(
            f"the dataset holds {len(ids):,} connections, not {rows:,}; delete it and rerun"
        )
    return ids[deep_after - 1], random.Random(0).sample(ids, ENTITY_COUNT)


# -- the PostgreSQL dataset --------------------------------------------------------------


def _fingerprint(dataset: Dataset) -> str:
    """A short hash of what the generated rows depend on (the generator, its seed files and
    the schema), so a database made from other inputs is never reused."""
    digest = hashlib.sha256(str(dataset.rows).encode())
    sources = [
        *dataset.sources(),
        *sorted((ROOT / "seed" / "migrations" / "postgres").glob("*.sql")),
    ]
    for source in sources:
        digest.update(source.read_bytes())
    return digest.hexdigest()[:10]


def _with_database(url: str, name: str) -> str:
    """``url`` naming the database ``name`` on the same server, as the same user."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _postgres_dataset(server_url: str, dataset: Dataset) -> tuple[str, float | None]:
    """The URL of the PostgreSQL database holding ``dataset`` on the server of
    ``server_url``, and how long seeding took: made once by the dataset's command (the
    same rows as the SQLite file's) in a database named for its fingerprint, then reused."""
    infix = "" if dataset.kind == "connections" else "sites_"
    name = f"ocm_gql_bench_{infix}{dataset.rows}_{_fingerprint(dataset)}"
    partial = f"{name}_partial"
    record = CACHE / f"{name}.seed.json"
    shown = f"{hide_password(_with_database(server_url, name))}"
    if asyncio.run(_database_exists(server_url, name)):
        seconds = _seed_seconds(record)
        took = "" if seconds is None else f", seeded in {seconds:,.1f} s"
        print(f"dataset {shown} (reused{took})")
        return _with_database(server_url, name), seconds
    # Seeded under another name and renamed, so an interrupted seed is never reused.
    asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{partial}"'))
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{partial}"'))
    print(f"generating {shown} ({dataset.described}), once")
    partial_url = _with_database(server_url, partial)
    seed_started = time.monotonic()
    try:
        subprocess.run(
            dataset.command(),
            check=True,
            timeout=SEED_TIMEOUT_S,
            stdout=subprocess.DEVNULL,
            env=_env({"OCM_GQL_DATABASE_URL": partial_url}),
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"seeding the dataset failed: {hide_password(str(error))}") from None
    # Hint bits and the visibility map set once now, not by the first timed reads.
    asyncio.run(_admin(partial_url, "VACUUM (ANALYZE)"))
    seconds = time.monotonic() - seed_started
    asyncio.run(_admin(server_url, f'ALTER DATABASE "{partial}" RENAME TO "{name}"'))
    CACHE.mkdir(parents=True, exist_ok=True)
    record.write_text(
        json.dumps(
            {
                "rows": dataset.rows,
                "database": name,
                "seconds": round(seconds, 1),
                "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"seeded in {seconds:,.1f} s")
    return _with_database(server_url, name), seconds


async def _connect(url: str) -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(url, timeout=10)
    except (OSError, asyncpg.PostgresError) as error:
        raise BenchError(f"cannot connect to {hide_password(url)}: {error}") from None


async def _database_exists(server_url: str, name: str) -> bool:
    connection = await _connect(server_url)
    try:
        return bool(await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await connection.close()


async def _admin(url: str, statement: str) -> None:
    """Runs one statement that cannot run in a transaction (CREATE DATABASE, VACUUM)."""
    connection = await _connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _postgres_ids(url: str) -> list[int]:
    """Every connection id, in order."""
    connection = await _connect(url)
    try:
        rows = await connection.fetch("SELECT id FROM connection_info ORDER BY id")
    finally:
        await connection.close()
    return [row[0] for row in rows]


# -- the servers -------------------------------------------------------------------------


def _env(database: dict[str, str] | None = None) -> dict[str, str]:
    """The servers' environment; the database is named in it (OCM_GQL_DB or
    OCM_GQL_DATABASE_URL) rather than on the command line, where a password would show."""
    env = {**os.environ, "OCM_GQL_LOG_LEVEL": "warning"}
    env.pop("OCM_GQL_DATABASE_URL", None)
    env.pop("OCM_GQL_DATABASE_READ_URL", None)
    return {**env, **(database or {})}


@contextlib.contextmanager
def _serving(name: str, command: list[str], database: dict[str, str]) -> Iterator[tuple[int, int]]:
    """Runs one server on a free loopback port until the block ends, however it ends;
    gives its pid and port."""
    port = _free_port()
    process = subprocess.Popen(
        [*command, "--host", HOST, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        env=_env(database),
        # Its own session, so Ctrl-C reaches only this script, which then stops it.
        start_new_session=True,
    )
    try:
        _wait_ready(name, process, port)
        yield process.pid, port
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(name: str, process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the {name} exited with code {process.returncode} at startup")
        with contextlib.suppress(OSError):  # not listening yet
            status, _body = _fetch(Target(name, port, "GET", "/readyz"), timeout=1.0)
            if status == 200:
                return
        time.sleep(0.05)
    raise BenchError(f"the {name} was not ready on port {port} after {READY_TIMEOUT_S:g} s")


def _peak_rss_kb(pid: int) -> int:
    """VmHWM, the process's peak resident set so far, from /proc."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError as error:
        raise BenchError(f"cannot read the peak RSS of process {pid}: {error}") from None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no VmHWM line")


# -- scenarios and their answers ---------------------------------------------------------


def _graphql(port: int, query: str, variables: dict[str, object]) -> Target:
    body = orjson.dumps({"query": query, "variables": variables})
    return Target("server", port, "POST", "/graphql", body, JSON_HEADERS)


def _cursor_of(server_port: int, row_id: int) -> str:
    """The server's cursor for the row with ``row_id`` under the default order."""
    status, body = _fetch(_graphql(server_port, CURSOR_QUERY, {"id": row_id}))
    try:
        cursor = orjson.loads(body)["data"]["connectionInfos"]["edges"][0]["cursor"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        cursor = None
    if status != 200 or not isinstance(cursor, str):
        raise BenchError(f"the server gave no cursor for row {row_id}: {body[:300]!r}")
    return cursor


def _scenarios(
    server_port: int, floor_port: int, cursor: str, deep_after: int, entity_ids: list[int]
) -> list[Scenario]:
    def page(
        key: str,
        title: str,
        concurrency: int,
        first: int,
        variables: dict[str, object],
        params: dict[str, str],
    ) -> Scenario:
        floor_path = "/connections?" + urlencode({"first": first, **params})
        return Scenario(
            key=f"{key} c={concurrency}",
            title=title,
            concurrency=concurrency,
            server=_graphql(server_port, PAGE_QUERY, {"first": first, **variables}),
            floor=Target("floor", floor_port, "GET", floor_path),
            expected_items=first,
        )

    scenarios = [
        page(f"first={size}", f"first {size:,}", concurrency, size, {}, {})
        for size in PAGE_SIZES
        for concurrency in CONCURRENCIES
    ]
    scenarios.append(
        page(
            "deep",
            f"first {DEEP_PAGE_SIZE} after row {deep_after:,}",
            1,
            DEEP_PAGE_SIZE,
            {"after": cursor},
            {"after": cursor},
        )
    )
    filter_params = {
        name: ",".join(map(str, value))
        if isinstance(value, list)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for name, value in FILTER.items()
    }
    scenarios.append(
        page(
            "filter",
            f"first {FILTER_PAGE_SIZE}, filter, {FILTER_ORDER}",
            1,
            FILTER_PAGE_SIZE,
            {"filter": FILTER, "orderBy": FILTER_ORDER},
            {**filter_params, "order": FILTER_ORDER},
        )
    )
    representations = [{"__typename": "ConnectionInfo", "id": i} for i in entity_ids]
    scenarios.append(
        Scenario(
            key="entities c=1",
            title=f"_entities, {len(entity_ids):,} representations",
            concurrency=1,
            server=_graphql(server_port, ENTITIES_QUERY, {"representations": representations}),
            floor=Target(
                "floor",
                floor_port,
                "POST",
                "/entities",
                orjson.dumps({"representations": representations}),
                JSON_HEADERS,
            ),
            expected_items=len(entity_ids),
        )
    )
    return scenarios


def _fetch(target: Target, timeout: float = HTTP_TIMEOUT_S) -> tuple[int, bytes]:
    """Status and body of one request, sent as the load generator sends it."""
    status, _head, body = _exchange(target, timeout)
    return status, body


def _exchange(target: Target, timeout: float = HTTP_TIMEOUT_S) -> tuple[int, bytes, bytes]:
    """Status, head and body of one request on a new connection."""
    with socket.create_connection((HOST, target.port), timeout=timeout) as connection:
        connection.sendall(target.raw())
        received = bytearray()
        head_end = -1
        need: int | None = None
        while need is None or len(received) < need:
            chunk = connection.recv(1 << 20)
            if not chunk:
                raise BenchError(f"the {target.name} closed the connection mid-response")
            received += chunk
            head_end = received.find(b"\r\n\r\n")
            if need is None and head_end >= 0:
                lines = bytes(received[:head_end]).decode("latin-1").lower().split("\r\n")
                length = next(
                    (
                        int(line.split(":", 1)[1])
                        for line in lines
                        if line.startswith("content-length:")
                    ),
                    None,
                )
                if length is None:
                    raise BenchError(f"the {target.name} answered without a Content-Length")
                need = head_end + 4 + length
    head = bytes(received[: head_end + 4])
    return int(received[9:12]), head, bytes(received[head_end + 4 :])


def _same_body(scenario: Scenario) -> bytes:
    """The server's body for the scenario, after checking that the floor's is the same,
    byte for byte."""
    bodies = {}
    for target in (scenario.server, scenario.floor):
        status, body = _fetch(target)
        if status != 200:
            raise BenchError(
                f"{scenario.key}: the {target.name} answered HTTP {status}: {body[:300]!r}"
            )
        bodies[target.name] = body
    server_body, floor_body = bodies["server"], bodies["floor"]
    server_json: Any = orjson.loads(server_body)
    items = _items(server_json)
    if items is None:
        raise BenchError(f"{scenario.key}: the server returned no items: {server_body[:300]!r}")
    if len(items) != scenario.expected_items or None in items:
        raise BenchError(
            f"{scenario.key}: the server returned {len(items)} items "
            f"({items.count(None)} null), not {scenario.expected_items}"
        )
    if server_body != floor_body:
        floor_json: Any = orjson.loads(floor_body)
        how = (
            "equal as parsed JSON but not byte-identical"
            if floor_json == server_json
            else _difference(items, _items(floor_json))
        )
        raise BenchError(f"{scenario.key}: the floor's body differs from the server's: {how}")
    if scenario.concurrency == 1:
        print(f"  {scenario.title}: {len(items):,} items, {len(server_body):,} bytes, identical")
    return server_body


def _items(body: Any) -> list[Any] | None:
    try:
        data = body["data"]
        if "_entities" in data:
            items = data["_entities"]
        else:
            (connection,) = data.values()  # connectionInfos or chargePoints
            items = connection["nodes"]
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return items if isinstance(items, list) and "errors" not in body else None


def _difference(server: list[Any], floor: list[Any] | None) -> str:
    """Where the floor's items first differ from the server's, in a line."""
    if floor is None:
        return "the floor returned no items"
    if len(server) != len(floor):
        return f"the server returned {len(server)} items, the floor {len(floor)}"
    for index, (s, f) in enumerate(zip(server, floor, strict=True)):
        if s != f:
            if not isinstance(s, dict) or not isinstance(f, dict):
                return f"item {index}: server {s!r}, floor {f!r}"
            fields = [
                f"{key}: server {s.get(key)!r}, floor {f.get(key)!r}"
                for key in dict.fromkeys([*s, *f])
                if s.get(key) != f.get(key) or key not in s or key not in f
            ]
            return f"item {index} (id {s.get('id')}): " + "; ".join(fields)
    return "the items match but the rest of the body differs (pageInfo, or key order)"


# -- load --------------------------------------------------------------------------------


def _generator_ceiling(floor_port: int, work: Path, args: argparse.Namespace) -> float:
    """The load generator's rate against a trivial endpoint at concurrency 16: far above
    every scenario's rate means the generator does not limit them."""
    healthz = Target("floor", floor_port, "GET", "/healthz")
    return _load(healthz, LoadRun(16, args.warmup, args.duration), None, work, args).rps


def _load(
    target: Target, run: LoadRun, body_bytes: int | None, work: Path, args: argparse.Namespace
) -> Sample:
    if args.load == "wrk":
        return _load_wrk(target, run, body_bytes, work)
    return _load_python(target, run, body_bytes, work)


def _load_python(target: Target, run: LoadRun, body_bytes: int | None, work: Path) -> Sample:
    request_file = work / "request.http"
    request_file.write_bytes(target.raw())
    command = [
        sys.executable,
        str(BENCH / "load.py"),
        "--port",
        str(target.port),
        "--request-file",
        str(request_file),
        "--connections",
        str(run.concurrency),
        "--duration",
        str(run.duration),
        "--warmup",
        str(run.warmup),
    ]
    if body_bytes is not None:
        command += ["--expect-bytes", str(body_bytes)]
    report = _generator_output(command, run.warmup + run.duration)
    if report["errors"] or report["wrong_length"]:
        raise BenchError(
            f"the {target.name} answered {report['errors']} requests with an error status and "
            f"{report['wrong_length']} with a body of the wrong length under load"
        )
    return Sample(
        rps=float(report["rps"]),
        p50_ms=float(report["p50_ms"]),
        p99_ms=float(report["p99_ms"]),
        requests=int(report["requests"]),
    )


_WRK_SCRIPT = """-- Written by bench/run.py for one wrk run.
wrk.method = %(method)s
wrk.path = %(path)s
%(headers)s
local file = assert(io.open(%(body_file)s, "rb"))
local body = file:read("*a")
file:close()
if #body > 0 then wrk.body = body end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "bytes": %%d, "status_errors": %%d, ' ..
    '"socket_errors": %%d, "p50_us": %%d, "p99_us": %%d}\\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout, latency:percentile(50), latency:percentile(99)))
end
"""


def _lua_string(text: str) -> str:
    """A Lua string literal of ``text``: printable ASCII as is, any other byte of its
    UTF-8 as a decimal escape (the one escape every Lua, wrk's LuaJIT included, reads)."""
    escaped = "".join(
        chr(byte) if 32 <= byte < 127 and byte not in b'"\\' else f"\\{byte:03d}"
        for byte in text.encode()
    )
    return f'"{escaped}"'


def _load_wrk(target: Target, run: LoadRun, body_bytes: int | None, work: Path) -> Sample:
    body_file = work / "body"
    body_file.write_bytes(target.body or b"")
    script = work / "request.lua"
    script.write_text(
        _WRK_SCRIPT
        % {
            "method": _lua_string(target.method),
            "path": _lua_string(target.path),
            "headers": "\n".join(
                f"wrk.headers[{_lua_string(name)}] = {_lua_string(value)}"
                for name, value in target.headers.items()
            ),
            "body_file": _lua_string(str(body_file)),
        },
        encoding="utf-8",
    )
    url = f"http://{HOST}:{target.port}"

    def wrk(seconds: int) -> list[str]:
        return [
            "wrk",
            "--threads",
            "1",
            "--connections",
            str(run.concurrency),
            "--duration",
            f"{seconds}s",
            "--timeout",
            f"{HTTP_TIMEOUT_S:g}s",
            "--script",
            str(script),
            url,
        ]

    if run.warmup:
        _generator_output(wrk(run.warmup), run.warmup)
    report = _generator_output(wrk(run.duration), run.duration)
    requests = int(report["requests"])
    if requests == 0 and not report["status_errors"] and not report["socket_errors"]:
        raise BenchError(
            f"the {target.name} finished no request in {run.duration} s at "
            f"c={run.concurrency}; pass a longer --duration"
        )
    if report["status_errors"] or report["socket_errors"]:
        raise BenchError(
            f"the {target.name} answered {report['status_errors']} requests with an error status "
            f"and {report['socket_errors']} failed on the socket under load "
            f"({requests} completed)"
        )
    if body_bytes is not None:
        # wrk does not keep the bodies; the bytes it read must be those of `requests`
        # responses of the checked length, give or take those in flight at the end.
        status, head, body = _exchange(target)
        response_bytes = len(head) + len(body)
        if status != 200 or len(body) != body_bytes:
            raise BenchError(f"the {target.name} changed its answer for {target.path}")
        expected = requests * response_bytes
        if abs(int(report["bytes"]) - expected) > run.concurrency * response_bytes:
            raise BenchError(
                f"the {target.name} sent {report['bytes']} bytes for {requests} responses of "
                f"{response_bytes} bytes under load: some answers differed"
            )
    return Sample(
        rps=requests / (int(report["duration_us"]) / 1e6),
        p50_ms=int(report["p50_us"]) / 1000,
        p99_ms=int(report["p99_us"]) / 1000,
        requests=requests,
    )


def _generator_output(command: list[str], seconds: int) -> dict[str, Any]:
    """Runs the load generator for about ``seconds`` and parses the one JSON line it
    prints."""
    timeout = seconds + LOAD_GRACE_S
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"the load generator ran over {timeout:g} s: {command[0]}") from None
    if completed.returncode != 0:
        raise BenchError(
            f"the load generator failed (exit {completed.returncode}): "
            f"{completed.stderr.strip()[-500:]}"
        )
    line = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else ""
    try:
        report: dict[str, Any] = json.loads(line)
    except ValueError:
        raise BenchError(
            f"the load generator printed no result: {completed.stdout[-500:]!r}"
        ) from None
    return report


# -- report ------------------------------------------------------------------------------


def _checks(results: list[Result], rss_kb: dict[str, int], deep_after: int) -> list[Check]:
    by_key = {result.scenario.key: result for result in results}
    checks = []
    for size in (100, 1000):
        for concurrency in CONCURRENCIES:
            ratio = by_key[f"first={size} c={concurrency}"].ratio
            checks.append(
                Check(
                    name=f"throughput first={size} c={concurrency}",
                    value=ratio,
                    limit=RATIO_TARGET,
                    passed=ratio >= RATIO_TARGET,
                    detail=f"server/floor {ratio:.3f} >= {RATIO_TARGET}",
                )
            )
    deep = Result.best(by_key["deep c=1"].server).p50_ms
    first = Result.best(by_key[f"first={DEEP_PAGE_SIZE} c=1"].server).p50_ms
    checks.append(
        Check(
            name="deep page cost",
            value=deep / first,
            limit=DEEP_TARGET,
            passed=deep / first <= DEEP_TARGET,
            detail=(
                f"server p50 after row {deep_after:,} {deep:.2f} ms / first page "
                f"{first:.2f} ms = {deep / first:.3f} <= {DEEP_TARGET}"
            ),
        )
    )
    rss = rss_kb["server"] / rss_kb["floor"]
    checks.append(
        Check(
            name="peak RSS",
            value=rss,
            limit=RSS_TARGET,
            passed=rss <= RSS_TARGET,
            detail=(
                f"server {rss_kb['server'] / 1024:.1f} MiB / floor "
                f"{rss_kb['floor'] / 1024:.1f} MiB = {rss:.3f} <= {RSS_TARGET}"
            ),
        )
    )
    return checks


def _report(
    results: list[Result],
    rss_kb: dict[str, int],
    checks: list[Check],
    generator_rps: float,
    other_cpus: float,
) -> None:
    _table(results)
    deep = next(r for r in results if r.scenario.key == "deep c=1")
    first = next(r for r in results if r.scenario.key == f"first={DEEP_PAGE_SIZE} c=1")
    floor_deep = Result.best(deep.floor).p50_ms / Result.best(first.floor).p50_ms
    print(
        f"\npeak RSS (VmHWM): server {rss_kb['server'] / 1024:.1f} MiB, "
        f"floor {rss_kb['floor'] / 1024:.1f} MiB"
    )
    print(f"floor's deep page cost, for comparison: {floor_deep:.3f}")
    _context_lines(results, generator_rps, other_cpus)
    _print_checks(checks)


def _table(results: list[Result]) -> None:
    rows = [
        (
            "scenario",
            "c",
            "floor req/s",
            "server req/s",
            "ratio",
            "p50 ratio",
            "floor p50/p99 ms",
            "server p50/p99 ms",
        )
    ]
    for result in results:
        floor, server = Result.best(result.floor), Result.best(result.server)
        rows.append(
            (
                result.scenario.title,
                str(result.scenario.concurrency),
                f"{floor.rps:,.1f}",
                f"{server.rps:,.1f}",
                f"{result.ratio:.3f}",
                f"{result.p50_ratio:.3f}",
                f"{_ms(floor.p50_ms)} / {_ms(floor.p99_ms)}",
                f"{_ms(server.p50_ms)} / {_ms(server.p99_ms)}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for title, *numbers in rows:
        cells = [number.rjust(width) for number, width in zip(numbers, widths[1:], strict=True)]
        print("  ".join([title.ljust(widths[0]), *cells]))


def _context_lines(results: list[Result], generator_rps: float, other_cpus: float) -> None:
    """What might have limited the numbers: the load generator, other processes."""
    busiest = max(Result.best(r.floor).rps for r in results)
    print(
        f"load generator: {generator_rps:,.0f} req/s against /healthz at c=16; the busiest "
        f"scenario ran at {busiest:,.0f} req/s ({busiest / generator_rps:.0%} of that)"
    )
    print(
        f"other processes used {other_cpus:.2f} of {os.cpu_count()} CPUs on average "
        "while timing"
        + (": the numbers are noisier than on a quiet machine" if other_cpus > NOISY_CPUS else "")
    )


def _print_checks(checks: list[Check]) -> None:
    print("\ntargets:")
    for check in checks:
        print(f"  {'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def _save(
    results: list[Result],
    rss_kb: dict[str, int],
    checks: list[Check],
    generator_rps: float,
    other_cpus: float,
    seed_seconds: float | None,
    deep_after: int,
    args: argparse.Namespace,
) -> None:
    document = {
        **_run_document(args, generator_rps, other_cpus),
        "rows": args.rows,
        "seed_seconds": seed_seconds,
        "deep_page_after_row": deep_after,
        "scenarios": [_scenario_document(r) for r in results],
        "peak_rss_kib": rss_kb,
        "targets": [asdict(check) for check in checks],
    }
    _write_results(RESULTS if args.database_url is None else POSTGRES_RESULTS, document)


def _run_document(
    args: argparse.Namespace, generator_rps: float, other_cpus: float
) -> dict[str, object]:
    """What every results file says of the run: when, where, and how it was timed."""
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "backend": "sqlite" if args.database_url is None else "postgres",
        "load_generator": args.load,
        "generator_healthz_rps_c16": generator_rps,
        "other_processes_cpus": other_cpus,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "summary": (
            "best round (highest req/s) per side; ratio = server / floor req/s; "
            "p50_ratio = lowest floor p50 / lowest server p50"
        ),
    }


def _scenario_document(r: Result) -> dict[str, object]:
    return {
        "key": r.scenario.key,
        "title": r.scenario.title,
        "concurrency": r.scenario.concurrency,
        "items": r.scenario.expected_items,
        "response_bytes": r.body_bytes,
        "floor": asdict(Result.best(r.floor)),
        "server": asdict(Result.best(r.server)),
        "ratio": r.ratio,
        "p50_ratio": r.p50_ratio,
        "floor_rounds": [asdict(s) for s in r.floor],
        "server_rounds": [asdict(s) for s in r.server],
    }


def _write_results(results_file: Path, document: dict[str, object]) -> None:
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {results_file.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
