"""OCM's reference lists as GraphQL types, described as OCM's schema describes them."""

from __future__ import annotations

from typing import Self

import strawberry

from gql.repository.models import (
    ConnectionTypeRecord,
    LevelTypeRecord,
    StatusTypeRecord,
    SupplyTypeRecord,
)


@strawberry.type(description="The type of end-user connection an EVSE supports.")
class ConnectionType:
    id: int
    title: str | None = strawberry.field(description="e.g. 'Type 2 (Socket Only)'")
    formal_name: str | None = strawberry.field(
        description="Formal (standard) name for this connection type."
    )
    is_discontinued: bool | None = strawberry.field(
        description="If true, this is a discontinued but used connection type."
    )
    is_obsolete: bool | None = strawberry.field(
        description="If true, this is an obsolete connection type, unlikely to be present "
        "in modern infrastructure."
    )

    @classmethod
    def from_record(cls, record: ConnectionTypeRecord) -> Self:
        return cls(
            id=record.id,
            title=record.title,
            formal_name=record.formal_name,
            is_discontinued=record.is_discontinued,
            is_obsolete=record.is_obsolete,
        )


@strawberry.type(
    description="Whether a site or equipment item is generally operational. 0 is 'Unknown'."
)
class StatusType:
    id: int
    title: str | None
    is_operational: bool | None
    is_user_selectable: bool | None

    @classmethod
    def from_record(cls, record: StatusTypeRecord) -> Self:
        return cls(
            id=record.id,
            title=record.title,
            is_operational=record.is_operational,
            is_user_selectable=record.is_user_selectable,
        )


@strawberry.type(
    description="A general category for equipment power capability (OCM's charger type). "
    "Deprecated by OCM for general use in favour of the power in kW."
)
class LevelType:
    id: int
    title: str | None
    comments: str | None
    is_fast_charge_capable: bool | None = strawberry.field(
        description="If true, this level is considered 'fast' charging, relative to other levels."
    )

    @classmethod
    def from_record(cls, record: LevelTypeRecord) -> Self:
        return cls(
            id=record.id,
            title=record.title,
            comments=record.comments,
            is_fast_charge_capable=record.is_fast_charge_capable,
        )


@strawberry.type(
    description="The EVSE power supply type (OCM's current type), e.g. DC, AC single phase, "
    "AC three phase."
)
class SupplyType:
    id: int
    title: str | None
    description: str | None

    @classmethod
    def from_record(cls, record: SupplyTypeRecord) -> Self:
        return cls(id=record.id, title=record.title, description=record.description)
