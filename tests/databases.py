"""Throwaway databases for tests, on each backend.

PostgreSQL comes from ``OCM_GQL_TEST_POSTGRES_URL`` (default: the local service at
127.0.0.1:5432, trust auth, user postgres). Each test run makes its own databases on it
and drops them after, so tests never see each other's rows. When the server cannot be
reached, PostgreSQL tests skip with the reason on a developer's machine and fail when
``CI`` is set, so CI can never go green without them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

BACKENDS = ("sqlite", "postgres")
TEST_POSTGRES_URL = os.environ.get(
    "OCM_GQL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_reachable: bool | None = None


def _admin(sql: str) -> None:
    """Runs ``sql`` on the test server, from sync or async code alike (on its own thread
    and event loop, so a running loop is no obstacle)."""

    async def run() -> None:
        connection = await asyncpg.connect(TEST_POSTGRES_URL, timeout=5)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, run()).result()


def require_postgres() -> None:
    """Skips (fails when CI is set) when the test PostgreSQL server cannot be reached."""
    global _reachable
    if _reachable is None:
        try:
            _admin("SELECT 1")
            _reachable = True
        except (OSError, asyncpg.PostgresError, TimeoutError) as error:
            _reachable = False
            reason = f"PostgreSQL at {TEST_POSTGRES_URL} cannot be reached: {error}"
            if os.environ.get("CI"):
                pytest.fail(f"{reason} (CI must run the PostgreSQL tests)", pytrace=False)
            pytest.skip(reason)
    if not _reachable:
        pytest.skip(f"PostgreSQL at {TEST_POSTGRES_URL} cannot be reached")


def with_database(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    require_postgres()
    name = f"ocm_gql_test_{os.getpid()}_{secrets.token_hex(4)}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(TEST_POSTGRES_URL, name)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_database(backend: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database on ``backend`` (an SQLite file in ``folder``)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'test.db'}"
        return
    with throwaway_postgres() as url:
        yield url
