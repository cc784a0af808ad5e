"""The root Subscription type: live status changes, over WebSocket (graphql-transport-ws).

The limit on subscriptions per socket is enforced by the socket's protocol handler
(gql/http/websocket.py), which answers the refused one with an `error` message. A
subscriber that falls too far behind is ended with a SUBSCRIBER_TOO_SLOW error."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from graphql import GraphQLError

from gql.broadcast import SubscriberTooSlow
from gql.filtering import matches
from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.connection_types import ConnectionInfoFilter
from gql.repository.models import ConnectionFilter

if TYPE_CHECKING:
    from gql.graphql.context import Context

SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"


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
        wanted = filter.to_filter() if filter is not None else ConnectionFilter()
        try:
            async with context.broadcaster.subscribe() as events:
                async for event in events:
                    if await matches(wanted, event.connection, context.references):
                        yield ConnectionStatusChange(
                            connection_info=ConnectionInfo.from_record(event.connection),
                            previous_status_type_id=event.previous_status_type_id,
                            status_type_id=event.status_type_id,
                            changed_at=datetime.fromisoformat(event.changed_at),
                        )
        except SubscriberTooSlow as error:
            # Coded, so the client can tell it apart from a failure and subscribe again.
            raise GraphQLError(str(error), extensions={"code": SUBSCRIBER_TOO_SLOW}) from error
