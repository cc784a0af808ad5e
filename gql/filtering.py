"""ConnectionFilter applied to one record in memory, for live events.

It must agree with the SQL the repository runs for the same filter; a test checks both
on the same rows.
"""

from __future__ import annotations

from gql.reference_cache import ReferenceCache
from gql.repository.models import (
    ConnectionFilter,
    ConnectionRecord,
    LevelTypeRecord,
    ReferenceKind,
    StatusTypeRecord,
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
    if filter.is_operational is not None:
        status = (await references.table(ReferenceKind.STATUS_TYPE)).get(
            record.status_type_id if record.status_type_id is not None else -1
        )
        if not isinstance(status, StatusTypeRecord) or status.is_operational is None:
            return False
        if status.is_operational != filter.is_operational:
            return False
    if filter.is_fast_charge_capable is not None:
        level = (await references.table(ReferenceKind.LEVEL)).get(
            record.level_id if record.level_id is not None else -1
        )
        if not isinstance(level, LevelTypeRecord) or level.is_fast_charge_capable is None:
            return False
        if level.is_fast_charge_capable != filter.is_fast_charge_capable:
            return False
    return True
