"""The narrow async interface every storage backend implements, and the errors every
backend raises in the same terms.

Types, loaders and the CLI talk only to this: SQLite is the embedded default and
PostgreSQL the server database, behind the same methods.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

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
    SiteFilter,
    SiteHit,
    SitePageQuery,
    SiteRecord,
    SyncCheckpoint,
    WriteCounts,
)
from gql.repository.rows import Table


class CannotOpen(Exception):
    """The database cannot be used at all: unreachable, refused, missing, damaged. The
    message is one line for the user, naming the database without its password."""


class SchemaTooNew(CannotOpen):
    """The database was migrated by a newer ocm-gql than this one."""


class Unavailable(Exception):
    """The database cannot take the request now: another process held its write lock for
    longer than the busy timeout, or the server cannot be reached. Nothing was changed;
    trying again later may succeed."""


class ServerUnreachable(Unavailable):
    """The database server cannot be reached now (stopped, restarting, a network fault);
    the pool reconnects by itself once it is back."""


class WriteConflict(Exception):
    """A write broke a constraint (say, a site deleted after the input was checked)."""


@dataclass(frozen=True, slots=True)
class PoolUsage:
    """A database's open connections now: held by a statement or transaction, or idle."""

    backend: Literal["sqlite", "postgresql"]
    in_use: int
    idle: int


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

    def pool_usage(self) -> list[PoolUsage]:
        """Each database's connections (one; two with a read replica), for the metrics."""
        ...

    async def ping(self, *, writable: bool = False) -> None:
        """Raise when the database cannot be read (or, with ``writable``, written)."""
        ...

    async def connections_by_ids(self, ids: Iterable[int]) -> dict[int, ConnectionRecord]: ...

    async def connection_page(self, query: PageQuery) -> list[ConnectionRecord]: ...

    async def count_connections(self, filter: ConnectionFilter) -> int: ...

    async def sites_by_ids(self, ids: Iterable[int]) -> dict[int, SiteRecord]:
        """Sites by id, whatever their visibility (a connection names its site)."""
        ...

    async def site_page(self, query: SitePageQuery) -> list[SiteHit]:
        """One keyset page of sites. ``near`` and ``within`` are answered through the
        spatial index, then checked exactly: distances are great-circle (haversine)."""
        ...

    async def count_sites(self, filter: SiteFilter) -> int: ...

    async def connections_of_sites(
        self, site_ids: Sequence[int], filter: ConnectionFilter
    ) -> dict[int, list[ConnectionRecord]]:
        """The connections of each site that match ``filter``, by ascending id, in one
        statement; sites without any are absent."""
        ...

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

    # Moving a whole database (``ocm-gql copy``).

    async def schema_version(self) -> int: ...

    async def is_empty(self) -> bool:
        """Whether no table holds a row."""
        ...

    def dump_table(self, table: Table, *, batch_size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        """The table's rows (``table.columns``, plain values) in id order, in batches."""
        ...

    async def load_tables(
        self, batches: AsyncIterable[tuple[Table, list[tuple[Any, ...]]]], *, replace: bool
    ) -> dict[str, int]:
        """Writes every batch in one transaction, all or nothing, and returns the rows
        written per table. With ``replace`` every table is emptied first. Ids are kept
        as given, and new rows made later get ids after them."""
        ...

    # Syncing from OCM's API (``ocm-gql sync``).

    async def sync_checkpoint(self, country_code: str) -> SyncCheckpoint | None:
        """Where the sync of a country got to; None before its first page was written."""
        ...

    async def write_synced_sites(
        self,
        sites: Sequence[SiteRecord],
        connections: Sequence[ConnectionWrite],
        checkpoint: SyncCheckpoint,
    ) -> ImportCounts:
        """As write_sites with ``replace_site_connections``, and the country's checkpoint
        replaced in the same transaction: the page and where the sync got to are written
        together or not at all."""
        ...
