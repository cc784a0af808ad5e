"""The Redis broadcaster: two of them in one loop stand for two server processes, each
with its own RedisLink, on the shared test Redis under a prefix of their own (or on a
private Redis that the fault tests stop and start)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from gql.broadcast import Broadcaster, StatusChanged, SubscriptionInterrupted
from gql.broadcast.redis import RedisBroadcaster, announce_reference_change, decode, encode
from gql.redis_link import RedisLink
from gql.repository.models import ConnectionRecord
from gql.settings import Settings
from tests.redis_servers import private_redis, redis_prefix
from tests.test_broadcast import event, nothing_more, take
from tests.test_multiprocess_events import until


class Process:
    """A broadcaster as a server process holds it, counting reference announcements."""

    def __init__(self, url: str, prefix: str) -> None:
        link = RedisLink.from_settings(Settings(redis_url=url, redis_key_prefix=prefix))
        assert link is not None
        self.link = link
        self.reference_news = 0
        self.broadcaster = RedisBroadcaster(link, on_references_changed=self._told)

    def _told(self) -> None:
        self.reference_news += 1


@contextlib.asynccontextmanager
async def processes(url: str, prefix: str, count: int = 2) -> AsyncIterator[list[Process]]:
    started = [Process(url, prefix) for _ in range(count)]
    try:
        for process in started:
            await process.broadcaster.start()
            assert process.broadcaster.listening
        yield started
    finally:
        for process in started:
            await process.broadcaster.stop()
            await process.link.close()


def test_a_redis_broadcaster_is_a_broadcaster() -> None:
    link = RedisLink.from_settings(Settings(redis_url="redis://127.0.0.1:1/0"))
    assert link is not None
    broadcaster: Broadcaster = RedisBroadcaster(link)
    assert broadcaster is not None


def test_an_event_survives_its_trip_through_redis() -> None:
    sent = StatusChanged(
        connection=ConnectionRecord(id=7, charge_point_id=3, voltage=230.5, comments="é"),
        previous_status_type_id=None,
        status_type_id=50,
        changed_at="2025-01-01T00:00:01.000Z",
        change_id=12,
    )
    assert decode(encode(sent)) == sent


async def test_each_process_gets_every_event_once_in_order_whoever_published_it() -> None:
    with redis_prefix() as (url, prefix):
        async with (
            processes(url, prefix) as (a, b),
            a.broadcaster.subscribe() as at_a,
            b.broadcaster.subscribe() as at_b,
        ):
            for change_id in range(1, 101):
                publisher = a if change_id % 2 else b
                await publisher.broadcaster.publish(event(change_id, change_id % 10))
            expected = list(range(1, 101))
            assert await take(at_a, 100) == expected
            assert await take(at_b, 100) == expected
            await nothing_more(at_a)
            await nothing_more(at_b)


async def test_an_event_older_than_one_delivered_for_its_connection_is_dropped() -> None:
    with redis_prefix() as (url, prefix):
        async with processes(url, prefix) as (a, b), b.broadcaster.subscribe() as events:
            # As when a lock was lost: change 5 published before change 3.
            for change_id, connection in ((5, 1), (3, 1), (4, 2), (6, 1)):
                await a.broadcaster.publish(event(change_id, connection))
            assert await take(events, 3) == [5, 4, 6]
            await nothing_more(events)


async def test_changes_to_one_connection_are_ordered_across_processes() -> None:
    with redis_prefix() as (url, prefix):
        async with processes(url, prefix) as (a, b):
            inside: list[str] = []

            async def write(process: Process, name: str, connection_id: int) -> None:
                async with process.broadcaster.ordering(connection_id):
                    inside.append(f"{name} in")
                    await asyncio.sleep(0.05)
                    inside.append(f"{name} out")

            await asyncio.gather(write(a, "a", 1), write(b, "b", 1))
            assert inside in (
                ["a in", "a out", "b in", "b out"],
                ["b in", "b out", "a in", "a out"],
            )
            inside.clear()
            # Other connections do not wait for each other.
            await asyncio.gather(write(a, "a", 1), write(b, "b", 2))
            assert inside[:2] in (["a in", "b in"], ["b in", "a in"])


async def test_a_reference_write_anywhere_reaches_every_process() -> None:
    with redis_prefix() as (url, prefix):
        async with processes(url, prefix) as (a, b):
            writer = RedisLink.from_settings(Settings(redis_url=url, redis_key_prefix=prefix))
            assert writer is not None
            await announce_reference_change(writer)
            await writer.close()
            await until(lambda: (a.reference_news, b.reference_news) == (1, 1), "told")


async def test_subscribers_are_told_when_redis_is_lost_and_served_again_after() -> None:
    with private_redis() as server:
        async with processes(server.url, "t:", count=2) as (a, b):
            async with b.broadcaster.subscribe() as events:
                waiting = asyncio.ensure_future(anext(events))
                await asyncio.sleep(0.05)
                server.stop()
                # Told at once (the socket closes), not when some timeout runs out.
                async with asyncio.timeout(3):
                    with pytest.raises(SubscriptionInterrupted, match="subscribe again"):
                        await waiting
            # While it is down: refused at once, writes do not fail.
            with pytest.raises(SubscriptionInterrupted):
                async with b.broadcaster.subscribe():
                    pass
            await a.broadcaster.publish(event(1))
            async with a.broadcaster.ordering(1):
                pass
            assert a.link.problem is not None

            server.start()
            await until(lambda: a.broadcaster.listening and b.broadcaster.listening, "back")
            # What was announced while cut off is unknown: the caches are dropped once.
            assert (a.reference_news, b.reference_news) == (1, 1)
            async with b.broadcaster.subscribe() as events:
                await a.broadcaster.publish(event(2))
                assert await take(events, 1) == [2]


async def test_a_publication_lost_while_listening_ends_subscriptions_rather_than_hide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with redis_prefix() as (url, prefix):
        async with processes(url, prefix) as (a, b):
            async with b.broadcaster.subscribe() as events:
                publish = a.link.client.publish

                async def failing(*_args: object) -> int:
                    raise ConnectionError("a one-off failure")

                monkeypatch.setattr(a.link.client, "publish", failing)
                await a.broadcaster.publish(event(1))  # lost, with nobody else the wiser
                monkeypatch.setattr(a.link.client, "publish", publish)
                await a.broadcaster.publish(event(2))
                with pytest.raises(SubscriptionInterrupted, match="could not be sent"):
                    await take(events, 1)
            async with b.broadcaster.subscribe() as events:
                await a.broadcaster.publish(event(3))
                # Change 2 may still have been on its way when it subscribed.
                first = await take(events, 1)
                assert first == [3] or first + await take(events, 1) == [2, 3]
