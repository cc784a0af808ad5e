"""Edits of connections: checked, written with their change-log entry, then announced.

One lock orders write-and-publish, so live subscribers see status changes in the order
they were committed. Across processes, the broadcaster's `ordering` (a per-connection
Redis lock with the Redis broadcaster: gql/broadcast/redis.py) is held around it too; it
is taken first, so a task holding the process's lock never waits for another process.
A write that would leave a connection as it is (its current status, say) is no change:
nothing is written, logged or announced.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from gql.broadcast import Broadcaster, StatusChanged
from gql.domain.keys import Writer
from gql.domain.validation import Problem, ProblemCode, connection_problems
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository, WriteConflict
from gql.repository.models import ChangeAction, ConnectionChange, ConnectionRecord


@dataclass(frozen=True, slots=True)
class WriteResult:
    change: ConnectionChange | None = None
    problems: list[Problem] = field(default_factory=list)
    unchanged: ConnectionRecord | None = None
    """The connection as it is, when the write would not have changed it."""

    @property
    def before(self) -> ConnectionRecord | None:
        return self.change.before if self.change else self.unchanged

    @property
    def after(self) -> ConnectionRecord | None:
        return self.change.after if self.change else self.unchanged


def _not_found(connection_id: int) -> WriteResult:
    return WriteResult(
        problems=[Problem("id", f"no connection has id {connection_id}", ProblemCode.NOT_FOUND)]
    )


class ConnectionWrites:
    def __init__(
        self, repository: Repository, references: ReferenceCache, broadcaster: Broadcaster
    ) -> None:
        self._repository = repository
        self._references = references
        self._broadcaster = broadcaster
        self._lock = asyncio.Lock()

    def through(self, repository: Repository) -> ConnectionWrites:
        """The same writes (one lock, one broadcaster) made through ``repository``: one
        request's view of the databases, which then reads what it wrote."""
        if repository is self._repository:
            return self
        writes = ConnectionWrites(repository, self._references, self._broadcaster)
        writes._lock = self._lock
        return writes

    async def create(self, writer: Writer, values: Mapping[str, Any]) -> WriteResult:
        problems = await self._problems(values)
        if problems:
            return WriteResult(problems=problems)
        # No id yet, so nobody else can be writing to it: no ordering needed.
        return await self._commit(
            self._repository.create_connection(values, actor=writer.name), None
        )

    async def update(
        self,
        writer: Writer,
        connection_id: int,
        changes: Mapping[str, Any],
        action: ChangeAction = ChangeAction.UPDATE,
    ) -> WriteResult:
        problems = await self._problems(changes)
        if problems:
            # Every problem at once: an unknown id too, not only what is wrong with the input.
            if connection_id not in await self._repository.connections_by_ids([connection_id]):
                problems = [*_not_found(connection_id).problems, *problems]
            return WriteResult(problems=problems)
        result = await self._commit(
            self._repository.update_connection(
                connection_id, changes, actor=writer.name, action=action
            ),
            connection_id,
        )
        return result if result.after is not None or result.problems else _not_found(connection_id)

    async def set_status(
        self, writer: Writer, connection_id: int, status_type_id: int
    ) -> WriteResult:
        return await self.update(
            writer, connection_id, {"status_type_id": status_type_id}, ChangeAction.SET_STATUS
        )

    async def delete(self, writer: Writer, connection_id: int) -> WriteResult:
        result = await self._commit(
            self._repository.delete_connection(connection_id, actor=writer.name), connection_id
        )
        return result if result.change or result.problems else _not_found(connection_id)

    async def _problems(self, values: Mapping[str, Any]) -> list[Problem]:
        return await connection_problems(
            values, self._references, self._repository.existing_site_ids
        )

    async def _commit(
        self,
        write: Awaitable[ConnectionChange | ConnectionRecord | None],
        connection_id: int | None,
    ) -> WriteResult:
        ordering: AbstractAsyncContextManager[None] = (
            self._broadcaster.ordering(connection_id)
            if connection_id is not None
            else contextlib.nullcontext()
        )
        async with ordering, self._lock:
            try:
                outcome = await write
            except WriteConflict as conflict:
                # The input was checked, but a concurrent write (or an import) changed
                # what it refers to before it was committed.
                return WriteResult(
                    problems=[Problem("", f"conflicting write: {conflict}", ProblemCode.CONFLICT)]
                )
            if isinstance(outcome, ConnectionRecord):
                return WriteResult(unchanged=outcome)
            if outcome is not None:
                await self._announce(outcome)
        return WriteResult(change=outcome)

    async def _announce(self, change: ConnectionChange) -> None:
        if change.before is None or change.after is None:
            return
        if change.before.status_type_id == change.after.status_type_id:
            return
        await self._broadcaster.publish(
            StatusChanged(
                connection=change.after,
                previous_status_type_id=change.before.status_type_id,
                status_type_id=change.after.status_type_id,
                changed_at=change.changed_at,
                change_id=change.id,
            )
        )
