"""Reference lists held per process.

The lists are small and read by almost every request, so each is loaded with one
statement the first time it is needed and then served from memory. Every write through
the repository bumps its ``reference_generation``; a changed generation drops the cache.
That generation counts this process's writes only: writes made elsewhere (another
server, `ocm-gql seed`) are announced through Redis, and the broadcaster's listener then
calls `invalidate` (gql/broadcast/redis.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from gql.observability.metrics.caches import Cache, looked_up
from gql.repository.base import Repository
from gql.repository.models import ReferenceKind, ReferenceRecord


class ReferenceCache:
    def __init__(self, repository: Repository) -> None:
        self._repository = repository
        self._tables: dict[ReferenceKind, dict[int, ReferenceRecord]] = {}
        self._generation = repository.reference_generation
        self._lock = asyncio.Lock()
        self._invalidations = 0

    def cached(self, kind: ReferenceKind) -> dict[int, ReferenceRecord] | None:
        """The list when it is in memory and current, without waiting; else None."""
        if self._generation != self._repository.reference_generation:
            self._tables.clear()
            self._generation = self._repository.reference_generation
        table = self._tables.get(kind)
        # Every read of a list asks here first: a request's first ask decides.
        looked_up(Cache.REFERENCES, kind, hit=table is not None)
        return table

    def invalidate(self) -> None:
        """Drops the lists: the next request loads them again."""
        self._tables.clear()
        self._invalidations += 1

    async def table(self, kind: ReferenceKind) -> dict[int, ReferenceRecord]:
        table = self.cached(kind)
        if table is None:
            async with self._lock:
                table = self._tables.get(kind)
                if table is None:
                    invalidations = self._invalidations
                    rows = await self._repository.reference_rows(kind)
                    table = {row.id: row for row in rows}
                    # Not kept when invalidated meanwhile: it may predate the change.
                    if invalidations == self._invalidations:
                        self._tables[kind] = table
        return table

    async def get_many(
        self, kind: ReferenceKind, ids: Iterable[int]
    ) -> list[ReferenceRecord | None]:
        table = await self.table(kind)
        return [table.get(i) for i in ids]
