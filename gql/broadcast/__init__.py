"""Fan-out of status changes to live subscribers, behind a small interface (base.py).

The in-process broadcaster (memory.py) serves one server process; the Redis one
(redis.py, chosen by the app factory when `OCM_GQL_REDIS_URL` is set) carries events
between several, each delivering them to its own subscribers through an in-process one.
The caps on subscriptions are counted per process (slots.py), whichever broadcaster
carries the events.
"""

from gql.broadcast.base import (
    Broadcaster,
    StatusChanged,
    SubscriberTooSlow,
    SubscriptionInterrupted,
)
from gql.broadcast.memory import SUBSCRIBER_BACKLOG, InProcessBroadcaster
from gql.broadcast.slots import NoSubscriptionSlot, SubscriptionSlots

__all__ = [
    "SUBSCRIBER_BACKLOG",
    "Broadcaster",
    "InProcessBroadcaster",
    "NoSubscriptionSlot",
    "StatusChanged",
    "SubscriberTooSlow",
    "SubscriptionInterrupted",
    "SubscriptionSlots",
]
