"""The ConnectionInfo type: one charging connector, with its reference types resolved
lazily, only when selected, through the request's DataLoaders."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from gql.graphql.reference_types import ConnectionType, LevelType, StatusType, SupplyType
from gql.repository.models import ConnectionRecord

if TYPE_CHECKING:
    from gql.graphql.charge_point import ChargePoint
    from gql.graphql.context import Context

_LEVEL_DEPRECATION = "Deprecated by OCM in favour of documenting the power in kW (powerKw)."


@strawberry.federation.type(
    keys=["id"],
    description="Details on the equipment type and power capability of one connection "
    "(OCM's ConnectionInfo).",
)
class ConnectionInfo:
    id: int
    connection_type_id: int | None
    reference: str | None = strawberry.field(
        description="Optional operator's reference for this connection/port."
    )
    status_type_id: int | None = strawberry.field(description="Status type ID; 0 is Unknown.")
    level_id: int | None = strawberry.field(deprecation_reason=_LEVEL_DEPRECATION)
    amps: int | None = strawberry.field(description="EVSE supply maximum current in amps.")
    voltage: float | None = strawberry.field(description="EVSE supply voltage.")
    power_kw: float | None = strawberry.field(
        description="Peak available power in kW: as recorded, or when missing or 0, "
        "amps x voltage / 1000 (x 1.732 for three-phase AC), rounded to 0.1, as OCM computes it."
    )
    current_type_id: int | None = strawberry.field(description="The supply type ID (e.g. DC).")
    quantity: int | None = strawberry.field(
        description="Number of equipment items available with this specification."
    )
    comments: str | None
    charge_point_id: int | None = strawberry.field(
        description="ID of the OCM site (POI) this connection belongs to."
    )

    @classmethod
    def from_record(cls, record: ConnectionRecord) -> Self:
        return cls(
            id=record.id,
            connection_type_id=record.connection_type_id,
            reference=record.reference,
            status_type_id=record.status_type_id,
            level_id=record.level_id,
            amps=record.amps,
            voltage=record.voltage,
            power_kw=record.power_kw,
            current_type_id=record.current_type_id,
            quantity=record.quantity,
            comments=record.comments,
            charge_point_id=record.charge_point_id,
        )

    @strawberry.field
    async def connection_type(self, info: strawberry.Info) -> ConnectionType | None:
        if self.connection_type_id is None:
            return None
        context: Context = info.context
        return await context.loaders.connection_type.load(self.connection_type_id)

    @strawberry.field
    async def status_type(self, info: strawberry.Info) -> StatusType | None:
        if self.status_type_id is None:
            return None
        context: Context = info.context
        return await context.loaders.status_type.load(self.status_type_id)

    @strawberry.field(deprecation_reason=_LEVEL_DEPRECATION)
    async def level(self, info: strawberry.Info) -> LevelType | None:
        if self.level_id is None:
            return None
        context: Context = info.context
        return await context.loaders.level.load(self.level_id)

    @strawberry.field
    async def current_type(self, info: strawberry.Info) -> SupplyType | None:
        if self.current_type_id is None:
            return None
        context: Context = info.context
        return await context.loaders.current_type.load(self.current_type_id)

    @strawberry.field(description="The site (OCM POI) this connection belongs to.")
    async def charge_point(
        self, info: strawberry.Info
    ) -> Annotated[ChargePoint, strawberry.lazy("gql.graphql.charge_point")] | None:
        if self.charge_point_id is None:
            return None
        context: Context = info.context
        return await context.loaders.charge_point.load(self.charge_point_id)
