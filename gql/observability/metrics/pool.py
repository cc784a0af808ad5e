"""Database connections in use and idle, and how long writes wait for the writer.

The repository reports its connections (`Repository.pool_usage`); a task started by the
app's lifespan (`report_pool_usage`) moves the gauges to them every second, by the
difference from what it reported last, so several apps in one process add up and their
share goes when they stop. (A scrape-time callback would not survive multiprocess mode,
which reads the gauges from the workers' files.) Write waits are observed by the
backends as each write transaction starts.
"""

from __future__ import annotations

import asyncio
from collections import Counter as Tally
from typing import TYPE_CHECKING, Final

from prometheus_client import Gauge, Histogram

from gql.observability.metrics.database import BACKENDS, SECONDS_BUCKETS

if TYPE_CHECKING:
    from gql.repository.base import Repository

POOL_CONNECTIONS: Final = Gauge(
    "ocm_gql_db_pool_connections",
    "Database connections open, by backend (sqlite, postgresql) and state (in_use: a "
    "statement or transaction holds it; idle).",
    ["backend", "state"],
    multiprocess_mode="livesum",
)
WRITE_QUEUE_WAIT: Final = Histogram(
    "ocm_gql_db_write_queue_wait_seconds",
    "Time a write transaction waited for its connection (SQLite: the one writer and the "
    "database's write lock; PostgreSQL: a pooled connection) before it began.",
    ["backend"],
    buckets=SECONDS_BUCKETS,
)
REFRESH_SECONDS: Final = 1.0

_WAITS: Final = {backend: WRITE_QUEUE_WAIT.labels(backend=backend) for backend in BACKENDS}


def write_waited(backend: str, seconds: float) -> None:
    _WAITS[backend].observe(seconds)


class PoolGauges:
    """One repository's share of the pool gauges."""

    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._shown: Tally[tuple[str, str]] = Tally()

    def refresh(self) -> None:
        now: Tally[tuple[str, str]] = Tally()
        for usage in self._repository.pool_usage():
            now[usage.backend, "in_use"] += usage.in_use
            now[usage.backend, "idle"] += usage.idle
        self._move_to(now)

    def clear(self) -> None:
        self._move_to(Tally())

    def _move_to(self, now: Tally[tuple[str, str]]) -> None:
        for backend, state in now.keys() | self._shown.keys():
            change = now[backend, state] - self._shown[backend, state]
            if change:
                POOL_CONNECTIONS.labels(backend=backend, state=state).inc(change)
        self._shown = now


async def report_pool_usage(repository: Repository, seconds: float = REFRESH_SECONDS) -> None:
    """Keeps the gauges at the repository's usage until cancelled, then takes its share
    back out."""
    gauges = PoolGauges(repository)
    try:
        while True:
            gauges.refresh()
            await asyncio.sleep(seconds)
    finally:
        gauges.clear()
