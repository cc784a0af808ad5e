"""The per-request loader of sites' connections: a DataLoader's batching and memoizing,
plus a whole level of sites at once for the fast executor.

A DataLoader makes a future per key, and a callback each when the batch is in: for a
page of 100 sites that costs more than making their ConnectionInfo objects. Here the
sites asked for in one turn of the event loop share one future, that of their batch (one
statement), and the fast executor waits for a level's batches rather than its sites.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence

from gql.graphql.connection_info import ConnectionInfo
from gql.observability.metrics.dataloaders import observe_batch
from gql.repository.base import Repository
from gql.repository.models import ConnectionFilter

_Batch = asyncio.Future[dict[int, list[ConnectionInfo]]]
"""The connections of each site of one batch, by site id."""


class SiteConnections:
    """The connections of sites that match one filter, by ascending id. With
    ``memoize`` each site is read at most once (as a memoizing DataLoader); without it
    only sites asked for in the same turn share a read (as one that does not)."""

    def __init__(self, repository: Repository, filter: ConnectionFilter, *, memoize: bool) -> None:
        self._repository = repository
        self._filter = filter
        self._memoize = memoize
        self._batches: dict[int, _Batch] = {}
        """Site id -> the batch that reads it."""
        self._open: tuple[list[int], _Batch] | None = None
        """The batch still taking sites: its ids and future."""
        self._reads: set[asyncio.Task[None]] = set()

    def load(self, site_id: int) -> Awaitable[list[ConnectionInfo]]:
        """One site's connections."""
        return _one(self._batch_of(site_id), site_id)

    def load_level(
        self, site_ids: Sequence[int]
    ) -> list[list[ConnectionInfo]] | Awaitable[list[list[ConnectionInfo]]]:
        """The connections of each site, in order: at once when every site is known."""
        batches = list(map(self._batch_of, site_ids))
        if all(batch.done() for batch in batches):
            return [
                batch.result()[site_id] for batch, site_id in zip(batches, site_ids, strict=True)
            ]
        return _level(batches, site_ids)

    def _batch_of(self, site_id: int) -> _Batch:
        batch = self._batches.get(site_id)
        # A batch is cancelled with a request that stopped waiting: read again, as a
        # DataLoader does.
        if batch is None or batch.cancelled():
            if self._open is None:
                loop = asyncio.get_running_loop()
                self._open = ([], loop.create_future())
                loop.call_soon(self._dispatch)
            ids, batch = self._open
            ids.append(site_id)
            self._batches[site_id] = batch
        return batch

    def _dispatch(self) -> None:
        assert self._open is not None
        ids, batch = self._open
        self._open = None
        observe_batch("connections_of_sites", len(ids))
        if not self._memoize:
            self._batches = {}
        read = asyncio.create_task(self._read(ids, batch))
        self._reads.add(read)  # a task is only weakly held by the loop
        read.add_done_callback(self._reads.discard)

    async def _read(self, site_ids: list[int], batch: _Batch) -> None:
        try:
            found = await self._repository.connections_of_sites(site_ids, self._filter)
            connections = {
                site_id: [ConnectionInfo.from_record(record) for record in found.get(site_id, ())]
                for site_id in site_ids
            }
        except Exception as error:
            if not batch.done():
                batch.set_exception(error)
            return
        if not batch.done():
            batch.set_result(connections)


async def _one(batch: _Batch, site_id: int) -> list[ConnectionInfo]:
    return (await batch)[site_id]


async def _level(batches: list[_Batch], site_ids: Sequence[int]) -> list[list[ConnectionInfo]]:
    for batch in dict.fromkeys(batches):
        await batch
    return _results(batches, site_ids)


def _results(batches: list[_Batch], site_ids: Sequence[int]) -> list[list[ConnectionInfo]]:
    return [batch.result()[site_id] for batch, site_id in zip(batches, site_ids, strict=True)]
