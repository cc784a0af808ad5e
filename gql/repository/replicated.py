"""A primary database and a read replica behind one Repository.

Reads go to the replica and writes to the primary. The instance the app holds serves
every request, so a write through it sends nobody's reads elsewhere; each request reads
through its own view (`for_request`), which turns to the primary for the rest of the
request once the request has written, so a mutation's answer (and anything after it in
the same request) shows the write even when the replica has not caught up yet.

Two kinds of read always go to the primary, because a lagging replica would give a wrong
answer that outlives the request: the reference lists (cached for the whole process
under the primary's write generation) and the sites a write refers to (which decide
whether the write is accepted). Moving a whole database (``copy``) uses the primary.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from gql.repository.base import PoolUsage, Repository, ServerUnreachable, Unavailable
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


class ReplicatedRepository:
    def __init__(
        self, primary: Repository, replica: Repository, *, follows_writes: bool = False
    ) -> None:
        self.primary = primary
        self.replica = replica
        self._follows_writes = follows_writes
        self._reads = replica

    def for_request(self) -> ReplicatedRepository:
        """A view for one request: reads from the replica until the request writes, then
        from the primary. Not to be closed: the databases are the app's."""
        return ReplicatedRepository(self.primary, self.replica, follows_writes=True)

    def _writes(self) -> Repository:
        # Turned before the write starts: a read issued while it runs must not see the
        # replica's older rows either.
        if self._follows_writes:
            self._reads = self.primary
        return self.primary

    @property
    def statement_count(self) -> int:
        return self.primary.statement_count + self.replica.statement_count

    @property
    def reference_generation(self) -> int:
        return self.primary.reference_generation

    def pool_usage(self) -> list[PoolUsage]:
        return [*self.primary.pool_usage(), *self.replica.pool_usage()]

    async def close(self) -> None:
        try:
            await self.replica.close()
        finally:
            await self.primary.close()

    async def ping(self, *, writable: bool = False) -> None:
        await self.primary.ping(writable=writable)
        try:
            await self.replica.ping()
        except Unavailable as error:
            kind = ServerUnreachable if isinstance(error, ServerUnreachable) else Unavailable
            raise kind(f"the read replica: {error}") from error

    # -- reads ---------------------------------------------------------------------------

    async def connections_by_ids(self, ids: Iterable[int]) -> dict[int, ConnectionRecord]:
        return await self._reads.connections_by_ids(ids)

    async def connection_page(self, query: PageQuery) -> list[ConnectionRecord]:
        return await self._reads.connection_page(query)

    async def count_connections(self, filter: ConnectionFilter) -> int:
        return await self._reads.count_connections(filter)

    async def sites_by_ids(self, ids: Iterable[int]) -> dict[int, SiteRecord]:
        return await self._reads.sites_by_ids(ids)

    async def site_page(self, query: SitePageQuery) -> list[SiteHit]:
        return await self._reads.site_page(query)

    async def count_sites(self, filter: SiteFilter) -> int:
        return await self._reads.count_sites(filter)

    async def connections_of_sites(
        self, site_ids: Sequence[int], filter: ConnectionFilter
    ) -> dict[int, list[ConnectionRecord]]:
        return await self._reads.connections_of_sites(site_ids, filter)

    async def connection_changes(
        self, connection_id: int, *, limit: int, before_change: int | None = None
    ) -> list[ConnectionChange]:
        return await self._reads.connection_changes(
            connection_id, limit=limit, before_change=before_change
        )

    async def api_keys(self) -> list[ApiKeyRecord]:
        return await self._reads.api_keys()

    async def api_key(self, key_id: str) -> ApiKeyRecord | None:
        return await self._reads.api_key(key_id)

    async def reference_rows(self, kind: ReferenceKind) -> list[ReferenceRecord]:
        return await self.primary.reference_rows(kind)

    async def existing_site_ids(self, ids: Iterable[int]) -> set[int]:
        return await self.primary.existing_site_ids(ids)

    # -- writes --------------------------------------------------------------------------

    async def upsert_reference(
        self, kind: ReferenceKind, rows: Sequence[ReferenceRecord]
    ) -> WriteCounts:
        return await self._writes().upsert_reference(kind, rows)

    async def write_sites(
        self,
        sites: Sequence[SiteRecord],
        connections: Sequence[ConnectionWrite],
        *,
        replace_site_connections: bool,
    ) -> ImportCounts:
        return await self._writes().write_sites(
            sites, connections, replace_site_connections=replace_site_connections
        )

    async def bulk_write_done(self, connections_written: int) -> None:
        await self._writes().bulk_write_done(connections_written)

    async def create_connection(self, values: Mapping[str, Any], *, actor: str) -> ConnectionChange:
        return await self._writes().create_connection(values, actor=actor)

    async def update_connection(
        self,
        connection_id: int,
        changes: Mapping[str, Any],
        *,
        actor: str,
        action: ChangeAction = ChangeAction.UPDATE,
    ) -> ConnectionChange | ConnectionRecord | None:
        return await self._writes().update_connection(
            connection_id, changes, actor=actor, action=action
        )

    async def delete_connection(self, connection_id: int, *, actor: str) -> ConnectionChange | None:
        return await self._writes().delete_connection(connection_id, actor=actor)

    async def add_api_key(self, key: ApiKeyRecord) -> None:
        await self._writes().add_api_key(key)

    async def revoke_api_key(self, name: str) -> bool:
        return await self._writes().revoke_api_key(name)

    # -- moving a whole database ---------------------------------------------------------

    async def schema_version(self) -> int:
        return await self.primary.schema_version()

    async def is_empty(self) -> bool:
        return await self.primary.is_empty()

    def dump_table(self, table: Table, *, batch_size: int) -> AsyncIterator[list[tuple[Any, ...]]]:
        return self.primary.dump_table(table, batch_size=batch_size)

    async def load_tables(
        self, batches: AsyncIterable[tuple[Table, list[tuple[Any, ...]]]], *, replace: bool
    ) -> dict[str, int]:
        return await self._writes().load_tables(batches, replace=replace)

    # -- syncing from OCM's API: the primary, which the checkpoint is written with -------

    async def sync_checkpoint(self, country_code: str) -> SyncCheckpoint | None:
        return await self.primary.sync_checkpoint(country_code)

    async def write_synced_sites(
        self,
        sites: Sequence[SiteRecord],
        connections: Sequence[ConnectionWrite],
        checkpoint: SyncCheckpoint,
    ) -> ImportCounts:
        return await self._writes().write_synced_sites(sites, connections, checkpoint)


def for_request(repository: Repository) -> Repository:
    """What one request reads and writes through: its own view of a replicated
    repository, or the repository itself."""
    if isinstance(repository, ReplicatedRepository):
        return repository.for_request()
    return repository


def databases(repository: Repository) -> dict[str, Repository]:
    """The databases behind ``repository``, by the setting that names each."""
    if isinstance(repository, ReplicatedRepository):
        return {"database": repository.primary, "read_database": repository.replica}
    return {"database": repository}
