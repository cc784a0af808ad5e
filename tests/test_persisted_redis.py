"""Automatic persisted queries in Redis (gql/http/persisted_redis.py): shared by processes,
kept for a time to live refreshed on use, capped in count, and a plain miss while Redis
is down. Each RedisLink stands for a process of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis

from gql import redis_link
from gql.http.persisted_redis import RedisQueryStore
from gql.redis_link import RedisLink
from tests.persisted_queries import sha256
from tests.redis_links import Calls, Links, private_links, shared_links

QUERIES = [f"query Q{n} {{ levels {{ id }} }}" for n in range(6)]
TTL = 100


@pytest.fixture
async def links() -> AsyncIterator[Links]:
    async with shared_links() as made:
        yield made


def store(link: RedisLink, *, max_size: int = 10, ttl: int = TTL) -> RedisQueryStore:
    return RedisQueryStore(
        link, max_size=max_size, max_bytes=1_000_000, max_chars=200, ttl_seconds=ttl
    )


def text_key(links: Links, query: str) -> str:
    return f"{links.prefix}apq:{sha256(query)}"


def kept_in_redis(links: Links) -> set[str]:
    """The hashes whose texts Redis holds."""
    with redis.Redis.from_url(links.url) as client:
        return {
            key.decode().removeprefix(f"{links.prefix}apq:")
            for key in client.scan_iter(match=f"{links.prefix}apq:*")
        } - {"used"}


async def test_a_query_put_through_one_process_is_found_through_another(links: Links) -> None:
    first, second = store(links()), store(links())
    assert await second.get(sha256(QUERIES[0])) is None
    await first.put(sha256(QUERIES[0]), QUERIES[0])
    assert await second.get(sha256(QUERIES[0])) == QUERIES[0]
    assert await second.get(sha256(QUERIES[1])) is None
    assert len(second) == 1  # now kept locally too


async def test_non_ascii_text_comes_back_unchanged(links: Links) -> None:
    query = '{ connections(filter: {title: "Prise électrique ⚡"}) { id } }'
    await store(links()).put(sha256(query), query)
    assert await store(links()).get(sha256(query)) == query


async def test_the_time_to_live_is_set_and_refreshed_by_a_lookup(links: Links) -> None:
    await store(links()).put(sha256(QUERIES[0]), QUERIES[0])
    key = text_key(links, QUERIES[0])
    with redis.Redis.from_url(links.url) as client:
        assert TTL - 5 <= client.ttl(key) <= TTL
        client.expire(key, 10)
        assert await store(links()).get(sha256(QUERIES[0])) == QUERIES[0]
        assert TTL - 5 <= client.ttl(key) <= TTL
        # The index of hashes by use goes away with its deployment too.
        assert 0 < client.ttl(f"{links.prefix}apq:used") <= TTL


async def test_the_count_is_capped_least_recently_used_first(links: Links) -> None:
    writer = store(links(), max_size=3)
    for query in QUERIES[:3]:
        await writer.put(sha256(query), query)
    # Q0 is looked up through another process: now the most recently used.
    assert await store(links(), max_size=3).get(sha256(QUERIES[0])) == QUERIES[0]
    for query in QUERIES[3:5]:
        await writer.put(sha256(query), query)
    assert kept_in_redis(links) == {sha256(q) for q in (QUERIES[0], QUERIES[3], QUERIES[4])}
    reader = store(links(), max_size=3)
    assert await reader.get(sha256(QUERIES[1])) is None
    assert await reader.get(sha256(QUERIES[4])) == QUERIES[4]
    with redis.Redis.from_url(links.url) as client:
        assert client.zcard(f"{links.prefix}apq:used") == 3


async def test_a_text_over_the_query_limit_stays_local(links: Links) -> None:
    long_query = "{ levels { id } } #" + "x" * 200
    writer = store(links())
    await writer.put(sha256(long_query), long_query)
    assert kept_in_redis(links) == set()
    assert await writer.get(sha256(long_query)) == long_query
    assert await store(links()).get(sha256(long_query)) is None


async def test_a_local_hit_asks_nothing_of_redis(
    links: Links, monkeypatch: pytest.MonkeyPatch
) -> None:
    link = links()
    local = store(link)
    await local.put(sha256(QUERIES[0]), QUERIES[0])
    calls = Calls(link, monkeypatch)
    for _ in range(20):
        assert await local.get(sha256(QUERIES[0])) == QUERIES[0]
    assert calls.count == 0
    assert await local.get(sha256(QUERIES[1])) is None
    assert calls.count == 1


async def test_a_query_in_use_locally_is_told_to_redis_again(links: Links) -> None:
    """Used only through one process, a text would expire in Redis; that process tells
    Redis again once half its time to live has passed."""
    writer = store(links(), ttl=2)
    await writer.put(sha256(QUERIES[0]), QUERIES[0])
    with redis.Redis.from_url(links.url) as client:
        client.delete(text_key(links, QUERIES[0]))  # as if it had expired
        assert await writer.get(sha256(QUERIES[0])) == QUERIES[0]
        assert client.exists(text_key(links, QUERIES[0])) == 0  # too soon to tell again
        await asyncio.sleep(1.05)
        assert await writer.get(sha256(QUERIES[0])) == QUERIES[0]
        assert client.exists(text_key(links, QUERIES[0])) == 1
    assert await store(links(), ttl=2).get(sha256(QUERIES[0])) == QUERIES[0]


async def test_redis_down_is_a_miss_and_a_quiet_local_put(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with private_links() as (made, server):
        link = made()
        down = store(link)
        await store(made()).put(sha256(QUERIES[0]), QUERIES[0])
        server.stop()
        calls = Calls(link, monkeypatch)
        # The first lookup finds Redis gone; the next ones, in the pause after a failure,
        # do not try it at all.
        for _ in range(10):
            assert await down.get(sha256(QUERIES[0])) is None
        assert calls.count == 1
        assert not link.available
        assert link.problem is not None
        await down.put(sha256(QUERIES[1]), QUERIES[1])  # no exception
        assert await down.get(sha256(QUERIES[1])) == QUERIES[1]  # kept locally
        assert calls.count == 1

        # Back: after the pause, what was kept locally is told to Redis again.
        server.start()
        await asyncio.sleep(redis_link.PAUSE_AFTER_FAILURE_SECONDS)
        assert await down.get(sha256(QUERIES[1])) == QUERIES[1]
        assert link.problem is None
        assert await store(made()).get(sha256(QUERIES[1])) == QUERIES[1]
        # What Redis held before it stopped is gone (it keeps nothing on disk): a miss.
        assert await down.get(sha256(QUERIES[0])) is None
