"""How `serve` runs uvicorn: in this process, or as N worker processes on one socket.

Several workers run under uvicorn's own process manager (``uvicorn.supervisors.Multiprocess``)
rather than gunicorn's: uvicorn is already our server, so it takes no other dependency
or worker class, keeps our HTTP protocol class (deadlines, the connection cap) and the
listening socket `serve` opened, and (since uvicorn 0.30) replaces a worker that dies and
passes SIGTERM and SIGINT on to every worker, each of which then finishes its in-flight
requests as a single process does.

Workers are spawned, not forked, so what reaches them is pickled: a worker's uvicorn
config crosses as the settings alone, and the worker builds its own app, protocol class
and database pool (none of which pickle, and none of which may be shared).
"""

from __future__ import annotations

import functools
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from gql.app import create_app
from gql.http.server_protocol import protocol_with_deadlines
from gql.memory import freeze_startup_objects, keep_large_allocations_returnable
from gql.observability.logging import configure_logging
from gql.observability.metrics import forget_process
from gql.settings import Settings

PER_PROCESS_WITHOUT_REDIS = (
    "live subscription events, reference-list cache invalidation, automatic persisted "
    "queries and rate limits"
)
"""What each worker keeps to itself unless ``redis_url`` is set."""


def serve_here(settings: Settings, app: Starlette, listener: socket.socket) -> None:
    """Serves ``app``, built already, in this process until SIGTERM or SIGINT."""
    keep_large_allocations_returnable()
    freeze_startup_objects()
    config = uvicorn.Config(app, **_options(settings))
    uvicorn.Server(config).run(sockets=[listener])


def serve_workers(
    settings: Settings, listener: socket.socket, *, metrics_directory: str | None = None
) -> bool:
    """Runs ``settings.workers`` worker processes on ``listener`` until SIGTERM or SIGINT,
    replacing any that dies; False when one failed to start (the manager then stops them
    all, since every replacement would fail the same way). ``metrics_directory``: where
    the workers write their metrics, whose gauges of a worker that is gone are dropped."""
    manager = _Workers(_WorkerConfig(settings), sockets=[listener])
    manager.metrics_directory = metrics_directory
    manager.run()
    return all(worker.exitcode != STARTUP_FAILURE for worker in manager.processes)


class _Workers(Multiprocess):
    """uvicorn's process manager, telling the metrics when it replaced a worker (one that
    died, or all of them on SIGHUP), so a scrape no longer adds up the gauges of the gone."""

    metrics_directory: str | None = None

    def keep_subprocess_alive(self) -> None:
        before = self._pids()
        super().keep_subprocess_alive()
        self._forget(before - self._pids())

    def restart_all(self) -> None:
        before = self._pids()
        super().restart_all()
        self._forget(before - self._pids())

    def _pids(self) -> set[int]:
        return {worker.pid for worker in self.processes if worker.pid is not None}

    def _forget(self, gone: set[int]) -> None:
        if self.metrics_directory is not None:
            for pid in gone:
                forget_process(pid, self.metrics_directory)


def worker_app(settings: Settings) -> Starlette:
    """A worker's app, built in the worker (uvicorn calls this as the app factory). The
    memory settings are per process, as in `serve_here`: glibc's threshold, and the
    collector's view of what lives as long as the process. The open-file limit the
    parent raised is inherited."""
    configure_logging(settings.log_level, settings.log_format)
    keep_large_allocations_returnable()
    app = create_app(settings)
    freeze_startup_objects()
    return app


class _WorkerConfig(uvicorn.Config):
    """A worker's config: pickled as its settings, and rebuilt from them in the worker."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__(
            functools.partial(worker_app, settings),
            factory=True,
            workers=settings.workers,
            **_options(settings),
        )

    def __reduce__(self) -> tuple[type[_WorkerConfig], tuple[Settings]]:
        return (_WorkerConfig, (self.settings,))


def _options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options, the same for one process and for each worker."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        # JSON lines: uvicorn configures no handlers of its own; its records reach ours.
        **({"log_config": None} if settings.log_format == "json" else {}),
        "lifespan": "on",
        # On SIGTERM: stop accepting, let in-flight requests finish, then close the database.
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
        # Slow clients (slowloris) must not hold connections: deadlines on the request
        # head and body, an idle timeout, and a cap answered 503. uvicorn refuses when
        # open connections (this one included) reach limit_concurrency, hence the + 1.
        "http": protocol_with_deadlines(
            settings.header_timeout_seconds, settings.body_timeout_seconds
        ),
        "timeout_keep_alive": settings.idle_timeout_seconds,
        "limit_concurrency": settings.max_connections + 1,
        "ws_max_size": settings.max_websocket_message_bytes,
        # permessage-deflate keeps ~300 KiB of zlib state per socket (most of a
        # subscriber's memory) to shrink messages of a few hundred bytes: not worth it.
        "ws_per_message_deflate": False,
    }
