"""Live traffic: open WebSockets and event streams, running subscriptions, events
published and delivered, and subscribers ended for falling behind.

Gauges move by +1/-1 around what they count (`open_websocket`, `open_event_stream`,
`running_subscription`: prometheus-client's `track_inprogress`), so several apps in one
process add up, and in multiprocess mode ("livesum") one scrape sums the live workers.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Final

from prometheus_client import Counter, Gauge

WEBSOCKET_CONNECTIONS: Final = Gauge(
    "ocm_gql_websocket_connections",
    "Open GraphQL WebSockets (graphql-transport-ws).",
    multiprocess_mode="livesum",
)
SSE_CONNECTIONS: Final = Gauge(
    "ocm_gql_sse_connections",
    "Open Server-Sent Event streams (subscriptions over graphql-sse).",
    multiprocess_mode="livesum",
)
ACTIVE_SUBSCRIPTIONS: Final = Gauge(
    "ocm_gql_active_subscriptions",
    "Subscriptions running (holding a subscription slot), by transport.",
    ["transport"],
    multiprocess_mode="livesum",
)
EVENTS_PUBLISHED: Final = Counter(
    "ocm_gql_events_published_total",
    "Live events published by this process's writes (with the Redis broadcaster: sent "
    "to Redis), by event.",
    ["event"],
)
EVENTS_DELIVERED: Final = Counter(
    "ocm_gql_events_delivered_total",
    "Live events taken by a subscriber of this process (one per subscriber and event, "
    "before the subscription's filter), by event.",
    ["event"],
)
SLOW_SUBSCRIBERS_ENDED: Final = Counter(
    "ocm_gql_slow_subscribers_ended_total",
    "Subscriptions ended (SUBSCRIBER_TOO_SLOW) because their backlog of events overflowed, "
    "by transport.",
    ["transport"],
)

STATUS_CHANGED: Final = "status_changed"
"""The one kind of live event so far (gql/broadcast/base.py StatusChanged)."""

_PUBLISHED: Final = EVENTS_PUBLISHED.labels(event=STATUS_CHANGED)
_DELIVERED: Final = EVENTS_DELIVERED.labels(event=STATUS_CHANGED)


def published() -> None:
    _PUBLISHED.inc()


def delivered() -> None:
    _DELIVERED.inc()


def slow_subscriber_ended(transport: str) -> None:
    SLOW_SUBSCRIBERS_ENDED.labels(transport=transport).inc()


def open_websocket() -> AbstractContextManager[None]:
    return WEBSOCKET_CONNECTIONS.track_inprogress()


def open_event_stream() -> AbstractContextManager[None]:
    return SSE_CONNECTIONS.track_inprogress()


def running_subscription(transport: str) -> AbstractContextManager[None]:
    return ACTIVE_SUBSCRIPTIONS.labels(transport=transport).track_inprogress()
