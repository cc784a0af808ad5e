"""The root Mutation type: edits of connections, each behind an API key.

Every mutation returns a payload with the resulting object and `userErrors`: an input
that breaks a rule writes nothing and lists every problem at once. Errors of access
(UNAUTHENTICATED, FORBIDDEN) are GraphQL errors instead, as nothing about the input
could fix them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.utils.str_converters import to_camel_case

from gql.domain.validation import Problem, ProblemCode
from gql.graphql.connection_info import ConnectionInfo
from gql.repository.models import WRITABLE_CONNECTION_FIELDS, ConnectionRecord
from gql.writes import WriteResult

if TYPE_CHECKING:
    from gql.graphql.context import Context

UserErrorCode = strawberry.enum(
    ProblemCode, name="UserErrorCode", description="Why an input was refused."
)


@strawberry.type(description="A problem with the input; nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the offending argument, e.g. ["input", "powerKw"].'
    )
    message: str
    code: UserErrorCode  # type: ignore[valid-type]


_LIMITS = (
    "Limits: powerKw 0-1000, amps 0-1000, voltage 0-1500, quantity 0-500; reference up to "
    "100 characters, comments up to 4000; referenced type, status, level, supply type and "
    "site ids must exist."
)


@strawberry.input(description=f"A new connection. {_LIMITS}")
class CreateConnectionInfoInput:
    charge_point_id: int = strawberry.field(description="The site (POI) it belongs to.")
    connection_type_id: int | None = None
    status_type_id: int | None = None
    level_id: int | None = None
    current_type_id: int | None = None
    amps: int | None = None
    voltage: float | None = None
    power_kw: float | None = strawberry.field(
        default=None,
        description="Power as given; when missing or 0, the effective powerKw read back "
        "is derived from amps and voltage (OCM's rule).",
    )
    quantity: int | None = None
    reference: str | None = None
    comments: str | None = None


@strawberry.input(
    description="Changes to a connection: a field left out stays as it is; an explicit null "
    f"clears it (chargePointId cannot be cleared). {_LIMITS}"
)
class UpdateConnectionInfoInput:
    charge_point_id: strawberry.Maybe[int | None]
    connection_type_id: strawberry.Maybe[int | None]
    status_type_id: strawberry.Maybe[int | None]
    level_id: strawberry.Maybe[int | None]
    current_type_id: strawberry.Maybe[int | None]
    amps: strawberry.Maybe[int | None]
    voltage: strawberry.Maybe[float | None]
    power_kw: strawberry.Maybe[float | None]
    quantity: strawberry.Maybe[int | None]
    reference: strawberry.Maybe[str | None]
    comments: strawberry.Maybe[str | None]


@strawberry.type
class CreateConnectionInfoPayload:
    connection_info: ConnectionInfo | None = strawberry.field(
        description="The new connection; null when the input was refused."
    )
    user_errors: list[UserError]


@strawberry.type
class UpdateConnectionInfoPayload:
    connection_info: ConnectionInfo | None = strawberry.field(
        description="The connection after the change (as it is when the input changes "
        "nothing); null when the input was refused."
    )
    user_errors: list[UserError]


@strawberry.type
class DeleteConnectionInfoPayload:
    deleted_id: int | None = strawberry.field(description="Null when nothing was deleted.")
    connection_info: ConnectionInfo | None = strawberry.field(
        description="The connection as it was just before deletion."
    )
    user_errors: list[UserError]


@strawberry.type
class SetConnectionStatusPayload:
    connection_info: ConnectionInfo | None
    previous_status_type_id: int | None = strawberry.field(
        description="The status before this change; the same as the status when the "
        "connection already had it (then nothing was written, logged or announced)."
    )
    user_errors: list[UserError]


def _user_errors(problems: list[Problem], prefix: tuple[str, ...]) -> list[UserError]:
    return [
        UserError(field=_path(problem.field, prefix), message=problem.message, code=problem.code)
        for problem in problems
    ]


def _path(field: str, prefix: tuple[str, ...]) -> list[str] | None:
    if not field:
        return None
    if field == "id":
        return ["id"]
    return [*prefix, to_camel_case(field)]


def _node(record: ConnectionRecord | None, context: Context) -> ConnectionInfo | None:
    if record is None:
        return None
    node = ConnectionInfo.from_record(record)
    # Later reads in this request must see the write, not a value loaded before it.
    context.loaders.connection_info.prime(record.id, node, force=True)
    return node


def _forget(connection_id: int, context: Context) -> None:
    context.loaders.connection_info.prime(connection_id, None, force=True)


def _written(result: WriteResult, context: Context) -> ConnectionInfo | None:
    return _node(result.after, context)


async def _create(
    info: strawberry.Info, input: CreateConnectionInfoInput
) -> CreateConnectionInfoPayload:
    context: Context = info.context
    writer = await context.auth.writer()
    values = {name: getattr(input, name) for name in WRITABLE_CONNECTION_FIELDS}
    result = await context.writes.create(writer, values)
    return CreateConnectionInfoPayload(
        connection_info=_written(result, context),
        user_errors=_user_errors(result.problems, ("input",)),
    )


async def _update(
    info: strawberry.Info, id: int, input: UpdateConnectionInfoInput
) -> UpdateConnectionInfoPayload:
    context: Context = info.context
    writer = await context.auth.writer()
    changes: dict[str, Any] = {}
    for name in WRITABLE_CONNECTION_FIELDS:
        given = getattr(input, name)
        if given is not None:
            changes[name] = given.value
    result = await context.writes.update(writer, id, changes)
    return UpdateConnectionInfoPayload(
        connection_info=_written(result, context),
        user_errors=_user_errors(result.problems, ("input",)),
    )


async def _delete(info: strawberry.Info, id: int) -> DeleteConnectionInfoPayload:
    context: Context = info.context
    writer = await context.auth.writer()
    result = await context.writes.delete(writer, id)
    before = result.change.before if result.change else None
    if result.change:
        _forget(id, context)
    return DeleteConnectionInfoPayload(
        deleted_id=id if result.change else None,
        connection_info=None if before is None else ConnectionInfo.from_record(before),
        user_errors=_user_errors(result.problems, ()),
    )


async def _set_status(
    info: strawberry.Info, id: int, status_type_id: int
) -> SetConnectionStatusPayload:
    context: Context = info.context
    writer = await context.auth.writer()
    result = await context.writes.set_status(writer, id, status_type_id)
    before = result.before
    return SetConnectionStatusPayload(
        connection_info=_written(result, context),
        previous_status_type_id=None if before is None else before.status_type_id,
        user_errors=_user_errors(result.problems, ()),
    )


@strawberry.type(description="Writes. Each needs an API key (X-API-Key or Authorization: Bearer).")
class Mutation:
    create_connection_info: CreateConnectionInfoPayload = strawberry.field(
        resolver=_create, description="Add a connection to a site."
    )
    update_connection_info: UpdateConnectionInfoPayload = strawberry.field(
        resolver=_update, description="Change some fields of a connection."
    )
    delete_connection_info: DeleteConnectionInfoPayload = strawberry.field(
        resolver=_delete, description="Remove a connection; its change history stays."
    )
    set_connection_status: SetConnectionStatusPayload = strawberry.field(
        resolver=_set_status,
        description="Set a connection's status; subscribers of connectionStatusChanged hear of it.",
    )
