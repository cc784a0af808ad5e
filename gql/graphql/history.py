"""The change log of a connection, newest first, paged by cursor."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

import strawberry

from gql.domain.cursor import InvalidCursor, decode_change_cursor, encode_change_cursor
from gql.graphql.errors import UserInputError
from gql.graphql.relay import PageInfo
from gql.repository.models import ChangeAction, ConnectionChange, ConnectionRecord

if TYPE_CHECKING:
    from gql.graphql.context import Context

ConnectionInfoChangeAction = strawberry.enum(ChangeAction, name="ConnectionInfoChangeAction")


@strawberry.type(
    description="A connection's fields at one moment. It has no `id` field (the id is "
    "`connectionInfoId`), so client caches never merge it into the live ConnectionInfo."
)
class ConnectionInfoSnapshot:
    connection_info_id: int
    charge_point_id: int | None
    connection_type_id: int | None
    status_type_id: int | None
    level_id: int | None
    current_type_id: int | None
    amps: int | None
    voltage: float | None
    power_kw: float | None = strawberry.field(description="The effective power, as read.")
    quantity: int | None
    reference: str | None
    comments: str | None

    @classmethod
    def from_record(cls, record: ConnectionRecord | None) -> Self | None:
        if record is None:
            return None
        return cls(
            connection_info_id=record.id,
            charge_point_id=record.charge_point_id,
            connection_type_id=record.connection_type_id,
            status_type_id=record.status_type_id,
            level_id=record.level_id,
            current_type_id=record.current_type_id,
            amps=record.amps,
            voltage=record.voltage,
            power_kw=record.power_kw,
            quantity=record.quantity,
            reference=record.reference,
            comments=record.comments,
        )


@strawberry.type(description="One write to a connection.")
class ConnectionInfoChange:
    id: int = strawberry.field(description="Position in the change log; later is larger.")
    connection_info_id: int
    action: ConnectionInfoChangeAction  # type: ignore[valid-type]
    actor: str = strawberry.field(description="Name of the API key that wrote it.")
    changed_at: datetime
    before: ConnectionInfoSnapshot | None = strawberry.field(description="Null for a create.")
    after: ConnectionInfoSnapshot | None = strawberry.field(description="Null for a delete.")

    @classmethod
    def from_change(cls, change: ConnectionChange) -> Self:
        return cls(
            id=change.id,
            connection_info_id=change.connection_id,
            action=change.action,
            actor=change.actor,
            changed_at=datetime.fromisoformat(change.changed_at),
            before=ConnectionInfoSnapshot.from_record(change.before),
            after=ConnectionInfoSnapshot.from_record(change.after),
        )


@strawberry.type
class ConnectionInfoChangeEdge:
    cursor: str
    node: ConnectionInfoChange


@strawberry.type(description="A page of a connection's change log, newest first.")
class ConnectionInfoChangeConnection:
    edges: list[ConnectionInfoChangeEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[ConnectionInfoChange]:
        return [edge.node for edge in self.edges]


async def connection_info_history(
    info: strawberry.Info, id: int, first: int | None = None, after: str | None = None
) -> ConnectionInfoChangeConnection:
    context: Context = info.context
    settings = context.settings
    limit = settings.default_page_size if first is None else first
    if not 0 <= limit <= settings.max_page_size:
        raise UserInputError(
            f"first must be between 0 and {settings.max_page_size}", argument="first"
        )
    try:
        before_change = None if after is None else decode_change_cursor(after)
    except InvalidCursor as error:
        raise UserInputError(str(error), argument="after") from None
    except ValueError:
        # Digits that str.isdigit() accepts but int() does not (such as "²").
        raise UserInputError("the cursor is malformed", argument="after") from None
    changes = await context.repository.connection_changes(
        id, limit=limit + 1, before_change=before_change
    )
    page, more = changes[:limit], len(changes) > limit
    edges = [
        ConnectionInfoChangeEdge(
            cursor=encode_change_cursor(change.id), node=ConnectionInfoChange.from_change(change)
        )
        for change in page
    ]

    return ConnectionInfoChangeConnection(
        edges=edges,
        page_info=PageInfo(
            _has_next=more,
            _has_previous=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
