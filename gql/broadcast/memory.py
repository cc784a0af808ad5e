"""Fan-out of live events within one server process.

`publish` only appends the event to a dispatch queue: the writer's cost does not grow
with the subscribers. One dispatcher task, started when there is something to deliver
and gone when there is nothing left, hands each event to every subscriber's queue in
slices, letting the event loop serve requests between them. Events are dispatched one at
a time in publication order, so every subscriber sees them in that order.

Each subscriber has its own bounded queue: one that falls too far behind is ended (with
an error) rather than let memory grow without bound. Nothing of a subscriber is kept
once it leaves.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from gql.broadcast.base import StatusChanged, SubscriberTooSlow
from gql.broadcast.slots import SubscriptionSlots

SUBSCRIBER_BACKLOG: Final = 1000
DISPATCH_SLICE: Final = 256
"""Subscribers handed an event between two turns of the event loop."""

_OVERFLOWED: Final = object()


class _Subscriber:
    __slots__ = ("joined_after", "queue")

    def __init__(self, joined_after: int) -> None:
        self.joined_after = joined_after
        """The number of events published before it joined: it gets only later ones."""
        self.queue: asyncio.Queue[object] = asyncio.Queue()


class InProcessBroadcaster:
    def __init__(self, backlog: int = SUBSCRIBER_BACKLOG) -> None:
        self._backlog = backlog
        self._subscribers: set[_Subscriber] = set()
        self._published = 0
        self._pending: deque[tuple[int, StatusChanged]] = deque()
        self._dispatcher: asyncio.Task[None] | None = None
        self._slots = SubscriptionSlots()

    @property
    def slots(self) -> SubscriptionSlots:
        return self._slots

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    @property
    def pending_count(self) -> int:
        """Events published but not yet handed to every subscriber."""
        return len(self._pending)

    async def publish(self, event: StatusChanged) -> None:
        if not self._subscribers:
            return  # nobody to tell; a later subscriber starts after this event
        self._published += 1
        self._pending.append((self._published, event))
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch(), name="broadcast-dispatch")

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[StatusChanged]]:
        subscriber = _Subscriber(joined_after=self._published)
        self._subscribers.add(subscriber)
        try:
            yield _Events(subscriber.queue)
        finally:
            self._subscribers.discard(subscriber)

    async def _dispatch(self) -> None:
        handed = 0
        try:
            while self._pending:
                sequence, event = self._pending[0]
                for subscriber in list(self._subscribers):
                    # It may have left, or joined after this event, during a pause below.
                    if subscriber.joined_after >= sequence or subscriber not in self._subscribers:
                        continue
                    self._hand(subscriber, event)
                    handed += 1
                    if handed % DISPATCH_SLICE == 0:
                        await asyncio.sleep(0)
                self._pending.popleft()
        finally:
            # No await between the loop's last check and here: a publish either found
            # this task running with its event queued, or finds no task and starts one.
            self._dispatcher = None

    def _hand(self, subscriber: _Subscriber, event: StatusChanged) -> None:
        if subscriber.queue.qsize() >= self._backlog:
            self._subscribers.discard(subscriber)
            subscriber.queue.put_nowait(_OVERFLOWED)
        else:
            subscriber.queue.put_nowait(event)


class _Events:
    """A subscriber's events. A plain iterator rather than an async generator: one left
    suspended when its subscription ends would live on until the collector finds it, and
    then cost a task to close."""

    __slots__ = ("_queue",)

    def __init__(self, queue: asyncio.Queue[object]) -> None:
        self._queue = queue

    def __aiter__(self) -> _Events:
        return self

    async def __anext__(self) -> StatusChanged:
        item = await self._queue.get()
        if item is _OVERFLOWED:
            raise SubscriberTooSlow("the subscriber fell too far behind; subscribe again")
        assert isinstance(item, StatusChanged)
        return item
