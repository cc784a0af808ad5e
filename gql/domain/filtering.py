"""ConnectionFilter applied to one record in memory, for live events.

It must agree with the SQL the repository runs for the same filter; a test checks both
on the same rows.
"""

from __future__ import annotations

from gql.reference_cache import ReferenceCache
from gql.repository.models import (
    ConnectionFilter,
    ConnectionRecord,
    ReferenceKind,
)


async def matches(
    filter: ConnectionFilter, record: ConnectionRecord, references: ReferenceCache
) -> bool:
    for allowed, value in (
        (filter.ids, record.id),
        (filter.connection_type_ids, record.connection_type_id),
        (filter.status_type_ids, record.status_type_id),
        (filter.level_ids, record.level_id),
        (filter.current_type_ids, record.current_type_id),
        (filter.charge_point_ids, record.charge_point_id),
    ):
        if allowed is not None and value not in allowed:
            return False
    if filter.min_power_kw is not None or filter.max_power_kw is not None:
        if record.power_kw is None:
            return False
        if filter.min_power_kw is not None and record.power_kw < filter.min_power_kw:
            return False
        if filter.max_power_kw is not None and record.power_kw > filter.max_power_kw:
            return False
    if filter.is_operational is not None and not await _flag_is(
        references,
        ReferenceKind.STATUS_TYPE,
        record.status_type_id,
        "is_operational",
        filter.is_operational,
    ):
        return False
    return filter.is_fast_charge_capable is None or await _flag_is(
        references,
        ReferenceKind.LEVEL,
        record.level_id,
        "is_fast_charge_capable",
        filter.is_fast_charge_capable,
    )


async def _flag_is(
    references: ReferenceCache,
    kind: ReferenceKind,
    reference_id: int | None,
    flag: str,
    wanted: bool,
) -> bool:
    """The referenced row's flag equals ``wanted``; no row, or no value, matches neither."""
    if reference_id is None:
        return False
    row = (await references.table(kind)).get(reference_id)
    value = getattr(row, flag, None)
    return value is not None and value == wanted
