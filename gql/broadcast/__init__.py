"""Fan-out of status changes to live subscribers, behind a small interface (base.py).

The in-process broadcaster (memory.py) serves one server process; a Redis one can
implement the same interface for several. The caps on subscriptions are counted per
process (slots.py), whichever broadcaster carries the events.
"""

from gql.broadcast.base import Broadcaster, StatusChanged, SubscriberTooSlow
from gql.broadcast.memory import SUBSCRIBER_BACKLOG, InProcessBroadcaster
from gql.broadcast.slots import NoSubscriptionSlot, SubscriptionSlots

__all__ = [
    "SUBSCRIBER_BACKLOG",
    "Broadcaster",
    "InProcessBroadcaster",
    "NoSubscriptionSlot",
    "StatusChanged",
    "SubscriberTooSlow",
    "SubscriptionSlots",
]
