"""Plain records that cross the repository boundary, free of SQL and of GraphQL."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple


class SortOrder(enum.Enum):
    ID_ASC = "ID_ASC"
    ID_DESC = "ID_DESC"
    POWER_KW_ASC = "POWER_KW_ASC"
    POWER_KW_DESC = "POWER_KW_DESC"

    @property
    def by_power(self) -> bool:
        return self in (SortOrder.POWER_KW_ASC, SortOrder.POWER_KW_DESC)


class ReferenceKind(enum.Enum):
    CONNECTION_TYPE = "connection_type"
    STATUS_TYPE = "status_type"
    LEVEL = "level_type"
    SUPPLY_TYPE = "supply_type"
    OPERATOR = "operator"
    USAGE_TYPE = "usage_type"
    COUNTRY = "country"


@dataclass(frozen=True, slots=True)
class ConnectionTypeRecord:
    id: int
    title: str | None = None
    formal_name: str | None = None
    is_discontinued: bool | None = None
    is_obsolete: bool | None = None


@dataclass(frozen=True, slots=True)
class StatusTypeRecord:
    id: int
    title: str | None = None
    is_operational: bool | None = None
    is_user_selectable: bool | None = None


@dataclass(frozen=True, slots=True)
class LevelTypeRecord:
    id: int
    title: str | None = None
    comments: str | None = None
    is_fast_charge_capable: bool | None = None


@dataclass(frozen=True, slots=True)
class SupplyTypeRecord:
    id: int
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class OperatorRecord:
    id: int
    title: str | None = None
    website_url: str | None = None
    is_private_individual: bool | None = None


@dataclass(frozen=True, slots=True)
class UsageTypeRecord:
    id: int
    title: str | None = None
    is_pay_at_location: bool | None = None
    is_membership_required: bool | None = None
    is_access_key_required: bool | None = None


@dataclass(frozen=True, slots=True)
class CountryRecord:
    id: int
    iso_code: str | None = None
    continent_code: str | None = None
    title: str | None = None


ReferenceRecord = (
    ConnectionTypeRecord
    | StatusTypeRecord
    | LevelTypeRecord
    | SupplyTypeRecord
    | OperatorRecord
    | UsageTypeRecord
    | CountryRecord
)

RECORD_BY_KIND: dict[ReferenceKind, type[ReferenceRecord]] = {
    ReferenceKind.CONNECTION_TYPE: ConnectionTypeRecord,
    ReferenceKind.STATUS_TYPE: StatusTypeRecord,
    ReferenceKind.LEVEL: LevelTypeRecord,
    ReferenceKind.SUPPLY_TYPE: SupplyTypeRecord,
    ReferenceKind.OPERATOR: OperatorRecord,
    ReferenceKind.USAGE_TYPE: UsageTypeRecord,
    ReferenceKind.COUNTRY: CountryRecord,
}


class ConnectionRecord(NamedTuple):
    """One connection. ``power_kw`` is the effective power (gql/domain/power.py).

    A named tuple, not a dataclass: pages build one per row, and a tuple is built from a
    row in one C call (a frozen dataclass sets each field through a Python call)."""

    id: int
    charge_point_id: int | None = None
    connection_type_id: int | None = None
    reference: str | None = None
    status_type_id: int | None = None
    level_id: int | None = None
    amps: int | None = None
    voltage: float | None = None
    power_kw: float | None = None
    current_type_id: int | None = None
    quantity: int | None = None
    comments: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionWrite:
    """A connection as a source gives it; the repository derives the effective power."""

    id: int
    charge_point_id: int
    connection_type_id: int | None = None
    reference: str | None = None
    status_type_id: int | None = None
    level_id: int | None = None
    amps: int | None = None
    voltage: float | None = None
    power_kw: float | None = None
    current_type_id: int | None = None
    quantity: int | None = None
    comments: str | None = None


@dataclass(frozen=True, slots=True)
class SiteRecord:
    """One OCM site (POI), with its AddressInfo flattened in. Dates are ISO 8601 text in
    UTC, as OCM gives them."""

    id: int
    uuid: str | None = None
    title: str | None = None
    town: str | None = None
    country_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    data_provider_id: int | None = None
    operator_id: int | None = None
    usage_type_id: int | None = None
    status_type_id: int | None = None
    number_of_points: int | None = None
    date_created: str | None = None
    date_last_status_update: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    state_or_province: str | None = None
    postcode: str | None = None
    access_comments: str | None = None
    related_url: str | None = None
    contact_telephone1: str | None = None
    usage_cost: str | None = None
    submission_status_type_id: int | None = None
    general_comments: str | None = None
    date_last_verified: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectionFilter:
    """All given conditions hold together; ``None`` means no condition."""

    ids: Sequence[int] | None = None
    connection_type_ids: Sequence[int] | None = None
    status_type_ids: Sequence[int] | None = None
    level_ids: Sequence[int] | None = None
    current_type_ids: Sequence[int] | None = None
    charge_point_ids: Sequence[int] | None = None
    min_power_kw: float | None = None
    max_power_kw: float | None = None
    is_operational: bool | None = None
    is_fast_charge_capable: bool | None = None


class SiteOrder(enum.Enum):
    ID_ASC = "ID_ASC"
    ID_DESC = "ID_DESC"
    DISTANCE = "DISTANCE"
    """Nearest first, ties by ascending id; only with ``SiteFilter.near``."""


@dataclass(frozen=True, slots=True)
class GeoRadius:
    """Sites within ``radius_km`` of the point, by great-circle distance."""

    latitude: float
    longitude: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class GeoBox:
    """Sites inside the box, edges included. ``west > east`` crosses the antimeridian."""

    south: float
    west: float
    north: float
    east: float


@dataclass(frozen=True, slots=True)
class SiteFilter:
    """All given conditions hold together; ``None`` means no condition.

    ``connections`` keeps a site when at least one of its connections matches it (OCM's
    meaning). Unless ``include_unpublished``, sites OCM hides are left out
    (gql/domain/visibility.py)."""

    ids: Sequence[int] | None = None
    country_ids: Sequence[int] | None = None
    country_codes: Sequence[str] | None = None
    operator_ids: Sequence[int] | None = None
    usage_type_ids: Sequence[int] | None = None
    status_type_ids: Sequence[int] | None = None
    is_operational: bool | None = None
    connections: ConnectionFilter | None = None
    include_unpublished: bool = False
    near: GeoRadius | None = None
    within: GeoBox | None = None


@dataclass(frozen=True, slots=True)
class SiteSeekKey:
    """The sort key of one site under ``order``; ``distance_km`` for DISTANCE only."""

    order: SiteOrder
    id: int
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class SitePageQuery:
    """As PageQuery, for sites."""

    filter: SiteFilter
    order: SiteOrder
    limit: int
    after: SiteSeekKey | None = None
    before: SiteSeekKey | None = None
    backward: bool = False
    inclusive: bool = False


class SiteHit(NamedTuple):
    """A site of a page, with its distance in km from ``near`` when one was given."""

    site: SiteRecord
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class SeekKey:
    """The sort key of one row under ``order``: pages start strictly after or before it."""

    order: SortOrder
    id: int
    power_kw: float | None = None


@dataclass(frozen=True, slots=True)
class PageQuery:
    """Up to ``limit`` rows in ``order`` that lie after ``after`` and before ``before``.

    ``backward`` reads from the ``before`` end, nearest first (the caller reverses them);
    ``inclusive`` lets the bounds themselves match, for look-behind checks.
    """

    filter: ConnectionFilter
    order: SortOrder
    limit: int
    after: SeekKey | None = None
    before: SeekKey | None = None
    backward: bool = False
    inclusive: bool = False


@dataclass(slots=True)
class WriteCounts:
    read: int = 0
    written: int = 0
    rejected: int = 0

    @property
    def unchanged(self) -> int:
        return self.read - self.written - self.rejected


@dataclass(slots=True)
class ImportCounts:
    sites: WriteCounts = field(default_factory=WriteCounts)
    connections: WriteCounts = field(default_factory=WriteCounts)


# The columns of connection_info a client may write. ``power_kw`` here is the power as
# given; the stored effective power is derived from it (gql/domain/power.py).
WRITABLE_CONNECTION_FIELDS: tuple[str, ...] = (
    "charge_point_id",
    "connection_type_id",
    "reference",
    "status_type_id",
    "level_id",
    "amps",
    "voltage",
    "power_kw",
    "current_type_id",
    "quantity",
    "comments",
)


class ChangeAction(enum.Enum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    SET_STATUS = "SET_STATUS"


@dataclass(frozen=True, slots=True)
class ConnectionChange:
    """One entry of the change log: who changed which connection when, and how."""

    id: int
    connection_id: int
    action: ChangeAction
    actor: str
    changed_at: str
    """UTC, ISO 8601 with milliseconds."""
    before: ConnectionRecord | None
    after: ConnectionRecord | None


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    key_id: str
    name: str
    salt: bytes
    secret_hash: bytes
    read_only: bool
    created_at: str
    revoked_at: str | None = None


@dataclass(frozen=True, slots=True)
class SyncCheckpoint:
    """Where ``ocm-gql sync`` got to in OCM's /poi API for one country, stored with the
    page of sites it follows (columns of ``sync_state``, in order)."""

    country_code: str
    """ISO 3166 alpha-2, upper case."""
    modified_since: str | None
    """The run's ``modifiedsince`` (ISO 8601, UTC); None asks for every site."""
    started_at: str
    """When the run started (ISO 8601, UTC)."""
    last_id: int
    """The largest site id the run has written (0 before its first page)."""
    finished_at: str | None = None
    """When the run reached OCM's last page; None while unfinished."""
