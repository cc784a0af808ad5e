"""What observability costs: in-process request throughput with tracing off and on, against
a baseline without any of it (no metrics, tracing or request records), all measured in the
same run.

Usage, from the repository root:

    .venv/bin/python bench/tracing.py [--baseline-ref REF] [--requests N] [--rounds N]

Each side is its own process that builds the app (`create_app`, the whole middleware stack
and the lifespan), warms it up, then sends `--requests` requests one after another
straight into the ASGI app (no sockets, no client: only the server's own work is timed)
and reports requests/s:

- **baseline**: the same script over the `gql` package of `--baseline-ref` (default: the
  commit before observability was added), exported with `git archive`.
- **off**: this tree, no OTEL_* variable set: tracing off, metrics and the request line
  on, as a server runs by default.
- **on**: this tree with OTEL_EXPORTER_OTLP_ENDPOINT set to a loopback receiver in this
  process that answers every export (BatchSpanProcessor, OTLP/HTTP protobuf): every
  request traced and exported.
- **on, unsampled**: tracing on, OTEL_TRACES_SAMPLER=traceidratio with ratio 0: the cost
  of spans that are made but not recorded.

Sides alternate round by round (baseline, off, on, unsampled, baseline, ...) so drift in
the machine's speed reaches all of them; each side's best and median round are printed,
with their ratios to the baseline's. The request is a page of 10 connections with all four
relations over a generated SQLite dataset of 10,000 connections (bench/.cache).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import MutableMapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# The last commit of main before observability: no request record, metrics or tracing.
DEFAULT_BASELINE = "450862b"
QUERY = """query Page($first: Int!) {
  connectionInfos(first: $first) {
    nodes {
      id powerKw amps voltage quantity comments
      connectionType { id title } statusType { id title isOperational }
      level { id title } currentType { id title }
    }
    pageInfo { endCursor hasNextPage }
  }
}"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-ref", default=DEFAULT_BASELINE)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(_measure(args.db, args.requests))))
        return 0
    return _compare(args)


# -- one side, in its own process -------------------------------------------------------


async def _measure(db: Path, requests: int) -> dict[str, Any]:
    from gql.app import create_app
    from gql.memory import freeze_startup_objects
    from gql.settings import Settings

    app = create_app(Settings(db=db, log_level="warning"))
    freeze_startup_objects()  # as `ocm-gql serve` does once the app is built
    body = json.dumps({"query": QUERY, "variables": {"first": 10}}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    statuses: list[int] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    async def one() -> None:
        await app(dict(scope, headers=list(scope["headers"])), receive, send)

    async with app.router.lifespan_context(app):
        for _ in range(max(200, requests // 10)):  # warm: caches, plans, the allocator
            await one()
        statuses.clear()
        started, cpu_started = time.perf_counter(), time.process_time()
        for _ in range(requests):
            await one()
        seconds = time.perf_counter() - started
        # The process's CPU time, the exporter's thread included: what a request costs,
        # whatever else the machine runs meanwhile.
        cpu_seconds = time.process_time() - cpu_started
    assert statuses == [200] * requests, set(statuses)
    import gql

    return {
        "requests_per_second": requests / seconds,
        "requests_per_cpu_second": requests / cpu_seconds,
        "gql": str(Path(gql.__file__).parent),
    }


# -- the comparison ---------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    """Answers every OTLP export with 200, as a collector would (the bytes are dropped)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _compare(args: argparse.Namespace) -> int:
    sys.path.insert(0, str(BENCH))
    from run import Dataset, _dataset  # the main suite's cached, generated datasets

    db, _ = _dataset(Dataset("connections", args.rows))
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    plain = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OCM_GQL_"))}
    with tempfile.TemporaryDirectory(prefix="ocm-gql-bench-tracing-") as work:
        baseline_tree = Path(work)
        archive = subprocess.run(
            ["git", "archive", args.baseline_ref, "gql", "seed"],  # seed: migrations
            cwd=ROOT,
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(baseline_tree)], input=archive, check=True)
        traced = {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_SERVICE_NAME": "ocm-gql-bench",
        }
        sides: dict[str, dict[str, str]] = {
            "baseline": {**plain, "PYTHONPATH": str(baseline_tree)},
            "off": {**plain, "PYTHONPATH": str(ROOT)},
            "on": {**plain, "PYTHONPATH": str(ROOT), **traced},
            "on, unsampled": {
                **plain,
                "PYTHONPATH": str(ROOT),
                **traced,
                "OTEL_TRACES_SAMPLER": "traceidratio",
                "OTEL_TRACES_SAMPLER_ARG": "0",
            },
        }
        print(
            f"{args.requests:,} requests per round, {args.rounds} rounds, baseline "
            f"{args.baseline_ref}; a page of 10 connections with all relations"
        )
        results: dict[str, dict[str, list[float]]] = {
            side: {"cpu": [], "wall": []} for side in sides
        }
        for round_number in range(1, args.rounds + 1):
            for side, env in sides.items():
                cpu, wall = _side(env, db, args.requests)
                results[side]["cpu"].append(cpu)
                results[side]["wall"].append(wall)
                print(
                    f"  round {round_number} {side:>14}: {cpu:8,.0f} requests per CPU-second"
                    f" ({wall:,.0f} requests/s)",
                    flush=True,
                )
    receiver.shutdown()
    for measure, title in (("cpu", "requests per CPU-second"), ("wall", "requests/s")):
        base = results["baseline"][measure]
        best_base, median_base = max(base), statistics.median(base)
        print(f"\n{title}\n{'side':>14} {'best':>9} {'ratio':>6} {'median':>9} {'ratio':>6}")
        for side, measured in results.items():
            rates = measured[measure]
            best, median = max(rates), statistics.median(rates)
            print(
                f"{side:>14} {best:9,.0f} {best / best_base:6.3f} "
                f"{median:9,.0f} {median / median_base:6.3f}"
            )
        spread = (max(base) - min(base)) / median_base
        print(f"baseline's own spread over its rounds, (max - min) / median: {spread:.1%}")
    _hook_costs(statistics.median(results["off"]["cpu"]))
    out = BENCH / "results" / "latest-tracing.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"baseline_ref": args.baseline_ref, "rounds": results}, indent=2))
    return 0


def _hook_costs(off_rate: float) -> None:
    """What the hooks cost a request with tracing off, timed alone in this process (no
    machine noise to speak of): the request's span, the three steps' spans of the fast
    lane, and a SQL statement's observation (its metrics, which stay on)."""
    import timeit

    from gql.observability import tracing
    from gql.observability.record import RequestRecord, Transport
    from gql.observability.statements import Backend, Kind, observed

    assert not tracing.enabled()
    record = RequestRecord(request_id="bench", transport=Transport.HTTP)
    scope: dict[str, Any] = {"headers": []}

    def request_span() -> None:
        with tracing.request_span(scope, record):
            pass

    def step_span() -> None:
        with tracing.span("graphql.parse"):
            pass

    def statement() -> None:
        with observed(Backend.SQLITE, Kind.PAGE, "SELECT 1") as seen:
            seen.rows = 10

    def each(hook: Any) -> float:
        return min(timeit.repeat(hook, number=100_000, repeat=5)) / 100_000

    tracing_off = each(request_span) + 3 * each(step_span)
    metrics = each(statement)
    per_request = 1 / off_rate
    print(
        f"\nhooks timed alone, per request of this benchmark ({per_request * 1e6:,.0f} us of "
        f"CPU, one SQL statement): tracing off {tracing_off * 1e6:.2f} us "
        f"({tracing_off / per_request:.2%}); the statement's metrics {metrics * 1e6:.2f} us "
        f"({metrics / per_request:.2%})"
    )


def _side(env: dict[str, str], db: Path, requests: int) -> tuple[float, float]:
    """Requests per CPU-second and per second of one side's process."""
    done = subprocess.run(
        [sys.executable, __file__, "--measure", "--db", str(db), "--requests", str(requests)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    # The side ran the code it was meant to (the baseline's export, or this tree).
    expected = Path(env["PYTHONPATH"]) / "gql"
    assert Path(measured["gql"]) == expected, (measured["gql"], expected)
    return measured["requests_per_cpu_second"], measured["requests_per_second"]


if __name__ == "__main__":
    sys.exit(main())
