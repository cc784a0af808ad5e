"""What fan-out of live events promises, whatever carries it (in process, Redis, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from gql.broadcast.slots import SubscriptionSlots
from gql.repository.models import ConnectionRecord


@dataclass(frozen=True, slots=True)
class StatusChanged:
    connection: ConnectionRecord
    previous_status_type_id: int | None
    status_type_id: int | None
    changed_at: str
    change_id: int
    """The change-log entry: events are published in this order."""


class SubscriberTooSlow(Exception):
    """The subscriber's backlog overflowed; its stream ends."""


class SubscriptionInterrupted(Exception):
    """Events can no longer reach this process (its link to the other processes is
    lost): a running stream ends with it, and a new subscription is refused with it
    until the link is back."""


class Broadcaster(Protocol):
    async def publish(self, event: StatusChanged) -> None:
        """Hands the event over for delivery and returns at once: the writer never waits
        for subscribers."""
        ...

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[StatusChanged]]:
        """Events published while the context is open, in publication order."""
        ...

    def ordering(self, connection_id: int) -> AbstractAsyncContextManager[None]:
        """Held around one connection's write, commit and publish, so changes to that
        connection are published in the order they were committed, whichever process
        commits them."""
        ...

    @property
    def slots(self) -> SubscriptionSlots:
        """The subscriptions this process serves: the caps are counted here."""
        ...
