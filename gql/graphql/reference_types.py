"""OCM's reference lists as GraphQL types, described as OCM's schema describes them."""

from __future__ import annotations

import dataclasses
from typing import Any, Self

import strawberry

from gql.repository.models import ReferenceRecord


class FromRecord:
    """Reference types are built from repository records whose fields have the same names."""

    @classmethod
    def from_record(cls, record: ReferenceRecord) -> Self:
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        values: dict[str, Any] = {name: getattr(record, name) for name in names}
        return cls(**values)


@strawberry.federation.type(
    keys=["id"], description="The type of end-user connection an EVSE supports."
)
class ConnectionType(FromRecord):
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


@strawberry.federation.type(
    keys=["id"],
    description="Whether a site or equipment item is generally operational. 0 is 'Unknown'.",
)
class StatusType(FromRecord):
    id: int
    title: str | None
    is_operational: bool | None
    is_user_selectable: bool | None


@strawberry.federation.type(
    keys=["id"],
    description="A general category for equipment power capability (OCM's charger type). "
    "Deprecated by OCM for general use in favour of the power in kW.",
)
class LevelType(FromRecord):
    id: int
    title: str | None
    comments: str | None
    is_fast_charge_capable: bool | None = strawberry.field(
        description="If true, this level is considered 'fast' charging, relative to other levels."
    )


@strawberry.federation.type(
    keys=["id"],
    description="The EVSE power supply type (OCM's current type), e.g. DC, AC single phase, "
    "AC three phase.",
)
class SupplyType(FromRecord):
    id: int
    title: str | None
    description: str | None


@strawberry.federation.type(
    keys=["id"], description="The network or company that runs charging sites (OCM's operator)."
)
class Operator(FromRecord):
    id: int
    title: str | None
    website_url: str | None
    is_private_individual: bool | None = strawberry.field(
        description="If true, the operator is a private individual, not a business."
    )


@strawberry.federation.type(
    keys=["id"], description="The general restrictions on using a site (OCM's usage type)."
)
class UsageType(FromRecord):
    id: int
    title: str | None = strawberry.field(description="e.g. 'Public - Membership Required'")
    is_pay_at_location: bool | None
    is_membership_required: bool | None
    is_access_key_required: bool | None


@strawberry.federation.type(keys=["id"], description="A country, as OCM lists them.")
class Country(FromRecord):
    id: int
    iso_code: str | None = strawberry.field(description="ISO 3166-1 alpha-2 code, e.g. 'EE'.")
    continent_code: str | None = strawberry.field(description="e.g. 'EU'.")
    title: str | None
