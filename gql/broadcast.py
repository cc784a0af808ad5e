"""Fan-out of status changes to live subscribers, behind a small interface.

The in-process broadcaster serves one server process; a Redis one can implement the same
two methods for several. Each subscriber has its own bounded queue: one that falls too far
behind is ended (with an error) rather than let memory grow without bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Final, Protocol

from gql.repository.models import ConnectionRecord

SUBSCRIBER_BACKLOG: Final = 1000


@dataclass(frozen=True, slots=True)
class StatusChanged:
    connection: ConnectionRecord
    previous_status_type_id: int | None
    status_type_id: int | None
    changed_at: str
    change_id: int
    """The change-log entry: events are published in this order."""


class SubscriberTooSlow(Exception):
    """The subscriber's backlog overflowed; its stream ends."""


class Broadcaster(Protocol):
    async def publish(self, event: StatusChanged) -> None: ...

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[StatusChanged]]:
        """Events published while the context is open, in publication order."""
        ...


_OVERFLOWED: Final = object()


class InProcessBroadcaster:
    def __init__(self, backlog: int = SUBSCRIBER_BACKLOG) -> None:
        self._backlog = backlog
        self._queues: set[asyncio.Queue[object]] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._queues)

    async def publish(self, event: StatusChanged) -> None:
        for queue in list(self._queues):
            if queue.qsize() >= self._backlog:
                self._queues.discard(queue)
                queue.put_nowait(_OVERFLOWED)
            else:
                queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[StatusChanged]]:
        queue: asyncio.Queue[object] = asyncio.Queue()
        self._queues.add(queue)
        try:
            yield _events(queue)
        finally:
            self._queues.discard(queue)


async def _events(queue: asyncio.Queue[object]) -> AsyncIterator[StatusChanged]:
    while True:
        item = await queue.get()
        if item is _OVERFLOWED:
            raise SubscriberTooSlow("the subscriber fell too far behind; subscribe again")
        assert isinstance(item, StatusChanged)
        yield item
