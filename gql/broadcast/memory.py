"""Fan-out of live events within one server process.

`publish` only appends the event to a dispatch queue: the writer's cost does not grow
with the subscribers. One dispatcher task, started when there is something to deliver
and gone when there is nothing left, hands each event to the subscribers' queues a slice
at a time, and waits until that slice's subscribers have taken their event through (each
runs the subscription's selection for it and sends it on its socket) before the next
slice. So the event loop never holds more than a slice's worth of subscribers' work, and
requests (a writer's next write among them) are served between slices instead of behind
thousands of deliveries. A subscriber that does not come back for its next event (its
socket is stuck) holds its slice up for at most `SLICE_WAIT_SECONDS`. Events are
dispatched one at a time in publication order, so every subscriber sees them in that
order.

Each subscriber has its own bounded queue: one that falls too far behind is ended (with
an error) rather than let memory grow without bound. Nothing of a subscriber is kept
once it leaves. `interrupt` ends every subscriber at once, with an error, after the
events already handed to it: the Redis broadcaster (redis.py) does so when its link is
lost.

Within one process the writes' own lock (gql/writes.py) orders publication, so
`ordering` holds nothing here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Final

from gql.broadcast.base import StatusChanged, SubscriberTooSlow, SubscriptionInterrupted
from gql.broadcast.slots import SubscriptionSlots
from gql.observability.metrics import live

SUBSCRIBER_BACKLOG: Final = 1000
DISPATCH_SLICE: Final = 16
"""Subscribers handed an event at once; the next slice waits until they are through."""
SLICE_WAIT_SECONDS: Final = 0.1


class _Slice:
    """Subscribers handed an event together; `through` is set once all have taken it."""

    __slots__ = ("left", "through")

    def __init__(self) -> None:
        self.left = 0
        self.through = asyncio.Event()

    def one_through(self) -> None:
        self.left -= 1
        if self.left <= 0:
            self.through.set()


class _Subscriber:
    __slots__ = ("joined_after", "queue", "slice")

    def __init__(self, joined_after: int) -> None:
        self.joined_after = joined_after
        """The number of events published before it joined: it gets only later ones."""
        self.queue: asyncio.Queue[StatusChanged | Exception] = asyncio.Queue()
        """Its events, and last, when its stream is ended, the error it ends with."""
        self.slice: _Slice | None = None
        """The slice waiting for this subscriber to take its event through."""

    def through(self) -> None:
        """It came back for its next event (or left): its last one is delivered."""
        if self.slice is not None:
            self.slice.one_through()
            self.slice = None


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

    @asynccontextmanager
    async def ordering(self, connection_id: int) -> AsyncIterator[None]:
        yield

    def interrupt(self, message: str) -> None:
        """Ends every current subscriber's stream with SubscriptionInterrupted(``message``),
        after what it was already handed; later subscribers are not affected."""
        for subscriber in self._subscribers:
            # One error each: an exception raised in several tasks would share its
            # traceback between them.
            subscriber.queue.put_nowait(SubscriptionInterrupted(message))
        self._subscribers.clear()

    async def publish(self, event: StatusChanged) -> None:
        live.published()
        self.fan_out(event)

    def fan_out(self, event: StatusChanged) -> None:
        """Hands the event to this process's subscribers: for what another broadcaster
        received (the Redis one's listener), which it counted as published itself."""
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
            yield _Events(subscriber)
        finally:
            self._subscribers.discard(subscriber)
            subscriber.through()

    async def _dispatch(self) -> None:
        try:
            while self._pending:
                sequence, event = self._pending[0]
                current = _Slice()
                for subscriber in list(self._subscribers):
                    # It may have left, or joined after this event, during a wait below.
                    if subscriber.joined_after >= sequence or subscriber not in self._subscribers:
                        continue
                    self._hand(subscriber, event, current)
                    if current.left >= DISPATCH_SLICE:
                        await _through(current)
                        current = _Slice()
                await _through(current)
                self._pending.popleft()
        finally:
            # No await between the loop's last check and here: a publish either found
            # this task running with its event queued, or finds no task and starts one.
            self._dispatcher = None

    def _hand(self, subscriber: _Subscriber, event: StatusChanged, current: _Slice) -> None:
        if subscriber.queue.qsize() >= self._backlog:
            self._subscribers.discard(subscriber)
            subscriber.queue.put_nowait(
                SubscriberTooSlow("the subscriber fell too far behind; subscribe again")
            )
            return
        subscriber.queue.put_nowait(event)
        if subscriber.slice is None:
            # One already waited on by an earlier slice is still busy: not counted again.
            subscriber.slice = current
            current.left += 1


async def _through(current: _Slice) -> None:
    if current.left > 0:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SLICE_WAIT_SECONDS):
                await current.through.wait()


class _Events:
    """A subscriber's events. A plain iterator rather than an async generator: one left
    suspended when its subscription ends would live on until the collector finds it, and
    then cost a task to close."""

    __slots__ = ("_subscriber",)

    def __init__(self, subscriber: _Subscriber) -> None:
        self._subscriber = subscriber

    def __aiter__(self) -> _Events:
        return self

    async def __anext__(self) -> StatusChanged:
        subscriber = self._subscriber
        if subscriber.queue.empty():
            subscriber.through()
        item = await subscriber.queue.get()
        if isinstance(item, Exception):
            raise item
        live.delivered()
        return item
