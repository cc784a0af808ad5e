"""The log format and level, set up once per process: by the command line, and again in
each worker process `serve --workers N` spawns (a spawned process starts with none)."""

from __future__ import annotations

import logging

from gql.observability.record import RequestRecord
from gql.settings import LogLevel

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: LogLevel) -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)


def log_request(record: RequestRecord, duration: float) -> None:
    """(Being built: one line per request.)"""
