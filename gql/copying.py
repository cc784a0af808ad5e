"""Moving a whole database into another (``ocm-gql copy``), on any pair of backends.

Every table (the reference lists, sites, connections, API keys, the change log) is read
from the source in keyset batches and written to the target in one transaction, so a copy
that fails half-way leaves the target as it was. Ids are kept, and rows made later on the
target get ids after the copied ones. Both databases are migrated to this version's
schema first, as every command does. Copy from a database no process writes to meanwhile:
the source's tables are read one after the other, not as one snapshot.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from gql.repository.base import CannotOpen, Repository, Unavailable, WriteConflict
from gql.repository.factory import open_repository
from gql.repository.rows import TABLES, Table
from gql.repository.url import Backend, DatabaseUrl, hide_password
from gql.settings import Settings

BATCH_ROWS: Final = 5000
_LOOPBACK: Final = frozenset({"localhost", "127.0.0.1", "::1"})

Copied = Callable[[Table, int], None]
"""Told the rows of a table copied so far, after each batch."""


class CopyError(Exception):
    """The copy cannot run or did not complete; nothing was written to the target. The
    message is one line, without passwords."""


class TargetNotEmpty(CopyError):
    """The target holds rows, and the copy was not told to replace them."""


@dataclass(frozen=True, slots=True)
class CopyReport:
    rows: dict[str, int]
    """Rows written per table, in TABLES' order."""
    seconds: float

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def copy_database(
    settings: Settings,
    source: DatabaseUrl,
    target: DatabaseUrl,
    *,
    replace: bool = False,
    copied: Copied = lambda _table, _rows: None,
    batch_size: int = BATCH_ROWS,
) -> CopyReport:
    """Copies every row of ``source`` into ``target``. Refuses a target that holds rows
    unless ``replace`` (which empties it first, in the same transaction)."""
    if same_database(source, target):
        raise CopyError(f"the source and the target are the same database ({source})")
    if source.backend is Backend.SQLITE and not source.path.is_file():
        raise CopyError(f"no database at {source.path} to copy from")
    started = time.monotonic()
    reader = await _open(settings, source, "source")
    try:
        writer = await _open(settings, target, "target")
        try:
            try:
                rows = await _copy(reader, writer, target, replace, copied, batch_size)
            except (Unavailable, WriteConflict) as error:
                raise CopyError(_line(f"nothing was copied to {target}: {error}")) from None
        finally:
            await writer.close()
    finally:
        await reader.close()
    return CopyReport(rows, time.monotonic() - started)


async def _open(settings: Settings, database: DatabaseUrl, role: str) -> Repository:
    try:
        return await open_repository(settings, database)
    except CannotOpen as error:
        raise CopyError(_line(f"cannot use the {role} database {database}: {error}")) from None


async def _copy(
    source: Repository,
    target: Repository,
    target_url: DatabaseUrl,
    replace: bool,
    copied: Copied,
    batch_size: int,
) -> dict[str, int]:
    versions = (await source.schema_version(), await target.schema_version())
    if versions[0] != versions[1]:
        raise CopyError(f"the source's schema is version {versions[0]}, the target's {versions[1]}")
    if not replace and not await target.is_empty():
        raise TargetNotEmpty(f"the target database {target_url} is not empty")

    async def batches() -> AsyncIterator[tuple[Table, list[tuple[Any, ...]]]]:
        for table in TABLES:
            rows = 0
            async for batch in source.dump_table(table, batch_size=batch_size):
                yield table, batch
                rows += len(batch)
                copied(table, rows)

    return await target.load_tables(batches(), replace=replace)


def same_database(a: DatabaseUrl, b: DatabaseUrl) -> bool:
    """Whether two URLs name one database (as far as their text tells: an SQLite file by
    its resolved path, a PostgreSQL database by host, port and name, loopback as one)."""
    return _identity(a) == _identity(b)


def _identity(database: DatabaseUrl) -> tuple[str, ...]:
    if database.backend is Backend.SQLITE:
        return (database.backend, str(Path(database.path).resolve()))
    parts = urlsplit(database.url)
    host = (parts.hostname or "localhost").lower()
    # libpq's defaults: port 5432, and a database named as the user.
    name = unquote(parts.path.lstrip("/")) or unquote(parts.username or "")
    return (
        database.backend,
        "localhost" if host in _LOOPBACK else host,
        str(parts.port or 5432),
        name,
    )


def _line(message: str) -> str:
    return hide_password(" ".join(message.split()))
