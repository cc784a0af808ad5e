"""Throwaway databases for tests, on each backend.

PostgreSQL comes from ``OCM_GQL_TEST_POSTGRES_URL`` (default: the local service at
127.0.0.1:5432, trust auth, user postgres). Each test run makes its own databases on it
and drops them after, so tests never see each other's rows. When the server cannot be
reached, PostgreSQL tests skip with the reason on a developer's machine and fail when
``CI`` is set, so CI can never go green without them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from gql import copying
from gql.repository.url import DatabaseUrl
from gql.settings import Settings

BACKENDS = ("sqlite", "postgres")
TEST_POSTGRES_URL = os.environ.get(
    "OCM_GQL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
_reachable: bool | None = None
T = TypeVar("T")


def _on(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """``work`` done on a connection of its own to ``url``, from sync code or from a test's
    event loop alike."""

    async def run() -> T:
        connection = await asyncpg.connect(url, timeout=5)
        try:
            return await work(connection)
        finally:
            await connection.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    # Called from a running loop: a loop of its own on a thread of its own.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, run()).result()


def _admin(sql: str) -> None:
    _on(TEST_POSTGRES_URL, lambda connection: connection.execute(sql))


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


def _prefix() -> str:
    return f"ocm_gql_test_{os.getpid()}_"


def leftover_databases() -> list[str]:
    """This process's throwaway PostgreSQL databases that still exist (none once every
    fixture has finished); empty when PostgreSQL was never used."""
    if not _reachable:
        return []
    rows = _on(
        TEST_POSTGRES_URL,
        lambda connection: connection.fetch(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)", _prefix()
        ),
    )
    return sorted(row["datname"] for row in rows)


def with_database(server_url: str, name: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards."""
    require_postgres()
    name = f"{_prefix()}{secrets.token_hex(4)}"
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


async def copy_database(source_url: str, target_url: str) -> None:
    """Every table of ``source_url`` into the new database ``target_url`` (either backend),
    as `ocm-gql copy` does it, so a test can change its copy freely."""
    await copying.copy_database(
        Settings(), DatabaseUrl.parse(source_url), DatabaseUrl.parse(target_url), replace=True
    )


def fetch_raw(url: str, sql: str) -> list[tuple[Any, ...]]:
    """The rows of one query run on the database at ``url`` below the repository, for a
    test that checks what is stored rather than what the repository answers."""
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as raw:
            return raw.execute(sql).fetchall()
    rows = _on(url, lambda connection: connection.fetch(sql))
    return [tuple(row) for row in rows]


def fetch_dicts(url: str, sql: str) -> list[dict[str, Any]]:
    """As fetch_raw, each row a dict by column name."""
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as raw:
            raw.row_factory = sqlite3.Row
            return [dict(row) for row in raw.execute(sql).fetchall()]
    rows = _on(url, lambda connection: connection.fetch(sql))
    return [dict(row) for row in rows]


def execute_raw(url: str, *statements: str) -> None:
    """Runs SQL on the database at ``url`` below the repository, as a test that plants rows
    the API would refuse needs; on PostgreSQL with foreign-key triggers off (superuser)."""
    if url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as raw, raw:
            for statement in statements:
                raw.execute(statement)
        return
    script = ";\n".join(("SET session_replication_role = replica", *statements))
    _on(url, lambda connection: connection.execute(script))
