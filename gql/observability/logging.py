"""The log format and level, set up once per process: by the command line, and again in
each worker process `serve --workers N` spawns (a spawned process starts with none)."""

from __future__ import annotations

import logging

from gql.settings import LogLevel

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: LogLevel) -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
