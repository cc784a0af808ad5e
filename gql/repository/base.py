"""The narrow async interface every storage backend implements.

Types, loaders and the CLI talk only to this; SQLite is the embedded default and a
PostgreSQL backend can slot in behind the same methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from gql.repository.models import (
    ApiKeyRecord,
    ChangeAction,
    ConnectionChange,
    ConnectionFilter,
    ConnectionRecord,
    ConnectionWrite,
    ImportCounts,
    PageQuery,
    ReferenceKind,
    ReferenceRecord,
    SiteRecord,
    WriteCounts,
)


class Unavailable(Exception):
    """The database cannot take the request now: another process held its write lock for
    longer than the busy timeout. Nothing was changed; trying again later may succeed."""


class Repository(Protocol):
    @property
    def statement_count(self) -> int:
        """SQL statements run so far, for tests and diagnostics."""
        ...

    @property
    def reference_generation(self) -> int:
        """Bumped by every write to a reference list, so caches of them know to reload."""
        ...

    async def close(self) -> None: ...

    async def ping(self, *, writable: bool = False) -> None:
        """Raise when the database cannot be read (or, with ``writable``, written)."""
        ...

    async def connections_by_ids(self, ids: Iterable[int]) -> dict[int, ConnectionRecord]: ...

    async def connection_page(self, query: PageQuery) -> list[ConnectionRecord]: ...

    async def count_connections(self, filter: ConnectionFilter) -> int: ...

    async def reference_rows(self, kind: ReferenceKind) -> list[ReferenceRecord]:
        """Every row of one reference list, ordered by id."""
        ...

    async def upsert_reference(
        self, kind: ReferenceKind, rows: Sequence[ReferenceRecord]
    ) -> WriteCounts: ...

    async def write_sites(
        self,
        sites: Sequence[SiteRecord],
        connections: Sequence[ConnectionWrite],
        *,
        replace_site_connections: bool,
    ) -> ImportCounts:
        """Upsert sites and connections in one transaction; all or nothing. A bulk writer
        calls bulk_write_done once when done, not after each call.

        With ``replace_site_connections`` a site's stored connections that are not among
        ``connections`` are removed, as when a source re-publishes a whole site.
        """
        ...

    async def bulk_write_done(self, connections_written: int) -> None:
        """Told once a bulk write (an import, demo data) is over: the backend refreshes
        what its query planner knows of the data when that many rows change it."""
        ...

    # Edits of single connections. Each runs in one transaction together with its entry
    # in the change log, and runs to its end even when the caller is cancelled. A broken
    # constraint raises WriteConflict. Any write raises Unavailable when it cannot get the
    # database's write lock within the busy timeout.

    async def create_connection(
        self, values: Mapping[str, Any], *, actor: str
    ) -> ConnectionChange: ...

    async def update_connection(
        self,
        connection_id: int,
        changes: Mapping[str, Any],
        *,
        actor: str,
        action: ChangeAction = ChangeAction.UPDATE,
    ) -> ConnectionChange | ConnectionRecord | None:
        """None when there is no such connection. A write that would leave the row as it
        is writes nothing and logs nothing: the row is returned as it is."""
        ...

    async def delete_connection(
        self, connection_id: int, *, actor: str
    ) -> ConnectionChange | None: ...

    async def connection_changes(
        self, connection_id: int, *, limit: int, before_change: int | None = None
    ) -> list[ConnectionChange]:
        """Newest first, older than ``before_change`` when given."""
        ...

    async def existing_site_ids(self, ids: Iterable[int]) -> set[int]: ...

    async def add_api_key(self, key: ApiKeyRecord) -> None: ...

    async def api_keys(self) -> list[ApiKeyRecord]: ...

    async def api_key(self, key_id: str) -> ApiKeyRecord | None: ...

    async def revoke_api_key(self, name: str) -> bool:
        """False when no unrevoked key has that name."""
        ...
