"""One mapping between stored rows and records, shared by every backend: column lists,
sort keys, the values a write stores, and the tables a copy moves.

Rows here hold plain Python values (int, float, str, bool, bytes, None); each backend
turns them into its own parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Final

import orjson

from gql.domain.power import effective_power_kw
from gql.repository.models import (
    RECORD_BY_KIND,
    WRITABLE_CONNECTION_FIELDS,
    ApiKeyRecord,
    ChangeAction,
    ConnectionChange,
    ConnectionFilter,
    ConnectionRecord,
    ConnectionWrite,
    ReferenceKind,
    ReferenceRecord,
    SeekKey,
    SiteRecord,
    SortOrder,
    SyncCheckpoint,
)

# Stands in for a missing power in the sort-key columns, so such rows sort last.
NO_POWER_SORT_KEY: Final = 1e308
# The largest power a range filter asks for: below the stand-in, so rows without power
# never match a range.
BELOW_NO_POWER: Final = 1e307

CONNECTION_COLUMNS: Final = ConnectionRecord._fields
CONNECTION_WRITE_COLUMNS: Final = (*CONNECTION_COLUMNS, "power_kw_source")
SITE_COLUMNS: Final = tuple(f.name for f in fields(SiteRecord))
API_KEY_COLUMNS: Final = tuple(f.name for f in fields(ApiKeyRecord))
SYNC_STATE_COLUMNS: Final = tuple(f.name for f in fields(SyncCheckpoint))
CHANGE_COLUMNS: Final = (
    "id",
    "connection_id",
    "action",
    "actor",
    "changed_at",
    "before",
    "after",
)

# The largest connection id ever used, stored or named by the change log (whose entries
# outlive a deleted connection): a new connection takes a larger one, so it never
# inherits another's history. Plain SQL that both backends run as it is.
LARGEST_CONNECTION_ID_SQL: Final = (
    "SELECT coalesce(max(used), 0) FROM (SELECT max(id) AS used FROM connection_info"
    " UNION ALL SELECT max(connection_id) FROM connection_change) AS ids"
)

# Sort-key columns and whether the order is descending on them.
ORDER_KEYS: Final[dict[SortOrder, tuple[tuple[str, ...], bool]]] = {
    SortOrder.ID_ASC: (("id",), False),
    SortOrder.ID_DESC: (("id",), True),
    SortOrder.POWER_KW_ASC: (("power_sort_asc", "id"), False),
    SortOrder.POWER_KW_DESC: (("power_sort_desc", "id"), False),
}


def reference_columns(kind: ReferenceKind) -> tuple[str, ...]:
    return tuple(f.name for f in fields(RECORD_BY_KIND[kind]))


def reference_record(kind: ReferenceKind, row: Sequence[Any]) -> ReferenceRecord:
    names = reference_columns(kind)
    values: list[Any] = [
        to_bool(value) if name.startswith("is_") else value
        for name, value in zip(names, row, strict=True)
    ]
    return RECORD_BY_KIND[kind](*values)


def stored_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Writable values as stored: the given power kept as the source, the effective power
    derived from it."""
    row = {name: values.get(name) for name in WRITABLE_CONNECTION_FIELDS}
    source_power = row["power_kw"]
    voltage = row["voltage"]
    row["power_kw_source"] = source_power
    row["power_kw"] = effective_power_kw(
        None if source_power is None else float(source_power),
        row["amps"],
        None if voltage is None else float(voltage),
        row["current_type_id"],
    )
    return row


def writable_source_columns() -> list[str]:
    """The stored columns that hold the writable fields (the power as given, not derived)."""
    return [
        name if name != "power_kw" else "power_kw_source" for name in WRITABLE_CONNECTION_FIELDS
    ]


def connection_write_row(connection: ConnectionWrite) -> tuple[Any, ...]:
    """The values of CONNECTION_WRITE_COLUMNS for a connection as a source gives it."""
    voltage = None if connection.voltage is None else float(connection.voltage)
    source_power = None if connection.power_kw is None else float(connection.power_kw)
    power = effective_power_kw(source_power, connection.amps, voltage, connection.current_type_id)
    record = ConnectionRecord(
        id=connection.id,
        charge_point_id=connection.charge_point_id,
        connection_type_id=connection.connection_type_id,
        reference=connection.reference,
        status_type_id=connection.status_type_id,
        level_id=connection.level_id,
        amps=connection.amps,
        voltage=voltage,
        power_kw=power,
        current_type_id=connection.current_type_id,
        quantity=connection.quantity,
        comments=connection.comments,
    )
    return (*record, source_power)


def snapshot(record: ConnectionRecord | None) -> str | None:
    """A connection as the change log keeps it (JSON text)."""
    return None if record is None else orjson.dumps(record._asdict()).decode()


def from_snapshot(text: str | None) -> ConnectionRecord | None:
    return None if text is None else ConnectionRecord(**orjson.loads(text))


def change_record(row: Sequence[Any]) -> ConnectionChange:
    """A change-log entry from a row of CHANGE_COLUMNS."""
    change_id, connection_id, action, actor, changed_at, before, after = row
    return ConnectionChange(
        change_id,
        connection_id,
        ChangeAction(action),
        actor,
        changed_at,
        from_snapshot(before),
        from_snapshot(after),
    )


def api_key_record(row: Sequence[Any]) -> ApiKeyRecord:
    """A key from a row of API_KEY_COLUMNS."""
    key_id, name, salt, secret_hash, read_only, created_at, revoked_at = row
    return ApiKeyRecord(
        key_id, name, bytes(salt), bytes(secret_hash), bool(read_only), created_at, revoked_at
    )


def id_conditions(filter: ConnectionFilter) -> list[tuple[str, Sequence[int]]]:
    """(column, allowed values) for each list condition of the filter."""
    return [
        (column, values)
        for column, values in (
            ("id", filter.ids),
            ("connection_type_id", filter.connection_type_ids),
            ("status_type_id", filter.status_type_ids),
            ("level_id", filter.level_ids),
            ("current_type_id", filter.current_type_ids),
            ("charge_point_id", filter.charge_point_ids),
        )
        if values is not None
    ]


def power_range(filter: ConnectionFilter, order: SortOrder) -> tuple[str, float, float] | None:
    """The power condition as a range on a sort-key column (column, lowest, highest), so
    the power index serves it; on the descending key when the page is ordered by it, so
    one index serves both range and order. None when the filter has no power condition."""
    if filter.min_power_kw is None and filter.max_power_kw is None:
        return None
    lowest = -BELOW_NO_POWER if filter.min_power_kw is None else filter.min_power_kw
    highest = (
        BELOW_NO_POWER if filter.max_power_kw is None else min(filter.max_power_kw, BELOW_NO_POWER)
    )
    if order is SortOrder.POWER_KW_DESC:
        return "power_sort_desc", -highest, -lowest
    return "power_sort_asc", lowest, highest


def seek_values(key: SeekKey) -> tuple[float | int, ...]:
    """The sort-key column values of a cursor, in ORDER_KEYS' column order."""
    if key.order is SortOrder.POWER_KW_ASC:
        return (NO_POWER_SORT_KEY if key.power_kw is None else key.power_kw, key.id)
    if key.order is SortOrder.POWER_KW_DESC:
        return (NO_POWER_SORT_KEY if key.power_kw is None else -key.power_kw, key.id)
    return (key.id,)


def to_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


@dataclass(frozen=True, slots=True)
class Table:
    """A stored table as a copy moves it: its columns, and which of them hold booleans
    and bytes (SQLite stores both loosely; rows carry bool and bytes)."""

    name: str
    columns: tuple[str, ...]
    booleans: frozenset[str] = frozenset()
    blobs: frozenset[str] = frozenset()
    key: str = "id"
    """The unique column a dump reads in order, batch after batch."""
    key_floor: int | str = -1
    """A value below every key: ids are never negative (and PostgreSQL refuses a value
    outside the column's 32 bits where it compares an integer)."""

    def plain(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """A stored row with its booleans as bool and its bytes as bytes."""
        return tuple(
            to_bool(value)
            if name in self.booleans
            else bytes(value)
            if name in self.blobs and value is not None
            else value
            for name, value in zip(self.columns, row, strict=True)
        )


def _reference_table(kind: ReferenceKind) -> Table:
    columns = reference_columns(kind)
    return Table(kind.value, columns, frozenset(c for c in columns if c.startswith("is_")))


# Every stored table, in an order that writes what a row points at before the row.
TABLES: Final[tuple[Table, ...]] = (
    *(_reference_table(kind) for kind in ReferenceKind),
    Table("charge_point", SITE_COLUMNS),
    Table("connection_info", CONNECTION_WRITE_COLUMNS),
    Table(
        "api_key",
        API_KEY_COLUMNS,
        booleans=frozenset({"read_only"}),
        blobs=frozenset({"salt", "secret_hash"}),
        key="key_id",
        key_floor="",
    ),
    Table("connection_change", CHANGE_COLUMNS),
    Table("sync_state", SYNC_STATE_COLUMNS, key="country_code", key_floor=""),
)
