"""Benchmark: GraphQL server throughput beside a hand-written floor, over real HTTP.

Usage, from the repository root:

    .venv/bin/python bench/run.py [--quick] [--rows N] [--duration SECONDS] [--rounds N]

Starts `ocm-gql serve` and bench/floor_app.py as separate uvicorn processes on loopback,
checks that both return the same body for each page size, then drives each in turn from
this process, one request at a time over a keep-alive connection. It reports requests/s
and the ratio server/floor; absolute numbers depend on the machine, the ratio much less.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import orjson

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parent
CACHE = BENCH / ".cache"
RESULTS = BENCH / "results" / "latest.json"
PAGE_SIZES = (100, 1000)

QUERY = """query Bench($first: Int!) {
  connectionInfos(first: $first) {
    nodes {
      id connectionTypeId reference statusTypeId levelId amps voltage powerKw
      currentTypeId quantity comments chargePointId
      connectionType { id title formalName isDiscontinued isObsolete }
      statusType { id title isOperational isUserSelectable }
      level { id title comments isFastChargeCapable }
      currentType { id title description }
    }
  }
}"""

SEED_TIMEOUT_S = 900.0
READY_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# Caps the request count of any one timed loop, besides its duration.
MAX_REQUESTS = 1_000_000


class BenchError(Exception):
    """The benchmark cannot give a meaningful result; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    """One server and the request that asks it for a page."""

    name: str
    port: int
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Variant:
    page_size: int
    response_bytes: int
    check: str
    floor_rps: list[float]
    server_rps: list[float]

    @property
    def ratio(self) -> float:
        return max(self.server_rps) / max(self.floor_rps)


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
    parser.add_argument("--quick", action="store_true", help="a short, noisier run")
    parser.add_argument(
        "--rows",
        type=_positive_int,
        default=200_000,
        help="connections in the dataset (default 200,000)",
    )
    parser.add_argument(
        "--duration",
        type=_positive_float,
        default=None,
        help="seconds of each timed run (default 3, or 0.5 with --quick)",
    )
    parser.add_argument(
        "--rounds",
        type=_positive_int,
        default=None,
        help="timed runs of each server per page; the best counts (default 3, or 2 with --quick)",
    )
    args = parser.parse_args()
    if args.duration is None:
        args.duration = 0.5 if args.quick else 3.0
    if args.rounds is None:
        args.rounds = 2 if args.quick else 3
    args.warmup = 0.2 if args.quick else 1.0
    return args


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _run(args: argparse.Namespace) -> int:
    db = _dataset(args.rows)
    with contextlib.ExitStack() as stack:
        server_port = stack.enter_context(
            _serving("server", [sys.executable, "-m", "gql", "serve"], db)
        )
        floor_port = stack.enter_context(
            _serving("floor", [sys.executable, str(BENCH / "floor_app.py")], db)
        )
        print(
            f"{args.rows:,} rows; concurrency 1; best of {args.rounds} timed runs of "
            f"{args.duration:g} s per server and page, each after {args.warmup:g} s of warm-up"
        )
        variants = []
        for size in PAGE_SIZES:
            server = _graphql_target(server_port, size)
            floor = Target("floor", floor_port, "GET", f"/connections?first={size}", None, {})
            expected, nodes, check = _same_body(server, floor)
            print(f"first={size}: {nodes:,} nodes, {len(expected):,} bytes, bodies {check}")
            floor_rps: list[float] = []
            server_rps: list[float] = []
            for round_ in range(args.rounds):
                # Alternate which goes first, so drift during a round favours neither.
                pair = [(floor, floor_rps), (server, server_rps)]
                for target, samples in pair if round_ % 2 == 0 else reversed(pair):
                    samples.append(_throughput(target, len(expected), args))
            variants.append(Variant(size, len(expected), check, floor_rps, server_rps))
    _report(variants)
    _save(variants, args)
    return 0


def _dataset(rows: int) -> Path:
    """The seeded database for ``rows``, generated on first use and then reused."""
    db = CACHE / f"bench-{rows}.db"
    if db.exists():
        return db
    CACHE.mkdir(parents=True, exist_ok=True)
    # Seeded under another name and renamed, so an interrupted seed is never reused.
    partial = db.with_name(db.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    print(f"generating {db.relative_to(BENCH.parent)} ({rows:,} connections), once")
    command = [sys.executable, "-m", "gql", "seed", "--db", str(partial), "--demo", str(rows)]
    try:
        subprocess.run(
            command, check=True, timeout=SEED_TIMEOUT_S, stdout=subprocess.DEVNULL, env=_env()
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        raise BenchError(f"seeding the dataset failed: {error}") from None
    if Path(f"{partial}-wal").exists():
        raise BenchError(f"{partial} was left with an uncheckpointed WAL; delete it and rerun")
    partial.rename(db)
    return db


def _env() -> dict[str, str]:
    return {**os.environ, "OCM_GQL_LOG_LEVEL": "warning"}


@contextlib.contextmanager
def _serving(name: str, command: list[str], db: Path) -> Iterator[int]:
    """Runs one server on a free loopback port until the block ends, however it ends."""
    port = _free_port()
    process = subprocess.Popen(
        [*command, "--db", str(db), "--host", HOST, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        env=_env(),
        # Its own session, so Ctrl-C reaches only this script, which then stops it.
        start_new_session=True,
    )
    try:
        _wait_ready(name, process, port)
        yield port
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
        connection = http.client.HTTPConnection(HOST, port, timeout=1.0)
        try:
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass  # Not listening yet.
        finally:
            connection.close()
        time.sleep(0.05)
    raise BenchError(f"the {name} was not ready on port {port} after {READY_TIMEOUT_S:g} s")


def _graphql_target(port: int, size: int) -> Target:
    return Target(
        name="server",
        port=port,
        method="POST",
        path="/graphql",
        body=orjson.dumps({"query": QUERY, "variables": {"first": size}}),
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )


def _fetch(connection: http.client.HTTPConnection, target: Target) -> bytes:
    connection.request(target.method, target.path, target.body, target.headers)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise BenchError(
            f"the {target.name} answered {target.method} {target.path} with HTTP "
            f"{response.status}: {body[:300]!r}"
        )
    return body


@contextlib.contextmanager
def _connected(target: Target) -> Iterator[http.client.HTTPConnection]:
    connection = http.client.HTTPConnection(HOST, target.port, timeout=HTTP_TIMEOUT_S)
    try:
        yield connection
    finally:
        connection.close()


def _same_body(server: Target, floor: Target) -> tuple[bytes, int, str]:
    """The server's body and its node count, after checking the floor returns the same;
    and how the two matched."""
    with _connected(server) as connection:
        server_body = _fetch(connection, server)
    with _connected(floor) as connection:
        floor_body = _fetch(connection, floor)
    server_json: Any = orjson.loads(server_body)
    nodes = _nodes(server_json)
    if nodes is None:
        raise BenchError(f"the server did not return a page: {server_body[:300]!r}")
    if server_body == floor_body:
        return server_body, len(nodes), "byte-identical"
    floor_json: Any = orjson.loads(floor_body)
    if server_json == floor_json:
        return server_body, len(nodes), "equal as parsed JSON (not byte-identical)"
    raise BenchError(
        f"the floor's body differs from the server's for first={len(nodes)}: "
        f"{_difference(nodes, _nodes(floor_json))}"
    )


def _nodes(body: Any) -> list[Any] | None:
    try:
        nodes = body["data"]["connectionInfos"]["nodes"]
    except (KeyError, TypeError):
        return None
    return nodes if isinstance(nodes, list) and "errors" not in body else None


def _difference(server: list[Any], floor: list[Any] | None) -> str:
    """Where the floor's nodes first differ from the server's, in a line."""
    if floor is None:
        return "the floor did not return a page"
    if len(server) != len(floor):
        return f"the server returned {len(server)} nodes, the floor {len(floor)}"
    for index, (s, f) in enumerate(zip(server, floor, strict=True)):
        if s != f:
            fields = [
                f"{key}: server {s.get(key)!r}, floor {f.get(key)!r}"
                for key in dict.fromkeys([*s, *f])
                if s.get(key) != f.get(key) or key not in s or key not in f
            ]
            return f"node {index} (id {s.get('id')}): " + "; ".join(fields)
    return "the nodes match but the rest of the body differs"


def _throughput(target: Target, expected_bytes: int, args: argparse.Namespace) -> float:
    """Requests/s of ``target`` over one keep-alive connection, one request at a time."""
    with _connected(target) as connection:
        _drive(connection, target, expected_bytes, args.warmup)
        completed, elapsed = _drive(connection, target, expected_bytes, args.duration)
    return completed / elapsed


def _drive(
    connection: http.client.HTTPConnection, target: Target, expected_bytes: int, seconds: float
) -> tuple[int, float]:
    """Sends requests back to back for ``seconds``; returns how many completed, in how long."""
    started = time.perf_counter()
    deadline = started + seconds
    completed = 0
    while completed < MAX_REQUESTS and time.perf_counter() < deadline:
        # The length alone catches a wrong answer under load without a costly comparison.
        if len(_fetch(connection, target)) != expected_bytes:
            raise BenchError(f"the {target.name} changed its answer for {target.path}")
        completed += 1
    return completed, time.perf_counter() - started


def _report(variants: list[Variant]) -> None:
    rows = [("page", "floor req/s", "server req/s", "server/floor")]
    rows += [
        (
            f"first={v.page_size}",
            f"{max(v.floor_rps):,.1f}",
            f"{max(v.server_rps):,.1f}",
            f"{v.ratio:.3f}",
        )
        for v in variants
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for first, *numbers in rows:
        cells = [number.rjust(width) for number, width in zip(numbers, widths[1:], strict=True)]
        print("  ".join([first.ljust(widths[0]), *cells]))


def _save(variants: list[Variant], args: argparse.Namespace) -> None:
    results = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "rows": args.rows,
        "concurrency": 1,
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "summary": "best of the rounds per side; ratio = server / floor",
        "variants": [
            {
                **asdict(v),
                "floor_best_rps": max(v.floor_rps),
                "server_best_rps": max(v.server_rps),
                "ratio": v.ratio,
            }
            for v in variants
        ],
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    sys.exit(main())
