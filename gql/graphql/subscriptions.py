"""The root Subscription type: live status changes, over WebSocket (graphql-transport-ws)
and Server-Sent Events.

The caps on subscriptions in the whole process and per client address are taken here,
so they hold for every transport: a subscription beyond either is refused with
TOO_MANY_SUBSCRIPTIONS before any event, and its slot is given back however it ends. The
limit per socket is enforced by the socket's protocol handler (gql/http/websocket.py). A
subscriber that falls too far behind is ended with a SUBSCRIBER_TOO_SLOW error. When the
process loses the link that brings it other processes' events (Redis), a running
subscription ends with, and a new one is refused with, a SUBSCRIPTION_INTERRUPTED error:
the client subscribes again (after a pause) and may catch up through a connection's
history."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry
from graphql import GraphQLError
from starlette.websockets import WebSocket

from gql.broadcast import NoSubscriptionSlot, SubscriberTooSlow, SubscriptionInterrupted
from gql.domain.filtering import matches
from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.connection_types import ConnectionInfoFilter
from gql.observability.metrics import live
from gql.repository.models import ConnectionFilter

if TYPE_CHECKING:
    from gql.graphql.context import Context

SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
SUBSCRIPTION_INTERRUPTED = "SUBSCRIPTION_INTERRUPTED"


@strawberry.type(description="A connection's status changed through a mutation.")
class ConnectionStatusChange:
    connection_info: ConnectionInfo = strawberry.field(description="The connection after it.")
    previous_status_type_id: int | None
    status_type_id: int | None
    changed_at: datetime


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Every status change of a connection matching the filter, in the order "
        "the changes were committed, from the moment of subscribing."
    )
    async def connection_status_changed(
        self, info: strawberry.Info, filter: ConnectionInfoFilter | None = None
    ) -> AsyncGenerator[ConnectionStatusChange, None]:
        context: Context = info.context
        settings = context.settings
        wanted = filter.to_filter() if filter is not None else ConnectionFilter()
        transport = transport_of(context.request)
        try:
            with (
                context.broadcaster.slots.hold(
                    client_address(context.request),
                    max_total=settings.max_subscriptions,
                    max_per_client=settings.max_subscriptions_per_client,
                ),
                live.running_subscription(transport),
            ):
                async with context.broadcaster.subscribe() as events:
                    async for event in events:
                        if await matches(wanted, event.connection, context.references):
                            yield ConnectionStatusChange(
                                connection_info=ConnectionInfo.from_record(event.connection),
                                previous_status_type_id=event.previous_status_type_id,
                                status_type_id=event.status_type_id,
                                changed_at=datetime.fromisoformat(event.changed_at),
                            )
        except NoSubscriptionSlot as refused:
            raise GraphQLError(
                str(refused),
                extensions={
                    "code": TOO_MANY_SUBSCRIPTIONS,
                    "limit": refused.limit,
                    "maxSubscriptions": refused.cap,
                },
            ) from refused
        except SubscriberTooSlow as error:
            live.slow_subscriber_ended(transport)
            # Coded, so the client can tell it apart from a failure and subscribe again.
            raise GraphQLError(str(error), extensions={"code": SUBSCRIBER_TOO_SLOW}) from error
        except SubscriptionInterrupted as error:
            raise GraphQLError(str(error), extensions={"code": SUBSCRIPTION_INTERRUPTED}) from error


def transport_of(request: Any) -> str:
    """websocket or sse: a subscription over HTTP is only served as an event stream."""
    return "websocket" if isinstance(request, WebSocket) else "sse"


def client_address(request: Any) -> str:
    """The address a subscription counts against: the peer of its WebSocket or request
    (behind a trusted proxy, uvicorn has already put the forwarded client there)."""
    client = getattr(request, "client", None)
    return client.host if client is not None else "unknown"
