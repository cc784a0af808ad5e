"""Prometheus metrics (the official prometheus-client), one module per area, and their
exposition in Prometheus' text format.

One process: the metrics live in prometheus-client's default registry, beside its own
process, platform and GC collectors. Several workers (`serve --workers N`): before it
spawns them, the supervising process points PROMETHEUS_MULTIPROC_DIR at a fresh folder
(`multiprocess_directory`), so each worker's prometheus-client, which picks its mode when
it is imported, writes every value to files there; a scrape of any worker, or of the
supervisor's metrics port, reads and merges the files of all of them. Gauges are
"livesum": summed over the workers alive (a dead worker's files are dropped by
`forget_process`). prometheus-client's process collectors would describe whichever worker
answered, so each process also writes its own, labelled by pid (`process`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from gql.observability.metrics import process, requests

__all__ = [
    "CONTENT_TYPE",
    "MULTIPROCESS_VARIABLE",
    "exposition",
    "forget_process",
    "multiprocess_directory",
    "process",
    "requests",
]

MULTIPROCESS_VARIABLE: Final = "PROMETHEUS_MULTIPROC_DIR"
# Our names need no escaping, so the text is the classic format every Prometheus reads.
CONTENT_TYPE: Final = CONTENT_TYPE_PLAIN_0_0_4

# A `_created` series per counter and histogram doubles what is stored for a timestamp
# Prometheus does not need (the multiprocess mode never has them anyway).
disable_created_metrics()  # type: ignore[no-untyped-call]


def exposition(directory: str | None = None, *, this_process: bool = True) -> bytes:
    """Every metric in the text format. ``directory``: the workers' multiprocess folder
    (None: this process's own, when prometheus-client runs in that mode). A process that
    serves requests (``this_process``) first brings its own process values up to date."""
    if this_process:
        process.refresh()
    directory = directory or os.environ.get(MULTIPROCESS_VARIABLE)
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


@contextlib.contextmanager
def multiprocess_directory() -> Iterator[str]:
    """A fresh folder for the workers' metric files, named in this process's environment
    (which the workers spawned meanwhile inherit), removed with the variable at the end.
    A folder of an earlier run would add its counts to this one's, so it is never reused."""
    directory = tempfile.mkdtemp(prefix="ocm-gql-metrics-")
    previous = os.environ.get(MULTIPROCESS_VARIABLE)
    os.environ[MULTIPROCESS_VARIABLE] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_VARIABLE, None)
        else:
            os.environ[MULTIPROCESS_VARIABLE] = previous
        shutil.rmtree(directory, ignore_errors=True)


def forget_process(pid: int, directory: str) -> None:
    """Drops a dead worker's gauges (its counters and histograms stay: what it counted
    happened)."""
    if Path(directory).is_dir():
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
