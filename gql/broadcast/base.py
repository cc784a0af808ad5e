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


class Broadcaster(Protocol):
    async def publish(self, event: StatusChanged) -> None:
        """Hands the event over for delivery and returns at once: the writer never waits
        for subscribers."""
        ...

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[StatusChanged]]:
        """Events published while the context is open, in publication order."""
        ...

    @property
    def slots(self) -> SubscriptionSlots:
        """The subscriptions this process serves: the caps are counted here."""
        ...
