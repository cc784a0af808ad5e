"""The statements of a page and of a count, written once for every backend, so that
both seek, filter and order alike (a cursor made on one must work on the other). A
backend's Dialect writes the parts that differ: placeholders, lists of ids, a function
name, and the spatial index's prefilter."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Final, Protocol

from gql.domain.geo import LatLonBox
from gql.repository.models import ConnectionFilter, PageQuery, SortOrder
from gql.repository.rows import (
    CONNECTION_COLUMNS,
    ORDER_KEYS,
    Table,
    id_conditions,
    power_range,
    seek_values,
)

SELECT_CONNECTIONS: Final = f"SELECT {', '.join(CONNECTION_COLUMNS)} FROM connection_info"


class Dialect(Protocol):
    def param(self, params: list[Any], value: Any, column: str | None = None) -> str:
        """Appends ``value`` to ``params`` and returns its placeholder; ``column`` names
        the column it is compared with, when there is one."""
        ...

    def in_list(self, params: list[Any], column: str, values: Sequence[int]) -> str:
        """The condition that ``column`` is one of ``values``, its parameter appended."""
        ...

    def in_text_list(self, params: list[Any], column: str, values: Sequence[str]) -> str:
        """As in_list, for text values."""
        ...

    def least(self, first: str, second: str) -> str:
        """The smaller of two numeric expressions."""
        ...

    def located_in(self, params: list[Any], boxes: Sequence[LatLonBox]) -> str:
        """The condition on ``charge_point`` that its location may lie in one of
        ``boxes``, answered by the spatial index. A superset: exact checks follow it."""
        ...

    def table_sample(self, params: list[Any], percent: float) -> str | None:
        """A clause after a table name reading about ``percent`` % of its rows, the same
        ones each time; None where the backend cannot sample."""
        ...

    def spatial_candidates(self, params: list[Any], boxes: Sequence[LatLonBox]) -> str:
        """A query of the ids the spatial index finds in ``boxes`` (located_in's
        superset), read from the index as rows are asked for, so a LIMIT after it stops
        the search early."""
        ...


def page_statement(query: PageQuery, dialect: Dialect) -> tuple[str, list[Any]]:
    """The keyset page: the filter, the seek past each bound, the order, the limit."""
    params: list[Any] = []
    where = connection_conditions(query.filter, query.order, dialect, params)
    columns, order_descending = ORDER_KEYS[query.order]
    where += seek_conditions(
        columns,
        after=None if query.after is None else seek_values(query.after),
        before=None if query.before is None else seek_values(query.before),
        descending=order_descending,
        inclusive=query.inclusive,
        dialect=dialect,
        params=params,
    )
    limit = dialect.param(params, query.limit)
    sql = (
        f"{SELECT_CONNECTIONS}{where_clause(where)}"
        f" {order_by(columns, descending=order_descending, backward=query.backward)}"
        f" LIMIT {limit}"
    )
    return sql, params


def seek_conditions(
    columns: Sequence[str],
    *,
    after: Sequence[Any] | None,
    before: Sequence[Any] | None,
    descending: bool,
    inclusive: bool,
    dialect: Dialect,
    params: list[Any],
) -> list[str]:
    """The rows between the bounds of a keyset page: each bound is a sort key on
    ``columns``, compared as one row value (so the order's index serves it)."""
    conditions = []
    for bound, is_after in ((after, True), (before, False)):
        if bound is None:
            continue
        # "After" in the order means a greater key when ascending, smaller when not.
        operator = ">" if is_after != descending else "<"
        if inclusive:
            operator += "="
        placeholders = [
            dialect.param(params, value, column)
            for column, value in zip(columns, bound, strict=True)
        ]
        conditions.append(f"({', '.join(columns)}) {operator} ({', '.join(placeholders)})")
    return conditions


def order_by(columns: Sequence[str], *, descending: bool, backward: bool) -> str:
    """The order of a keyset page; a backward page reads from the far end first."""
    direction = " DESC" if descending != backward else ""
    return f"ORDER BY {', '.join(column + direction for column in columns)}"


def count_statement(filter: ConnectionFilter, dialect: Dialect) -> tuple[str, list[Any]]:
    params: list[Any] = []
    where = connection_conditions(filter, SortOrder.ID_ASC, dialect, params)
    return f"SELECT count(*) FROM connection_info{where_clause(where)}", params


async def dumped(
    table: Table,
    batch_size: int,
    dialect: Dialect,
    fetch: Callable[..., Awaitable[Sequence[Sequence[Any]]]],
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """A whole table in key order, in batches of plain rows: each batch one short read
    (``fetch(sql, *params)``) that seeks past the last key of the one before."""
    params: list[Any] = []
    after = dialect.param(params, table.key_floor, table.key)
    limit = dialect.param(params, batch_size)
    sql = (
        f"SELECT {', '.join(table.columns)} FROM {table.name}"
        f" WHERE {table.key} > {after} ORDER BY {table.key} LIMIT {limit}"
    )
    key_at = table.columns.index(table.key)
    while True:
        found = await fetch(sql, *params)
        if not found:
            return
        yield [table.plain(row) for row in found]
        params[0] = found[-1][key_at]


def connection_conditions(
    filter: ConnectionFilter, order: SortOrder, dialect: Dialect, params: list[Any]
) -> list[str]:
    """The filter's conditions on ``connection_info``, with unqualified column names (in a
    subquery they name its connection_info row, not an outer table's)."""
    where = [dialect.in_list(params, column, values) for column, values in id_conditions(filter)]
    power = power_range(filter, order)
    if power is not None:
        column, lowest, highest = power
        low = dialect.param(params, lowest, column)
        high = dialect.param(params, highest, column)
        where.append(f"{column} BETWEEN {low} AND {high}")
    if filter.is_operational is not None:
        operational = dialect.param(params, filter.is_operational)
        where.append(
            f"status_type_id IN (SELECT id FROM status_type WHERE is_operational = {operational})"
        )
    if filter.is_fast_charge_capable is not None:
        fast = dialect.param(params, filter.is_fast_charge_capable)
        where.append(
            f"level_id IN (SELECT id FROM level_type WHERE is_fast_charge_capable = {fast})"
        )
    return where


def where_clause(clauses: list[str]) -> str:
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""
