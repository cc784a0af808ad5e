"""A load test on loopback: one real server (uvicorn, a 5,000-connection demo database),
many concurrent clients (28 by default: 16 readers, 8 writers, 4 abusers, each sending
one request after another) for a bounded time.

Readers page through connections (20-100 per page, with all four relations, filtered and
ordered), read single connections, the reference lists and change logs. Writers set
statuses and update fields of rows only they write to, recording every acknowledged write.
Abusers send what the limits are for: documents too deep, with too many aliases, over the
cost limit (pages of 1,000 with every relation), over the token limit, bodies over 1 MiB,
JSON nested 2,000+ levels, garbage cursors, 900 KB strings and documents that repeat one
field thousands of times.

Under that load:
- no answer is a 5xx, and the server logs no traceback or unexpected error;
- every abusive request is refused with its own code (4xx, or 200 with a field error for
  garbage cursors), and every normal one succeeds;
- each writer has at least 5 writes acknowledged (it goes on past the load's time
  until it has, a loaded machine being slow), and every acknowledged write is in the
  file afterwards: per row, the change log holds
  exactly the acknowledged writes in the order they were made, and the row holds the last;
- normal reads are answered in bounded time: each kind's p99 under load is at most
  LATENCY_FACTOR x (clients in flight) x (the slowest normal kind's p50 measured alone,
  before and after the load, the slower of the two). Relative, so a slow or busy machine
  does not fail it; the clients in flight are the queue a fair server would work through.

It prints requests per second, p50 and p99 per kind, refusals by code, and the server's
RSS after a warm-up and after the load and a 3 s settle (that memory levels off is
tests/test_memory_bounds.py's proof, by comparing growth within one run).
OCM_GQL_LOAD_SECONDS sets how long the load runs (default 10); OCM_GQL_LOAD_MIX the
readers, writers and abusers (default "16,8,4"); OCM_GQL_LOAD_ABUSES which abuses to send
(comma-separated names, default all).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from tests.abuses import ABUSES, ORDERS
from tests.answers import GRAPHQL_RESPONSE, codes_in
from tests.conftest import run_cli
from tests.processes import ocm_server, rss_mb

pytestmark = pytest.mark.e2e

LOAD_SECONDS = float(os.environ.get("OCM_GQL_LOAD_SECONDS", "10"))
# Readers, writers and abusers among the clients.
MIX = tuple(int(n) for n in os.environ.get("OCM_GQL_LOAD_MIX", "16,8,4").split(","))
CLIENTS = sum(MIX)
DEMO_ROWS = 5000
SITE = 1_000_000_001
STATUSES = (0, 10, 30, 50, 75, 150)
ROWS_PER_WRITER = 10
WRITES_EACH = 5
"""Acknowledged writes each writer makes at least, past the load's time if need be."""
WRITES_GUARD_SECONDS = 60
# p99 of a normal read under load <= LATENCY_FACTOR x clients x slowest normal p50 alone.
# The slack covers a 2-core machine shared by the server, the 28 clients and a CPU-bound
# neighbour: there main before the request metrics already reached 1.38 x a factor of 16
# (page p99 1,458 ms against 1,057 ms), and the metrics add about 15% to a cheap read. A
# reader starved behind writes or abuse waits out the whole load, far past the bound.
LATENCY_FACTOR = 24
QUIET = {"OCM_GQL_LOG_LEVEL": "warning"}

# -- normal reads -----------------------------------------------------------------------

PAGE = """query Page($first: Int!, $after: String, $order: ConnectionInfoOrder,
    $filter: ConnectionInfoFilter) {
  connectionInfos(first: $first, after: $after, orderBy: $order, filter: $filter) {
    totalCount
    edges {
      cursor
      node {
        id amps voltage powerKw quantity chargePointId
        connectionType { id title formalName }
        statusType { id title isOperational }
        level { id title isFastChargeCapable }
        currentType { id title }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""
ONE = """query One($id: Int!) {
  connectionInfo(id: $id) {
    id amps powerKw comments connectionType { title } statusType { title } currentType { title }
  }
}"""
REFERENCE = (
    "{ connectionTypes { id title } statusTypes { id title } levels { id } currentTypes { id } }"
)
HISTORY = """query History($id: Int!) {
  connectionInfoHistory(id: $id, first: 5) { nodes { action actor after { amps comments } } }
}"""
FILTERS: list[dict[str, Any] | None] = [
    None,
    {"isOperational": True},
    {"minPowerKw": 22},
    {"currentTypeIds": [30], "minPowerKw": 50},
    {"statusTypeIds": [50, 75]},
]

# -- writes -----------------------------------------------------------------------------

UPDATE = """mutation Update($id: Int!, $input: UpdateConnectionInfoInput!) {
  updateConnectionInfo(id: $id, input: $input) { connectionInfo { id } userErrors { code } }
}"""
STATUS = """mutation Status($id: Int!, $status: Int!) {
  setConnectionStatus(id: $id, statusTypeId: $status) {
    connectionInfo { id } previousStatusTypeId userErrors { code }
  }
}"""

ABUSE_KINDS = sorted(os.environ.get("OCM_GQL_LOAD_ABUSES", ",".join(ABUSES)).split(","))


# -- bookkeeping ------------------------------------------------------------------------


@dataclass
class Ack:
    writer: int
    connection_id: int
    action: str
    values: dict[str, Any]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    refusals: Counter[tuple[str, str]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    uncertain: list[tuple[int, int]] = field(default_factory=list)


async def _send(
    client: httpx2.AsyncClient, tally: Tally, kind: str, body: dict[str, Any] | bytes
) -> tuple[int, Any]:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    started = time.perf_counter()
    response = await client.post(
        "/graphql",
        content=content,
        headers={"content-type": "application/json", "accept": GRAPHQL_RESPONSE},
    )
    tally.latencies[kind].append(time.perf_counter() - started)
    if response.status_code >= 500:
        tally.server_errors.append(f"{kind}: {response.status_code} {response.text[:300]}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    return response.status_code, answer


class Client:
    """One of the concurrent clients: its role decides what it sends."""

    def __init__(self, index: int, url: str, key: str, tally: Tally) -> None:
        self.index = index
        self.acked = 0
        self.rng = random.Random(index)
        self.tally = tally
        self.client = httpx2.AsyncClient(base_url=url, headers={"x-api-key": key}, timeout=60)
        # Each writer owns rows no other writer touches, so per row its acks are in order.
        first = SITE + DEMO_ROWS // 2 + index * ROWS_PER_WRITER
        self.rows = list(range(first, first + ROWS_PER_WRITER))
        self.cursors: list[str] = []
        self.written = 0

    async def read(self, kind: str | None = None) -> None:
        kind = kind or self.rng.choices(["page", "one", "reference", "history"], [6, 3, 1, 1])[0]
        if kind == "page":
            variables: dict[str, Any] = {
                "first": self.rng.randint(20, 100),
                "order": self.rng.choice(ORDERS),
                "filter": self.rng.choice(FILTERS),
            }
            body = {"query": PAGE, "variables": variables}
        elif kind == "one":
            body = {"query": ONE, "variables": {"id": SITE + self.rng.randrange(DEMO_ROWS)}}
        elif kind == "reference":
            body = {"query": REFERENCE}
        else:
            body = {"query": HISTORY, "variables": {"id": self.rng.choice(self.rows)}}
        status, answer = await _send(self.client, self.tally, kind, body)
        if (
            status != 200
            or not isinstance(answer, dict)
            or answer.get("errors")
            or not answer.get("data")
        ):
            self.tally.failures.append(f"{kind}: {status} {str(answer)[:300]}")

    async def write(self) -> None:
        connection_id = self.rng.choice(self.rows)
        if self.rng.random() < 0.5:
            n = self.rng.randint(0, 500)
            self.written += 1  # in the comment, so that no update leaves its row as it was
            values = {"amps": n, "quantity": n, "comments": f"load-{self.index}-{self.written}"}
            body = {"query": UPDATE, "variables": {"id": connection_id, "input": values}}
            action, stored = "UPDATE", values
        else:
            status = self.rng.choice(STATUSES)
            body = {"query": STATUS, "variables": {"id": connection_id, "status": status}}
            action, stored = "SET_STATUS", {"status_type_id": status}
        try:
            status_code, answer = await _send(self.client, self.tally, "write", body)
        except httpx2.TransportError:
            self.tally.uncertain.append((self.index, connection_id))
            raise
        payload = (answer or {}).get("data") or {}
        [result] = payload.values() if len(payload) == 1 else [None]
        if status_code != 200 or answer.get("errors") or result is None or result["userErrors"]:
            self.tally.failures.append(f"write: {status_code} {str(answer)[:300]}")
            self.tally.uncertain.append((self.index, connection_id))
            return
        if action == "SET_STATUS" and result["previousStatusTypeId"] == stored["status_type_id"]:
            return  # the status it already had is no change: nothing logged to match
        self.tally.acks.append(Ack(self.index, connection_id, action, stored))
        self.acked += 1

    async def abuse(self, kind: str | None = None) -> None:
        kind = kind or self.rng.choice(ABUSE_KINDS)
        make, expected = ABUSES[kind]
        status, answer = await _send(self.client, self.tally, kind, make(self.rng))
        codes = set(codes_in(answer)) if answer is not None else set()
        # Refused before running (4xx, no data), or its field failed (200, data null).
        refused = (400 <= status < 500 and "data" not in answer) or (
            status == 200 and answer.get("data") is None
        )
        if not refused or not codes & expected:
            self.tally.failures.append(f"{kind} not refused: {status} {str(answer)[:300]}")
        for code in codes:
            self.tally.refusals[(kind, code)] += 1

    async def close(self) -> None:
        await self.client.aclose()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


NORMAL_READS = ("page", "one", "reference", "history")


@pytest.mark.timeout(180)
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_mixed_load_on_loopback(tmp_path: Path) -> None:
    db = tmp_path / "load.db"
    run_cli("seed", "--db", str(db), "--demo", str(DEMO_ROWS), "--seed", "5")
    [key] = run_cli("keys", "create", "--db", str(db), "--name", "loader").split()
    readers, writers, abusers = MIX
    roles = ["reader"] * readers + ["writer"] * writers + ["abuser"] * abusers
    tally, alone = Tally(), Tally()
    rss: dict[str, float] = {}
    server = ocm_server("--db", str(db), cwd=tmp_path, env=QUIET)
    try:
        elapsed = asyncio.run(_load(server.url, server.process.pid, key, roles, tally, alone, rss))
    finally:
        output = server.stop()

    _report(roles, elapsed, tally, alone, rss)
    assert tally.server_errors == [], tally.server_errors[:5]
    assert tally.failures == [], tally.failures[:5]
    assert "Traceback" not in output, output[-3000:]
    assert "unexpected error" not in output, output[-3000:]
    if abusers:
        assert {kind for kind, _ in tally.refusals} == set(ABUSE_KINDS)
    if writers:
        assert len(tally.acks) >= writers * WRITES_EACH

    # Normal reads were answered in bounded time, relative to their latency alone.
    slowest_alone = max(statistics.median(alone.latencies[kind]) for kind in NORMAL_READS)
    bound = LATENCY_FACTOR * len(roles) * slowest_alone
    for kind in NORMAL_READS if readers else ():
        p99 = _percentile(tally.latencies[kind], 0.99)
        assert p99 <= bound, f"{kind}: p99 {p99 * 1000:.0f} ms > bound {bound * 1000:.0f} ms"

    # Every acknowledged write is in the file, in order, and each row holds its last.
    _check_writes(db, [*alone.acks, *tally.acks], {*alone.uncertain, *tally.uncertain})


async def _load(
    url: str,
    pid: int,
    key: str,
    roles: list[str],
    tally: Tally,
    alone: Tally,
    rss: dict[str, float],
) -> float:
    """Warms up, measures the normal reads alone, runs the clients, then measures the
    reads alone again; returns how long the load ran."""
    clients = [Client(i, url, key, tally) for i in range(len(roles))]
    probe = Client(len(roles), url, key, alone)  # writes its own rows too
    try:
        for kind in ABUSES:
            await probe.abuse(kind)
        for _ in range(5):
            await probe.write()
        for repeat in (10, 30):  # the first round only warms up
            alone.latencies.clear()
            for kind in NORMAL_READS:
                for _ in range(repeat):
                    await probe.read(kind)
        rss["warm"] = rss_mb(pid)
        deadline = time.monotonic() + LOAD_SECONDS

        async def loop(client: Client, role: str) -> None:
            step: Callable[[], Awaitable[None]] = {
                "reader": client.read,
                "writer": client.write,
                "abuser": client.abuse,
            }[role]
            # Writers go on past the deadline until each has its writes to check: on a
            # loaded machine the time alone may not give them that many.
            while time.monotonic() < deadline or (
                role == "writer"
                and client.acked < WRITES_EACH
                and time.monotonic() < deadline + WRITES_GUARD_SECONDS
            ):
                await step()

        started = time.monotonic()
        await asyncio.gather(*(loop(c, role) for c, role in zip(clients, roles, strict=True)))
        elapsed = time.monotonic() - started
        await asyncio.sleep(3)  # settle (the server trims its heap every second)
        rss["after"] = rss_mb(pid)
        # The reads alone once more: each kind keeps the slower of its two measurements,
        # so a machine busier during the load than before it does not fail the bound.
        before = {kind: alone.latencies.pop(kind) for kind in NORMAL_READS}
        for kind in NORMAL_READS:
            for _ in range(30):
                await probe.read(kind)
            if statistics.median(before[kind]) > statistics.median(alone.latencies[kind]):
                alone.latencies[kind] = before[kind]
        return elapsed
    finally:
        for client in [*clients, probe]:
            await client.close()


def _report(
    roles: list[str], elapsed: float, tally: Tally, alone: Tally, rss: dict[str, float]
) -> None:
    print(
        f"\nload: {len(roles)} clients ({roles.count('reader')} readers, "
        f"{roles.count('writer')} writers, {roles.count('abuser')} abusers), {elapsed:.1f} s, "
        f"{DEMO_ROWS} connections"
    )
    for kind, latencies in sorted(tally.latencies.items()):
        base = alone.latencies.get(kind)
        alone_text = f"  (alone: p50 {statistics.median(base) * 1000:.1f} ms)" if base else ""
        print(
            f"  {kind:17} {len(latencies) / elapsed:7.1f}/s"
            f"  p50 {_percentile(latencies, 0.5) * 1000:8.1f} ms"
            f"  p99 {_percentile(latencies, 0.99) * 1000:8.1f} ms{alone_text}"
        )
    for (kind, code), count in sorted(tally.refusals.items()):
        print(f"  refused {kind:17} {code:26} {count}")
    print(f"  writes acknowledged: {len(tally.acks)}; answered with errors: {len(tally.uncertain)}")
    warm, after = rss.get("warm", 0.0), rss.get("after", 0.0)
    print(f"  server RSS: {warm:.0f} MB after warm-up, {after:.0f} MB after")


def _check_writes(db: Path, acks: list[Ack], uncertain: set[tuple[int, int]]) -> None:
    """Per row: the log holds exactly its acknowledged writes, in order, and the row the
    last value of each field. A row with a write that got no clean answer may hold one
    more entry per such write."""
    with sqlite3.connect(db) as raw:
        raw.row_factory = sqlite3.Row
        entries = raw.execute(
            "SELECT connection_id, action, after FROM connection_change"
            " WHERE actor = 'loader' ORDER BY id"
        ).fetchall()
        rows = {row["id"]: dict(row) for row in raw.execute("SELECT * FROM connection_info")}
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    logged: dict[int, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for entry in entries:
        logged[entry["connection_id"]].append((entry["action"], json.loads(entry["after"])))
    acked: dict[int, list[Ack]] = defaultdict(list)
    for ack in acks:
        acked[ack.connection_id].append(ack)
    unsure = Counter(connection_id for _, connection_id in uncertain)
    assert set(logged) <= set(acked) | set(unsure)
    for connection_id, row_acks in acked.items():
        log = logged[connection_id]
        if unsure[connection_id]:
            assert len(row_acks) <= len(log) <= len(row_acks) + unsure[connection_id]
            continue
        assert len(log) == len(row_acks), (connection_id, len(log), len(row_acks))
        final: dict[str, Any] = {}
        for (action, after), ack in zip(log, row_acks, strict=True):
            assert action == ack.action, (connection_id, action, ack)
            assert all(after[name] == value for name, value in ack.values.items()), (after, ack)
            final.update(ack.values)
        assert {name: rows[connection_id][name] for name in final} == final, connection_id
