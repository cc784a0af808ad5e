"""Automatic persisted queries shared by every process through Redis.

A hash registered through one process is found through any other. Each text is a key of
its own (``<prefix>apq:<hash>``), kept `apq_ttl_seconds` after its last use (SET EX,
refreshed by GETEX on a hit); a sorted set (``<prefix>apq:used``) scores the hashes by
their last use on Redis's clock, so a put drops the least recently used beyond
`apq_cache_size` in the same script. A text longer than `max_query_chars` is never sent
(no query that ran is longer), so Redis holds at most size x max_query_chars characters.
The scripts name keys they build from the prefix: fine on one Redis server, not meant
for Redis Cluster.

A hash names its text forever, so this process's own LRU (`MemoryQueryStore`'s bounds)
sits in front: a local hit costs no round trip and cannot be stale. It is told again to
Redis once half its time to live has passed since this process last did, so queries in
constant use through one process stay findable through the others.

Redis down (or in the pause after a failure, see gql/redis_link.py): a lookup that
misses locally is a miss (the client resends the query, which runs), a put stays local,
and neither raises nor waits.
"""

from __future__ import annotations

import math
import time
from typing import Final

from gql.http.persisted import entry_bytes
from gql.redis_link import RedisLink
from gql.util.lru import BoundedCache

LOCAL_ENTRY_EXTRA_BYTES: Final = 64
"""The tuple and float beside each locally kept text."""

_GET = """
-- KEYS[1]: the text; KEYS[2]: hashes by last use. ARGV: ttl seconds, hash.
local text = redis.call('GETEX', KEYS[1], 'EX', ARGV[1])
if text then
  local now = redis.call('TIME')
  redis.call('ZADD', KEYS[2], tonumber(now[1]) + tonumber(now[2]) / 1e6, ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return text
"""

_PUT = """
-- KEYS[1]: the text; KEYS[2]: hashes by last use.
-- ARGV: text, ttl seconds, most entries, hash, the prefix of text keys.
local ttl = tonumber(ARGV[2])
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('ZADD', KEYS[2], now, ARGV[4])
-- Hashes unused for a whole ttl: their texts have expired already.
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if excess > 0 then
  for _, hash in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
    redis.call('DEL', ARGV[5] .. hash)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
redis.call('EXPIRE', KEYS[2], ttl)
return excess
"""


class RedisQueryStore:
    def __init__(
        self,
        link: RedisLink,
        *,
        max_size: int,
        max_bytes: int,
        max_chars: int,
        ttl_seconds: int,
    ) -> None:
        self._link = link
        self._max_size = max_size
        self._max_chars = max_chars
        self._ttl = ttl_seconds
        self._used = link.key("apq", "used")
        self._text_prefix = link.key("apq", "")
        # Each text with when this process last told Redis of it (monotonic).
        self._local: BoundedCache[str, tuple[str, float]] = BoundedCache(max_size, max_bytes)
        self._get = link.client.register_script(_GET)
        self._put = link.client.register_script(_PUT)

    def __len__(self) -> int:
        """Entries kept in this process."""
        return len(self._local)

    async def get(self, sha256_hash: str) -> str | None:
        local = self._local.get(sha256_hash)
        if local is not None:
            query, told_at = local
            if time.monotonic() - told_at >= self._ttl / 2:
                await self.put(sha256_hash, query)
            return query
        found = await self._link.attempt(
            lambda: self._get(
                keys=[self._text_prefix + sha256_hash, self._used], args=[self._ttl, sha256_hash]
            )
        )
        if found is None:
            return None
        query = found.decode() if isinstance(found, bytes) else str(found)
        self._keep(sha256_hash, query, time.monotonic())
        return query

    async def put(self, sha256_hash: str, query: str) -> None:
        told = await self._tell(sha256_hash, query)
        # Not told (Redis down): the next local hit tries again.
        self._keep(sha256_hash, query, time.monotonic() if told else -math.inf)

    async def _tell(self, sha256_hash: str, query: str) -> bool:
        if len(query) > self._max_chars:
            return False
        excess = await self._link.attempt(
            lambda: self._put(
                keys=[self._text_prefix + sha256_hash, self._used],
                args=[query, self._ttl, self._max_size, sha256_hash, self._text_prefix],
            )
        )
        return excess is not None

    def _keep(self, sha256_hash: str, query: str, told_at: float) -> None:
        self._local.put(
            sha256_hash,
            (query, told_at),
            entry_bytes(sha256_hash, query) + LOCAL_ENTRY_EXTRA_BYTES,
        )
