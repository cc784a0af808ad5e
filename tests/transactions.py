"""A repository's statements with the BEGIN and COMMIT of its transactions, in the order
they are sent, on either backend: for tests that count transactions or kill a process at
one point of one.

SQLite's BEGIN IMMEDIATE and COMMIT reach the repository's statement listener like any
other statement. asyncpg sends PostgreSQL's itself (its Transaction runs them through
Connection.execute), out of the listener's sight, so they are caught there, before they
are sent, in every connection of the process while the trace is on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg

from gql.repository.base import Repository
from gql.repository.postgres import PostgresRepository

# How each backend's transaction boundaries read in a trace.
BOUNDARIES = ("BEGIN", "COMMIT")


@contextlib.contextmanager
def traced(repository: Repository, listener: Callable[[str], None]) -> Iterator[None]:
    """Calls ``listener`` with each statement ``repository`` runs until the block ends,
    its transactions' BEGIN (``BEGIN IMMEDIATE`` on SQLite) and COMMIT included."""
    on = True

    def statement(sql: str) -> None:
        if on:
            listener(sql)

    repository.add_statement_listener(statement)  # type: ignore[attr-defined]
    with contextlib.ExitStack() as undo:
        if isinstance(repository, PostgresRepository):
            undo.enter_context(_boundaries_sent(statement))
        try:
            yield
        finally:
            on = False


@contextlib.contextmanager
def _boundaries_sent(listener: Callable[[str], None]) -> Iterator[None]:
    original = asyncpg.Connection.execute

    async def execute(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> str:
        if query.startswith(BOUNDARIES):
            listener(query.rstrip(";"))
        result: str = await original(self, query, *args, **kwargs)
        return result

    asyncpg.Connection.execute = execute  # type: ignore[method-assign]
    try:
        yield
    finally:
        asyncpg.Connection.execute = original  # type: ignore[method-assign]


def begun(statements: list[str]) -> int:
    """How many transactions a trace shows begun."""
    return sum(sql.startswith("BEGIN") for sql in statements)
