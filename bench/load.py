"""The benchmark's load generator: keep-alive HTTP/1.1 connections, one request in flight
on each, for a fixed time; run by bench/run.py in its own process.

    python bench/load.py --port P --request-file F --connections N --duration S
        [--warmup S] [--expect-bytes B]

It sends the raw request in F (a whole HTTP/1.1 request, as bench/run.py writes it) on N
connections, each sending its next request as soon as the previous response has arrived,
for --warmup seconds and then --duration seconds more. Responses that complete within the
timed part are counted and their latencies (send to last byte) kept. It prints one JSON
object: requests, rps, p50_ms, p99_ms, max_ms, and how many responses were not 200
(`errors`) or not --expect-bytes long in their body (`wrong_length`).

It is callback-driven on one event loop (uvloop when installed): no coroutine or parser
object per request, so it costs a few tens of microseconds per request.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from pathlib import Path
from typing import cast

HOST = "127.0.0.1"
# After the timed part, responses still in flight get this long before the run gives up.
DRAIN_TIMEOUT_S = 60.0


class LoadError(Exception):
    """The run could not be completed; the message says why."""


class Run:
    """What all connections of one run share: the request, the clock and the tallies."""

    def __init__(self, request: bytes, expect_bytes: int | None, warmup: float, duration: float):
        self.request = request
        self.expect_bytes = expect_bytes
        self.started = time.perf_counter_ns()
        self.measure_from = self.started + int(warmup * 1e9)
        self.measure_until = self.measure_from + int(duration * 1e9)
        self.latencies_ns: list[int] = []
        self.errors = 0
        self.wrong_length = 0
        self.failure: str | None = None
        self.open_connections = 0
        self.all_closed = asyncio.get_running_loop().create_future()

    def record(self, sent: int, received: int, status: int, body_bytes: int) -> None:
        if self.measure_from <= received <= self.measure_until:
            self.latencies_ns.append(received - sent)
            if status != 200:
                self.errors += 1
            elif self.expect_bytes is not None and body_bytes != self.expect_bytes:
                self.wrong_length += 1

    def closed(self, failure: str | None) -> None:
        if failure is not None and self.failure is None:
            self.failure = failure
        self.open_connections -= 1
        if self.open_connections == 0 and not self.all_closed.done():
            self.all_closed.set_result(None)


class Connection(asyncio.Protocol):
    def __init__(self, run: Run) -> None:
        self._run = run
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._need: int | None = None  # whole response length, once its head is read
        self._status = 0
        self._body_bytes = 0
        self._sent = 0
        self._failure: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        self._run.open_connections += 1
        self._send()

    def _send(self) -> None:
        assert self._transport is not None
        self._sent = time.perf_counter_ns()
        if self._sent >= self._run.measure_until:
            self._transport.close()
            return
        self._transport.write(self._run.request)

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if self._need is None:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(buffer[:head_end]).lower()
            try:
                self._status = int(head[9:12])
                length_at = head.index(b"\r\ncontent-length:") + 17
                line_end = head.find(b"\r\n", length_at)
                self._body_bytes = int(head[length_at : line_end if line_end >= 0 else None])
            except ValueError:
                self._fail(f"a response without a status or Content-Length: {head[:200]!r}")
                return
            self._need = head_end + 4 + self._body_bytes
        if len(buffer) < self._need:
            return
        if len(buffer) > self._need:
            self._fail("more bytes than the response's Content-Length")
            return
        received = time.perf_counter_ns()
        buffer.clear()
        self._need = None
        self._run.record(self._sent, received, self._status, self._body_bytes)
        self._send()

    def _fail(self, reason: str) -> None:
        self._failure = reason
        assert self._transport is not None
        self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        failure = self._failure
        if failure is None and exc is not None:
            failure = f"connection lost: {exc}"
        elif failure is None and (self._need is not None or self._buffer):
            failure = "the server closed the connection mid-response"
        elif failure is None and time.perf_counter_ns() < self._run.measure_until:
            failure = "the server closed the connection"
        self._run.closed(failure)


async def drive(
    port: int,
    request: bytes,
    connections: int,
    warmup: float,
    duration: float,
    expect_bytes: int | None,
) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    run = Run(request, expect_bytes, warmup, duration)
    for _ in range(connections):
        await loop.create_connection(lambda: Connection(run), HOST, port)
    timeout = warmup + duration + DRAIN_TIMEOUT_S
    try:
        await asyncio.wait_for(asyncio.shield(run.all_closed), timeout)
    except TimeoutError:
        raise LoadError(
            f"responses still outstanding {DRAIN_TIMEOUT_S:g} s after the end"
        ) from None
    if run.failure is not None:
        raise LoadError(run.failure)
    latencies = sorted(run.latencies_ns)
    return {
        "connections": connections,
        "duration_s": duration,
        "requests": len(latencies),
        "rps": len(latencies) / duration,
        "p50_ms": _percentile(latencies, 50),
        "p99_ms": _percentile(latencies, 99),
        "max_ms": latencies[-1] / 1e6 if latencies else math.nan,
        "errors": run.errors,
        "wrong_length": run.wrong_length,
    }


def _percentile(ordered: list[int], percent: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1] / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--request-file", type=Path, required=True)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--expect-bytes", type=int, default=None)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        runner = asyncio.run
    else:
        runner = uvloop.run
    try:
        result = runner(
            drive(
                args.port,
                args.request_file.read_bytes(),
                args.connections,
                args.warmup,
                args.duration,
                args.expect_bytes,
            )
        )
    except (LoadError, OSError) as error:
        print(f"load: error: {error}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
