"""Each server process's own resident memory, CPU time and garbage collections, labelled
by its pid.

prometheus-client's process and GC collectors read the process that answers the scrape,
which with several workers is any one of them; and a collector cannot run in the other
workers. So every process writes its own values, every few seconds from the app's
lifespan and once more when it answers a scrape, into ordinary metrics that the
multiprocess mode sums across workers (each pid its own series).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import threading
from typing import Final

from prometheus_client import Counter, Gauge

logger = logging.getLogger("gql.observability.metrics")

REFRESH_SECONDS: Final = 2.0
"""How old a worker's values may be when another answers the scrape."""

RESIDENT_MEMORY = Gauge(
    "ocm_gql_process_resident_memory_bytes",
    "Resident memory of each server process (Linux), by pid.",
    ["pid"],
    # One series per live worker: "liveall" keeps them apart by pid (the label we give it
    # anyway, for one process), where "livesum" would add the workers up.
    multiprocess_mode="liveall",
)
CPU_SECONDS = Counter(
    "ocm_gql_process_cpu_seconds",
    "CPU time (user and system) of each server process, by pid.",
    ["pid"],
)
GC_COLLECTIONS = Counter(
    "ocm_gql_process_gc_collections",
    "Garbage collections of each server process, by pid and generation.",
    ["pid", "generation"],
)

_PAGE_SIZE: Final = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class _Seen:
    """What this process had counted, so counters move by what happened since."""

    pid = 0
    cpu = 0.0
    collections: tuple[int, ...] = ()


_seen = _Seen()
# The metrics port's thread and the event loop may refresh at once.
_lock = threading.Lock()


def refresh() -> None:
    """Writes this process's current values."""
    with _lock:
        pid = os.getpid()
        label = str(pid)
        if _seen.pid != pid:  # first call here (a forked child starts from zero)
            _seen.pid, _seen.cpu, _seen.collections = pid, 0.0, ()
        resident = resident_bytes()
        if resident is not None:
            RESIDENT_MEMORY.labels(label).set(resident)
        times = os.times()
        cpu = times.user + times.system
        CPU_SECONDS.labels(label).inc(max(cpu - _seen.cpu, 0.0))
        _seen.cpu = max(cpu, _seen.cpu)
        collections = tuple(generation["collections"] for generation in gc.get_stats())
        before = _seen.collections or (0,) * len(collections)
        for generation, (now, then) in enumerate(zip(collections, before, strict=True)):
            GC_COLLECTIONS.labels(label, str(generation)).inc(max(now - then, 0))
        _seen.collections = collections


def resident_bytes() -> int | None:
    """This process's resident memory from /proc (Linux); None elsewhere."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


async def refresh_periodically(seconds: float = REFRESH_SECONDS) -> None:
    """Refreshes this process's values until cancelled (a task of the app's lifespan)."""
    while True:
        try:
            refresh()
        except Exception:
            logger.exception("could not read this process's metrics")
        await asyncio.sleep(seconds)
