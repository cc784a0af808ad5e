"""The in-process broadcaster: order, fan-out, clean-up and the bound on slow subscribers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from gql.broadcast import (
    SUBSCRIBER_BACKLOG,
    Broadcaster,
    InProcessBroadcaster,
    StatusChanged,
    SubscriberTooSlow,
)
from gql.repository.models import ConnectionRecord


def event(change_id: int, connection_id: int = 1, status: int = 50) -> StatusChanged:
    return StatusChanged(
        connection=ConnectionRecord(id=connection_id, status_type_id=status),
        previous_status_type_id=0,
        status_type_id=status,
        changed_at=f"2025-01-01T00:00:{change_id % 60:02d}.000Z",
        change_id=change_id,
    )


async def take(events: AsyncIterator[StatusChanged], count: int) -> list[int]:
    """The change ids of the next ``count`` events, failing rather than hanging."""
    taken = []
    async with asyncio.timeout(5):
        for _ in range(count):
            taken.append((await anext(events)).change_id)
    return taken


async def nothing_more(events: AsyncIterator[StatusChanged]) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await anext(events)


def test_in_process_broadcaster_is_a_broadcaster() -> None:
    broadcaster: Broadcaster = InProcessBroadcaster()
    assert broadcaster is not None


async def test_events_arrive_in_publication_order() -> None:
    broadcaster = InProcessBroadcaster()
    async with broadcaster.subscribe() as events:
        for change_id in range(1, 201):
            await broadcaster.publish(event(change_id))
        assert await take(events, 200) == list(range(1, 201))
        await nothing_more(events)


async def test_only_events_published_while_subscribed_arrive() -> None:
    broadcaster = InProcessBroadcaster()
    await broadcaster.publish(event(1))
    async with broadcaster.subscribe() as events:
        await broadcaster.publish(event(2))
        assert await take(events, 1) == [2]
    await broadcaster.publish(event(3))
    async with broadcaster.subscribe() as events:
        await broadcaster.publish(event(4))
        assert await take(events, 1) == [4]
        await nothing_more(events)


async def test_every_subscriber_gets_every_event_once_in_order() -> None:
    broadcaster = InProcessBroadcaster()
    async with contextlib.AsyncExitStack() as stack:
        streams = [await stack.enter_async_context(broadcaster.subscribe()) for _ in range(5)]
        assert broadcaster.subscriber_count == 5

        async def publish_all() -> None:
            for change_id in range(1, 101):
                await broadcaster.publish(event(change_id))
                await asyncio.sleep(0)  # interleave with the readers

        publisher = asyncio.create_task(publish_all())
        received = await asyncio.gather(*(take(stream, 100) for stream in streams))
        await publisher
        assert received == [list(range(1, 101))] * 5
        for stream in streams:
            await nothing_more(stream)


async def test_a_late_subscriber_starts_where_it_joined() -> None:
    broadcaster = InProcessBroadcaster()
    async with broadcaster.subscribe() as early:
        await broadcaster.publish(event(1))
        async with broadcaster.subscribe() as late:
            await broadcaster.publish(event(2))
            assert await take(late, 1) == [2]
        assert await take(early, 2) == [1, 2]


async def test_leaving_the_context_unsubscribes() -> None:
    broadcaster = InProcessBroadcaster()
    async with broadcaster.subscribe():
        async with broadcaster.subscribe():
            assert broadcaster.subscriber_count == 2
        assert broadcaster.subscriber_count == 1
    assert broadcaster.subscriber_count == 0
    await broadcaster.publish(event(1))  # nobody left: nothing to do, nothing kept


async def test_an_error_in_the_subscriber_unsubscribes() -> None:
    broadcaster = InProcessBroadcaster()
    with pytest.raises(RuntimeError, match="consumer failed"):
        async with broadcaster.subscribe():
            raise RuntimeError("consumer failed")
    assert broadcaster.subscriber_count == 0


async def test_a_cancelled_reader_unsubscribes() -> None:
    """A subscription's task is cancelled when its socket closes, mid-wait."""
    broadcaster = InProcessBroadcaster()
    waiting = asyncio.Event()

    async def read_forever() -> None:
        async with broadcaster.subscribe() as events:
            waiting.set()
            async for _ in events:
                pass

    task = asyncio.create_task(read_forever())
    await waiting.wait()
    assert broadcaster.subscriber_count == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert broadcaster.subscriber_count == 0


async def test_many_subscribe_unsubscribe_cycles_leave_nothing() -> None:
    broadcaster = InProcessBroadcaster()
    for change_id in range(1000):
        async with broadcaster.subscribe() as events:
            await broadcaster.publish(event(change_id))
            assert await take(events, 1) == [change_id]
    assert broadcaster.subscriber_count == 0


def test_the_default_backlog() -> None:
    assert SUBSCRIBER_BACKLOG == 1000


async def test_a_slow_subscriber_gets_its_backlog_then_too_slow() -> None:
    broadcaster = InProcessBroadcaster(backlog=3)
    async with broadcaster.subscribe() as slow, broadcaster.subscribe() as fast:
        for change_id in range(1, 5):
            await broadcaster.publish(event(change_id))
            assert await take(fast, 1) == [change_id]
        # The slow one read nothing: the fourth event found its queue full.
        assert broadcaster.subscriber_count == 1
        assert await take(slow, 3) == [1, 2, 3]
        with pytest.raises(SubscriberTooSlow):
            await anext(slow)
        # It is ended for good; the others go on.
        await broadcaster.publish(event(5))
        assert await take(fast, 1) == [5]
    assert broadcaster.subscriber_count == 0


async def test_a_subscriber_that_keeps_up_is_never_too_slow() -> None:
    broadcaster = InProcessBroadcaster(backlog=3)
    async with broadcaster.subscribe() as events:
        for change_id in range(1, 51):
            await broadcaster.publish(event(change_id))
            if change_id % 3 == 0:
                assert await take(events, 3) == [change_id - 2, change_id - 1, change_id]
        assert broadcaster.subscriber_count == 1
