"""Keeps memory from large requests returnable to the system (Linux, glibc), and the
garbage collector off what lives as long as the process.

glibc serves large allocations with mmap, which free returns to the system, but it raises
that threshold each time such a block is freed, up to 32 MiB: after a burst of large
request bodies, later large blocks come from the heap, which rarely shrinks. Fixing the
threshold keeps the server's memory near its resting size after such bursts.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, Final

M_MMAP_THRESHOLD: Final = -3
MMAP_THRESHOLD_BYTES: Final = 128 * 1024
TRIM_INTERVAL_SECONDS: Final = 1.0

logger = logging.getLogger("gql.memory")


def _glibc_function(name: str) -> Callable[..., Any] | None:
    """A function of the C library on Linux (glibc's tuning calls); None elsewhere, or
    when this C library lacks it."""
    if not sys.platform.startswith("linux"):
        return None
    library = ctypes.util.find_library("c")
    if library is None:
        return None
    try:
        function: Callable[..., Any] = getattr(ctypes.CDLL(library), name)
    except (OSError, AttributeError):
        return None
    return function


def keep_large_allocations_returnable() -> bool:
    """True when the setting took effect (glibc on Linux); harmless elsewhere."""
    mallopt = _glibc_function("mallopt")
    if mallopt is None:
        logger.debug("mallopt is not available; memory tuning skipped")
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


def freeze_startup_objects() -> None:
    """Moves what is alive once the app is built (modules, the schema and its types) out
    of the collector's generations: it lives as long as the process, and every full
    collection would otherwise walk all of it again (about 3% of throughput under load)."""
    gc.collect()
    gc.freeze()


async def trim_periodically(
    interval_seconds: float = TRIM_INTERVAL_SECONDS,
    full_collection_due: Callable[[], bool] = lambda: False,
) -> None:
    """Hands freed memory back to the system now and then.

    When ``full_collection_due`` says so (many subscribers have left), a full collection
    first: what ended subscriptions leave (tasks, frames and generators referring to one
    another) lands in the oldest generation, which CPython collects only once a quarter as
    much again has survived there, so after many subscribers leave it could stay for good.
    It is not run on a timer: with thousands of live subscriptions a full collection
    pauses the server for a second. Then glibc's free heap pages go back to the system:
    after a burst of large requests they would otherwise stay with the process. A round
    without a collection takes about a millisecond."""
    malloc_trim = _glibc_function("malloc_trim")
    while True:
        await asyncio.sleep(interval_seconds)
        if full_collection_due():
            started = time.perf_counter()
            freed = gc.collect()
            logger.debug(
                "full collection after subscribers left: %d objects in %.0f ms",
                freed,
                (time.perf_counter() - started) * 1000,
            )
        if malloc_trim is not None:
            malloc_trim(0)
