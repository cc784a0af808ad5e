"""Fan-out of live events across server processes, through Redis pub/sub.

`publish` sends the event on the deployment's status channel (`link.key("status")`) and
delivers nothing itself: each process (the publisher among them) runs one listener task
that reads the channel on its own connection and hands every event to a local
InProcessBroadcaster, which fans it out to that process's subscribers (slices, backlogs
and slots as in memory.py). So a change committed through any process reaches every
matching subscriber on every process once, and all processes see the events in the one
order Redis received them.

Order. Events carry their change-log id (`change_id`), which grows with every commit.
Within a process the writes' lock orders commit and publish; across processes, two
commits to one connection close together could still be published in the other order.
Two guards keep a subscriber from seeing an older status after a newer one:
- `ordering(connection_id)` holds a per-connection Redis lock (redis-py's Lock, expiring
  after `LOCK_TIMEOUT_SECONDS`) around write, commit and publish (gql/writes.py), so
  changes to one connection are published in commit order, whatever the process;
- the listener drops an event whose `change_id` is not above the last one it delivered
  for that connection (a bounded map per process).
A lock can be lost: it expired while its holder was stalled, or Redis could not be
reached and the write went ahead without it (a write never waits on Redis). Then two
publications may cross, and the second guard drops the older one: what that costs is a
stale event not delivered, never an event out of order. The change itself is in the
change log (`connectionInfo { history }`) either way.

Redis lost. A write still happens (without the lock); its event is not published (logged
once by the link). When the listener's connection breaks, every local subscriber's
stream ends with SubscriptionInterrupted (a coded error: subscribe again), and new
subscriptions are refused with it until the listener is back, rather than wait on
events that cannot come. The listener reconnects by itself, backing off from
`FIRST_RETRY_SECONDS` to `LAST_RETRY_SECONDS`. A publication that fails while the
listener stays up (a timeout, say) would be a silent loss: the publisher then sends a
gap notice before its next event, and every listener ends its subscribers with the same
error. (Publishing is tried whenever the listener is up, whatever other users of the
link saw fail.) One limit: a process cut off from Redis while the others still reach it
does not publish, and their subscribers are not told of what it wrote meanwhile.

References. The same connection listens on `link.key("references")`, where whatever
writes reference lists (`ocm-gql seed`, `copy`: see `announce_reference_change`)
announces it; the listener then calls `on_references_changed` (the app drops its
reference cache). Announcements made while the listener was cut off are lost, so after
every reconnection it calls it once as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Final

import orjson
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.lock import Lock
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import LockError

from gql.broadcast.base import StatusChanged, SubscriptionInterrupted
from gql.broadcast.memory import InProcessBroadcaster
from gql.broadcast.slots import SubscriptionSlots
from gql.observability.metrics import live
from gql.redis_link import CONNECT_TIMEOUT_SECONDS, REDIS_ERRORS, RedisLink
from gql.repository.models import ConnectionRecord
from gql.util.lru import BoundedCache

logger = logging.getLogger("gql.broadcast")

LOCK_TIMEOUT_SECONDS: Final = 5.0
"""A lock's life: longer than a write takes, short enough that a dead holder's lock
soon goes."""
LOCK_POLL_SECONDS: Final = 0.005
FIRST_RETRY_SECONDS: Final = 0.1
LAST_RETRY_SECONDS: Final = 2.0
READ_WAIT_SECONDS: Final = 1.0
"""How long one read waits for a message; between reads the connection is pinged every
`HEALTH_CHECK_SECONDS`."""
HEALTH_CHECK_SECONDS: Final = 5
LAST_CHANGES_KEPT: Final = 100_000
"""Connections whose last delivered change the listener remembers (bytes: two ints)."""
_LAST_CHANGE_BYTES: Final = 64

INTERRUPTED_MESSAGE: Final = (
    "live events are interrupted (this server lost its link to the other servers); subscribe again"
)
MISSED_MESSAGE: Final = (
    "some live events could not be sent between the servers; subscribe again (the "
    "changes are in connectionInfoHistory)"
)


def encode(event: StatusChanged) -> bytes:
    return orjson.dumps(
        {
            "connection": list(event.connection),
            "previous": event.previous_status_type_id,
            "status": event.status_type_id,
            "at": event.changed_at,
            "change": event.change_id,
        }
    )


def decode(payload: bytes) -> StatusChanged:
    return _event(orjson.loads(payload))


def _event(data: dict[str, Any]) -> StatusChanged:
    return StatusChanged(
        connection=ConnectionRecord(*data["connection"]),
        previous_status_type_id=data["previous"],
        status_type_id=data["status"],
        changed_at=data["at"],
        change_id=data["change"],
    )


class RedisBroadcaster:
    def __init__(
        self,
        link: RedisLink,
        *,
        on_references_changed: Callable[[], None] = lambda: None,
    ) -> None:
        self._link = link
        self._local = InProcessBroadcaster()
        self._on_references_changed = on_references_changed
        self._status_channel = link.key("status")
        self._references_channel = link.key("references")
        self._last_change: BoundedCache[int, int] = BoundedCache(
            LAST_CHANGES_KEPT, LAST_CHANGES_KEPT * _LAST_CHANGE_BYTES
        )
        self._listener: asyncio.Task[None] | None = None
        self._gap: int | None = None
        """The first change whose publication failed while the listener stayed up."""
        self._listening = asyncio.Event()
        # Its own connection, never retried by redis-py: a reconnection must go through
        # the listener, which tells subscribers what they may have missed.
        self._client = Redis.from_url(
            link.url,
            socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=HEALTH_CHECK_SECONDS,
            socket_keepalive=True,
        )

    @property
    def slots(self) -> SubscriptionSlots:
        return self._local.slots

    @property
    def listening(self) -> bool:
        """Whether events from Redis reach this process now."""
        return self._listening.is_set()

    async def start(self) -> None:
        """Starts the listener and waits (briefly) for its first connection: a server
        that starts beside a running Redis serves subscriptions from its first request."""
        self._listener = asyncio.create_task(self._listen(), name="broadcast-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2 * CONNECT_TIMEOUT_SECONDS):
                await self._listening.wait()

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self._client.aclose()

    async def publish(self, event: StatusChanged) -> None:
        if not self.listening:
            # Redis is lost from here: this process's subscribers were told, and the
            # outage is logged once, not again for every write.
            logger.debug("status change %d not published: Redis is down", event.change_id)
            return
        try:
            if self._gap is not None:
                await self._link.client.publish(
                    self._status_channel, orjson.dumps({"gap": self._gap})
                )
                self._gap = None
            await self._link.client.publish(self._status_channel, encode(event))
        except REDIS_ERRORS as error:
            self._link.failed(error)
            logger.warning("status change %d not published: %s", event.change_id, error)
            if self._gap is None:
                self._gap = event.change_id
            return
        self._link.succeeded()
        live.published()

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[StatusChanged]]:
        if not self.listening:
            raise SubscriptionInterrupted(INTERRUPTED_MESSAGE)
        async with self._local.subscribe() as events:
            yield events

    @asynccontextmanager
    async def ordering(self, connection_id: int) -> AsyncIterator[None]:
        lock = await self._lock(connection_id)
        try:
            yield
        finally:
            if lock is not None:
                await self._release(lock)

    async def _lock(self, connection_id: int) -> Lock | None:
        """The connection's lock, held; None when Redis cannot give it now (the write
        goes ahead: the listener's guard keeps order then)."""
        lock = Lock(
            self._link.client,
            self._link.key("lock", "connection", connection_id),
            timeout=LOCK_TIMEOUT_SECONDS,
            sleep=LOCK_POLL_SECONDS,
            blocking_timeout=LOCK_TIMEOUT_SECONDS,
        )
        acquired = await self._link.attempt(lock.acquire)
        if acquired is None:
            return None
        if not acquired:
            logger.warning("connection %d: its lock was not free in time", connection_id)
            return None
        return lock

    async def _release(self, lock: Lock) -> None:
        try:
            await lock.release()
        except LockError:
            logger.warning("a connection's lock expired before its write was published")
        except REDIS_ERRORS as error:
            self._link.failed(error)

    async def _listen(self) -> None:
        delay = FIRST_RETRY_SECONDS
        connected_before = False
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self._status_channel, self._references_channel)
                await _confirmed(pubsub, 2)
                self._listening.set()
                self._link.succeeded()
                delay = FIRST_RETRY_SECONDS
                if connected_before:
                    logger.warning("live events flow again")
                    # Announcements sent while cut off are lost: assume one was.
                    self._on_references_changed()
                connected_before = True
                await self._read(pubsub)
            except REDIS_ERRORS as error:
                self._lost(error)
            except Exception as error:
                # A fault of ours must not leave subscribers waiting on a dead listener.
                logger.exception("the live-event listener failed")
                self._lost(error)
            finally:
                with contextlib.suppress(*REDIS_ERRORS):
                    await pubsub.aclose()
            await asyncio.sleep(delay)
            delay = min(2 * delay, LAST_RETRY_SECONDS)

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(
                ignore_subscribe_messages=True, timeout=READ_WAIT_SECONDS
            )
            if message is not None and message["type"] == "message":
                await self._received(message)

    async def _received(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode()
        if channel == self._references_channel:
            self._on_references_changed()
            return
        try:
            data = orjson.loads(message["data"])
            if "gap" in data:
                logger.warning("some live events could not be published; subscribers told")
                self._local.interrupt(MISSED_MESSAGE)
                return
            event = _event(data)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            logger.warning("an unreadable event on %s was dropped: %s", channel, error)
            return
        connection_id = event.connection.id
        last = self._last_change.get(connection_id)
        if last is not None and event.change_id <= last:
            logger.info(
                "connection %d: change %d came after %d; dropped",
                connection_id,
                event.change_id,
                last,
            )
            return
        self._last_change.put(connection_id, event.change_id, _LAST_CHANGE_BYTES)
        self._local.fan_out(event)

    def _lost(self, error: BaseException) -> None:
        was_listening = self.listening
        self._listening.clear()
        # Every subscriber is told now (every process's, when Redis itself is down):
        # changes that failed to publish need no notice of their own.
        self._gap = None
        self._link.failed(error)
        if was_listening:
            logger.warning("live events are interrupted: %s: %s", type(error).__name__, error)
            self._local.interrupt(INTERRUPTED_MESSAGE)


async def announce_reference_change(link: RedisLink) -> None:
    """Tells every server that the reference lists changed (they drop their caches).
    A Redis that cannot be reached is logged: servers then serve their cached lists
    until they reconnect or restart."""
    try:
        await link.client.publish(link.key("references"), b"")
    except REDIS_ERRORS as error:
        logger.warning("the servers could not be told that the reference lists changed: %s", error)


async def _confirmed(pubsub: PubSub, channels: int) -> None:
    """Waits until Redis confirms the subscriptions: from then on, every event published
    reaches this process, so a subscriber admitted after it misses none."""
    # A None is a read that timed out, or a health check's answer: wait on, a while.
    async with asyncio.timeout(2 * READ_WAIT_SECONDS):
        while channels:
            message = await pubsub.get_message(timeout=READ_WAIT_SECONDS)
            if message is not None and message["type"] == "subscribe":
                channels -= 1
