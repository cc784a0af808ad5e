"""The rate limit counted in Redis (gql/http/rate_limit_redis.py): the in-process token
bucket's answers exactly, shared by processes, on Redis's clock, and each process's own
buckets while Redis is down. Each RedisLink stands for a process of its own."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator

import pytest
import redis

from gql import redis_link
from gql.http.rate_limit import TokenBuckets
from gql.http.rate_limit_redis import RedisTokenBuckets
from tests.redis_links import Calls, Links, private_links, shared_links
from tests.test_rate_limit import FakeClock


@pytest.fixture
async def links() -> AsyncIterator[Links]:
    async with shared_links() as made:
        yield made


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.mark.parametrize(("rate", "burst"), [(4, 3), (0.5, 1), (8, 20), (2, 0)])
async def test_it_answers_as_the_in_process_buckets_do(
    links: Links, clock: FakeClock, rate: float, burst: int
) -> None:
    """The same history of requests, at times in eighths of a second (so that both
    compute exactly), gets the same answers from both, waits included."""
    local = TokenBuckets(rate, burst, clock)
    shared = RedisTokenBuckets(links(), rate, burst, clock=clock)
    rng = random.Random(f"{rate}/{burst}")
    for _ in range(300):
        clock.advance(rng.choice([0, 0, 0, 0.125, 0.25, 0.5, 1, 4]))
        client = rng.choice("ab")
        assert await shared.take(client) == await local.take(client)


async def test_processes_share_one_bucket(links: Links, clock: FakeClock) -> None:
    first, second = (RedisTokenBuckets(links(), 4, 3, clock=clock) for _ in range(2))
    assert [await first.take("a"), await second.take("a"), await first.take("a")] == [0, 0, 0]
    assert await second.take("a") == 0.25
    assert await first.take("b") == 0  # another client, another bucket
    clock.advance(0.25)
    assert await second.take("a") == 0
    assert await first.take("a") == 0.25


async def test_a_key_lives_until_its_bucket_is_full_again(links: Links) -> None:
    limiter = RedisTokenBuckets(links(), 10, 5)
    for _ in range(3):
        assert await limiter.take("a") == 0
    with redis.Redis.from_url(links.url) as client:
        # Three tokens taken at 10 a second: full again within 300 ms.
        assert 0 < client.pttl(f"{links.prefix}rate:a") <= 300


async def test_on_redis_s_clock_two_processes_allow_the_rate_plus_the_burst(
    links: Links,
) -> None:
    rate, burst = 50, 10
    limiters = [RedisTokenBuckets(links(), rate, burst) for _ in range(2)]
    allowed = 0
    started = time.monotonic()
    sent = 0
    while (elapsed := time.monotonic() - started) < 1.0:
        allowed += await limiters[sent % 2].take("a") == 0
        sent += 1
    assert sent > 2 * allowed  # it was refusing, not merely slow
    # Within one refill of rate x seconds + burst, whatever the pace of this machine.
    assert burst + rate * elapsed / 2 <= allowed <= burst + rate * elapsed + 1


async def test_redis_down_falls_back_to_the_process_s_own_buckets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with private_links() as (made, server):
        link = made()
        limiter = RedisTokenBuckets(link, 0.001, 2)
        other = RedisTokenBuckets(made(), 0.001, 2)
        assert [await limiter.take("a"), await other.take("a")] == [0, 0]
        assert await limiter.take("a") > 0  # the two processes emptied one bucket
        server.stop()
        calls = Calls(link, monkeypatch)
        # The process still limits, on its own bucket (full: it never took from it).
        waits = [await limiter.take("a") for _ in range(3)]
        assert waits[:2] == [0, 0]
        assert 999 < waits[2] <= 1000
        assert calls.count == 1  # then no more tries during the pause
        assert link.problem is not None

        server.start()
        await asyncio.sleep(redis_link.PAUSE_AFTER_FAILURE_SECONDS)
        # Redis again (it kept nothing: a full bucket there).
        assert [await limiter.take("b"), await other.take("b")] == [0, 0]
        assert await limiter.take("b") > 0
        assert link.problem is None
