"""The in-process broadcaster: order, fan-out, clean-up and the bound on slow subscribers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gql.broadcast import (
    SUBSCRIBER_BACKLOG,
    Broadcaster,
    InProcessBroadcaster,
    StatusChanged,
    SubscriberTooSlow,
)
from gql.broadcast import memory as broadcaster_memory
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


# -- fan-out that does not hold up the writer ---------------------------------------------

MANY = 2000


async def readers(
    broadcaster: InProcessBroadcaster, count: int, events_each: int
) -> tuple[list[asyncio.Task[None]], list[list[int]]]:
    """``count`` subscribers, each a task reading ``events_each`` events; returned once all
    have joined, with the change ids each has received so far."""
    received: list[list[int]] = [[] for _ in range(count)]
    all_joined = asyncio.Event()

    async def read(into: list[int]) -> None:
        async with broadcaster.subscribe() as events:
            if broadcaster.subscriber_count == count:
                all_joined.set()
            for _ in range(events_each):
                into.append((await anext(events)).change_id)

    tasks = [asyncio.create_task(read(into)) for into in received]
    await all_joined.wait()
    return tasks, received


async def test_publish_returns_before_any_subscriber_has_the_event() -> None:
    broadcaster = InProcessBroadcaster()
    tasks, received = await readers(broadcaster, MANY, 2)
    await broadcaster.publish(event(1))
    await broadcaster.publish(event(2))
    assert sum(map(len, received)) == 0
    assert broadcaster.pending_count == 2
    async with asyncio.timeout(30):
        await asyncio.gather(*tasks)
    # Two events published back to back arrive in order at every subscriber.
    assert received == [[1, 2]] * MANY
    assert broadcaster.pending_count == 0


async def test_the_loop_serves_others_while_an_event_fans_out() -> None:
    """A task standing for the server's other requests gets turns of the loop between the
    first subscriber receiving the event and the last."""
    broadcaster = InProcessBroadcaster()
    tasks, received = await readers(broadcaster, MANY, 1)
    seen: list[int] = []

    async def other_request() -> None:
        while (done := sum(map(len, received))) < MANY:
            seen.append(done)
            await asyncio.sleep(0)

    await broadcaster.publish(event(1))
    async with asyncio.timeout(30):
        await asyncio.gather(other_request(), *tasks)
    assert [done for done in seen if 0 < done < MANY], seen


async def test_a_subscriber_joining_during_a_fan_out_gets_only_later_events() -> None:
    broadcaster = InProcessBroadcaster()
    tasks, received = await readers(broadcaster, MANY, 2)
    await broadcaster.publish(event(1))
    await asyncio.sleep(0)  # the dispatcher hands out a first slice, then pauses
    assert broadcaster.pending_count == 1
    async with broadcaster.subscribe() as late:
        await broadcaster.publish(event(2))
        assert await take(late, 1) == [2]
        await nothing_more(late)
    async with asyncio.timeout(30):
        await asyncio.gather(*tasks)
    assert received == [[1, 2]] * MANY


async def test_subscribers_that_leave_leave_nothing_behind() -> None:
    """No subscriber, queue, pending event or task outlives its subscription; the memory
    they held is freed (traced allocations back near where they started)."""
    broadcaster = InProcessBroadcaster()

    async def round_trip() -> int:
        """MANY subscribe, get an event and leave; the memory traced while they were in."""
        tasks, _ = await readers(broadcaster, MANY, 1)
        held, _ = tracemalloc.get_traced_memory()
        await broadcaster.publish(event(1))
        async with asyncio.timeout(30):
            await asyncio.gather(*tasks)
        return held

    tasks_before = len(asyncio.all_tasks())
    await round_trip()  # warm-up: first use of the code paths
    gc.collect()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        held = [await round_trip() - start for _ in range(3)]
        await asyncio.sleep(0)  # this task lets go of what it last awaited
        gc.collect()
        kept, _ = tracemalloc.get_traced_memory()
        kept -= start
    finally:
        tracemalloc.stop()
    assert broadcaster.subscriber_count == 0
    assert broadcaster.pending_count == 0
    assert len(asyncio.all_tasks()) == tasks_before
    assert min(held) > 0
    assert kept < min(held) / 20, (held, kept)


# -- pacing: a slice of subscribers at a time ---------------------------------------------


async def test_at_most_a_slice_of_subscribers_work_on_an_event_at_once() -> None:
    """The dispatcher hands the next slice only once the last has taken its event through
    (the subscriber's own work: the selection, the socket), so the loop never holds the
    work of thousands at once and other requests get their turns."""
    broadcaster = InProcessBroadcaster()
    count = 200
    working, most, received = 0, 0, 0
    joined, all_received = asyncio.Event(), asyncio.Event()

    async def read() -> None:
        nonlocal working, most, received
        async with broadcaster.subscribe() as events:
            if broadcaster.subscriber_count == count:
                joined.set()
            async for _event in events:
                working += 1
                most = max(most, working)
                for _ in range(3):  # a subscriber's work takes a few turns of the loop
                    await asyncio.sleep(0)
                working -= 1
                received += 1
                if received == 2 * count:
                    all_received.set()

    tasks = [asyncio.create_task(read()) for _ in range(count)]
    await joined.wait()
    for change_id in (1, 2):
        await broadcaster.publish(event(change_id))
    async with asyncio.timeout(30):
        await all_received.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert 1 < most <= broadcaster_memory.DISPATCH_SLICE, most


async def test_a_stuck_subscriber_holds_up_one_slice_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One that never comes back for its next event is waited for once (up to
    SLICE_WAIT_SECONDS); later slices do not count it, so the others go on at their pace
    until its backlog ends it."""
    monkeypatch.setattr(broadcaster_memory, "SLICE_WAIT_SECONDS", 0.01)
    waited_out: list[bool] = []
    through = broadcaster_memory._through

    async def recorded(current: Any) -> None:
        await through(current)
        waited_out.append(current.left > 0 and not current.through.is_set())

    monkeypatch.setattr(broadcaster_memory, "_through", recorded)
    broadcaster = InProcessBroadcaster(backlog=30)
    async with broadcaster.subscribe() as _stuck:
        tasks, received = await readers(broadcaster, 50, 20)
        for change_id in range(1, 21):
            await broadcaster.publish(event(change_id))
        async with asyncio.timeout(30):
            await asyncio.gather(*tasks)
    assert received == [list(range(1, 21))] * 50
    assert waited_out.count(True) == 1, waited_out
