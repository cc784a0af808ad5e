"""The rate limit counted in Redis, so that N processes together allow what one would.

The algorithm is the in-process `TokenBuckets`' (rate R a second, burst B), written as
GCRA, its equivalent with one number a client: the time its bucket is full again (the
"theoretical arrival time", TAT). A request at `now` may go when TAT - now <= (B - 1)/R,
and then moves TAT 1/R on; otherwise it waits TAT - now - (B - 1)/R, which is what
`TokenBuckets` answers for the same history. One Lua script does the check and the
update atomically, in one round trip, on Redis's clock (TIME), so the clocks of the
machines running the processes do not matter. The key expires when the bucket is full
again, so an idle client holds nothing (a key is about 100 bytes while it lives).

Why not the `limits` library (5.8): it has no token bucket. Its moving window keeps a
list of up to B timestamps a client (about 650 bytes at B = 20) taken from each
process's own clock; a window is a whole number of seconds, so R = 20, B = 10 (a
window of 0.5 s) cannot be said; after a burst it lets nothing through until the window
has passed, then a whole burst again, rather than one request every 1/R; and its `hit`
answers only yes or no, so Retry-After costs a second round trip. Its fixed and sliding
window counters allow up to 2B at a window's edge. Twenty lines of Lua keep the
semantics exact and one round trip a check.

Redis down (or in the pause after a failure, see gql/redis_link.py): each process falls
back to its own in-memory buckets, so every process still limits, but N processes
together may allow up to N times the limit until Redis answers again. That is logged
once by the link; a request never fails nor waits because of it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Final

from gql.http.rate_limit import TokenBuckets
from gql.redis_link import RedisLink

MICROSECONDS: Final = 1_000_000

_TAKE = """
-- KEYS[1]: the client's TAT, in microseconds.
-- ARGV: microseconds a token takes to come back (1/R), the tolerance ((B - 1)/R),
-- and the time now when a test sets it (else Redis's own).
local now = tonumber(ARGV[3])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local wait = tat - now - tonumber(ARGV[2])
if wait > 0 then
  return math.ceil(wait)
end
tat = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
return 0
"""


class RedisTokenBuckets:
    """Token buckets of ``burst`` refilled at ``rate`` a second, kept in Redis."""

    def __init__(
        self,
        link: RedisLink,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """``clock`` (seconds) replaces Redis's own in tests."""
        self._link = link
        # Whole microseconds, rounded so the rate is never exceeded.
        self._interval = math.ceil(MICROSECONDS / rate)
        self._tolerance = (max(1, burst) - 1) * self._interval
        self._clock = clock
        self._take = link.client.register_script(_TAKE)
        self.fallback = TokenBuckets(rate, burst, clock or time.monotonic)
        """This process's own buckets, used while Redis is unavailable."""

    async def take(self, client: str) -> float:
        args = [self._interval, self._tolerance]
        if self._clock is not None:
            args.append(round(self._clock() * MICROSECONDS))
        key = self._link.key("rate", client)
        wait = await self._link.attempt(lambda: self._take(keys=[key], args=args))
        if wait is None:
            return await self.fallback.take(client)
        return int(wait) / MICROSECONDS
