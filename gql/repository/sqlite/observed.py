"""An aiosqlite connection whose every statement is observed (gql/observability/statements.py)
as the kind of statement its holder says it is running.

aiosqlite hands every call to its thread through `Connection._execute(fn, *args)`, and
every statement's call (execute, executemany, executescript, execute_fetchall) starts with
the SQL text: that one place sees them all. A connection is held by one task at a time
(a reader borrowed from the pool, the writer under the write lock), so the kind it runs
is set by the holder around what it does.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiosqlite

from gql.observability.statements import Backend, Kind, observed

# aiosqlite's default, as aiosqlite.connect would pass it.
_ITER_CHUNK_SIZE = 64


class ObservedConnection(aiosqlite.Connection):
    def __init__(self, path: Path) -> None:
        super().__init__(
            functools.partial(sqlite3.connect, str(path), isolation_level=None), _ITER_CHUNK_SIZE
        )
        self.kind = Kind.OTHER

    @contextlib.contextmanager
    def running(self, kind: Kind) -> Iterator[None]:
        """Statements run inside are of ``kind`` (the holder's page, count, batch...)."""
        before, self.kind = self.kind, kind
        try:
            yield
        finally:
            self.kind = before

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not args or not isinstance(args[0], str):
            # Not a statement: opening, closing, a cursor, the trace callback...
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        with observed(Backend.SQLITE, self.kind, args[0]) as statement:
            result = await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
            if isinstance(result, list):
                statement.rows = len(result)
        return result


async def connect(path: Path) -> ObservedConnection:
    """`aiosqlite.connect(path, isolation_level=None)`, observed."""
    connection = ObservedConnection(path)
    await connection
    return connection
