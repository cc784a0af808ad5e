"""The ChargePoint type: one OCM site (POI), its address and location, with its operator,
usage type, status and connections resolved lazily, only when selected, through the
request's DataLoaders (one statement per relation for a whole page of sites)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Self

import strawberry

from gql.domain.dates import utc_datetime
from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.connection_types import ConnectionInfoFilter
from gql.graphql.reference_types import Country, Operator, StatusType, UsageType
from gql.repository.models import SiteRecord

if TYPE_CHECKING:
    from gql.graphql.context import Context


@strawberry.type(description="A point on the earth: WGS 84 degrees, as OCM records it.")
class GeoPoint:
    latitude: float
    longitude: float


async def _country(root: Address, info: strawberry.Info) -> Country | None:
    if root.country_id is None:
        return None
    context: Context = info.context
    return await context.loaders.country.load(root.country_id)


@strawberry.type(description="Where a site is (OCM's AddressInfo, without its coordinates).")
class Address:
    address_line1: str | None
    address_line2: str | None
    town: str | None
    state_or_province: str | None
    postcode: str | None
    country_id: int | None
    country: Country | None = strawberry.field(resolver=_country)
    access_comments: str | None = strawberry.field(
        description="Directions or access notes for finding the site."
    )
    related_url: str | None
    contact_telephone1: str | None


async def _operator(root: ChargePoint, info: strawberry.Info) -> Operator | None:
    if root.operator_id is None:
        return None
    context: Context = info.context
    return await context.loaders.operator.load(root.operator_id)


async def _usage_type(root: ChargePoint, info: strawberry.Info) -> UsageType | None:
    if root.usage_type_id is None:
        return None
    context: Context = info.context
    return await context.loaders.usage_type.load(root.usage_type_id)


async def _status_type(root: ChargePoint, info: strawberry.Info) -> StatusType | None:
    if root.status_type_id is None:
        return None
    context: Context = info.context
    return await context.loaders.status_type.load(root.status_type_id)


async def _connections(
    root: ChargePoint, info: strawberry.Info, filter: ConnectionInfoFilter | None = None
) -> list[ConnectionInfo]:
    context: Context = info.context
    wanted = None if filter is None else filter.to_filter()
    return await context.loaders.connections_of_sites(wanted).load(root.id)


@strawberry.federation.type(
    keys=["id"],
    description="A charging site (OCM's POI): where it is, who runs it, how it may be used, "
    "and its connections.",
)
class ChargePoint:
    id: int = strawberry.field(description="OCM's id of the site (its POI id).")
    uuid: str | None
    title: str | None = strawberry.field(description="The site's name (AddressInfo.Title).")
    address: Address
    location: GeoPoint | None = strawberry.field(
        description="Null when the source gives no coordinates."
    )
    operator_id: int | None
    operator: Operator | None = strawberry.field(resolver=_operator)
    usage_type_id: int | None
    usage_type: UsageType | None = strawberry.field(resolver=_usage_type)
    usage_cost: str | None = strawberry.field(description="Free text, as the source gives it.")
    status_type_id: int | None
    status_type: StatusType | None = strawberry.field(resolver=_status_type)
    submission_status_type_id: int | None = strawberry.field(
        description="OCM's publication state; sites not published are listed only with "
        "`includeUnpublished`."
    )
    number_of_points: int | None = strawberry.field(
        description="How many vehicles can charge at once."
    )
    general_comments: str | None
    date_created: datetime | None
    date_last_status_update: datetime | None
    date_last_verified: datetime | None
    data_provider_id: int | None
    distance_km: float | None = strawberry.field(
        description="Great-circle distance from the `near` centre of `chargePoints`; null "
        "without one."
    )
    connections: list[ConnectionInfo] = strawberry.field(
        resolver=_connections,
        description="The site's connections that match `filter`, by ascending id.",
    )

    @classmethod
    def from_record(cls, site: SiteRecord, distance_km: float | None = None) -> Self:
        location = None
        if site.latitude is not None and site.longitude is not None:
            location = GeoPoint(latitude=site.latitude, longitude=site.longitude)
        return cls(
            id=site.id,
            uuid=site.uuid,
            title=site.title,
            address=Address(
                address_line1=site.address_line1,
                address_line2=site.address_line2,
                town=site.town,
                state_or_province=site.state_or_province,
                postcode=site.postcode,
                country_id=site.country_id,
                access_comments=site.access_comments,
                related_url=site.related_url,
                contact_telephone1=site.contact_telephone1,
            ),
            location=location,
            operator_id=site.operator_id,
            usage_type_id=site.usage_type_id,
            usage_cost=site.usage_cost,
            status_type_id=site.status_type_id,
            submission_status_type_id=site.submission_status_type_id,
            number_of_points=site.number_of_points,
            general_comments=site.general_comments,
            date_created=utc_datetime(site.date_created),
            date_last_status_update=utc_datetime(site.date_last_status_update),
            date_last_verified=utc_datetime(site.date_last_verified),
            data_provider_id=site.data_provider_id,
            distance_km=distance_km,
        )
