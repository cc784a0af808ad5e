"""Differential test: `matches()` (live events, in memory) against the repository's SQL
(`connectionInfos`) for the same ConnectionFilter, on the same rows.

The rows are the 3,000 demo connections plus a few added for the edge cases the demo mix
lacks: no status, no level, no power, power derived from amps and voltage, a status and a
level whose flag is unknown."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from gql.domain.filtering import matches
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import (
    ConnectionFilter,
    ConnectionRecord,
    LevelTypeRecord,
    PageQuery,
    ReferenceKind,
    SortOrder,
    StatusTypeRecord,
)
from gql.settings import Settings
from tests.databases import copy_database, throwaway_database

ABSENT_ID = 987_654_321
UNKNOWN_FLAG_STATUS = 990
UNKNOWN_FLAG_LEVEL = 99


@pytest.fixture(scope="module")
def filter_db(
    backend: str, demo_db: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A copy of the demo database with the edge-case rows added."""
    with throwaway_database(backend, tmp_path_factory.mktemp("filtering")) as db:
        asyncio.run(copy_database(demo_db, db))
        asyncio.run(_add_edge_cases(db))
        yield db


async def _add_edge_cases(db: str) -> None:
    repository = await open_repository(Settings(database_url=db))
    try:
        await repository.upsert_reference(
            ReferenceKind.STATUS_TYPE,
            [StatusTypeRecord(UNKNOWN_FLAG_STATUS, "Flag unknown", None, None)],
        )
        await repository.upsert_reference(
            ReferenceKind.LEVEL, [LevelTypeRecord(UNKNOWN_FLAG_LEVEL, "Flag unknown", None, None)]
        )
        site = (await _all_rows(repository))[0].charge_point_id
        base: dict[str, Any] = {"charge_point_id": site, "connection_type_id": 25}
        for values in (
            {},  # nothing known: no status, level, power, current type
            {"status_type_id": 0, "level_id": 3, "power_kw": 50.0, "current_type_id": 30},
            {"status_type_id": UNKNOWN_FLAG_STATUS, "level_id": UNKNOWN_FLAG_LEVEL},
            {
                "status_type_id": 50,
                "level_id": 2,
                "amps": 32,
                "voltage": 230,
                "current_type_id": 10,
            },
            {
                "status_type_id": 100,
                "level_id": 2,
                "amps": 16,
                "voltage": 400,
                "power_kw": 0,
                "current_type_id": 20,
            },
            {"status_type_id": 150, "level_id": 1, "power_kw": 0, "current_type_id": 10},
            {"status_type_id": 30, "level_id": 3, "power_kw": 350.0, "connection_type_id": None},
        ):
            await repository.create_connection({**base, **values}, actor="test")
    finally:
        await repository.close()


async def _all_rows(repository: Repository) -> list[ConnectionRecord]:
    return await repository.connection_page(
        PageQuery(filter=ConnectionFilter(), order=SortOrder.ID_ASC, limit=1_000_000)
    )


@dataclass
class Rows:
    repository: Repository
    references: ReferenceCache
    records: list[ConnectionRecord]

    def distinct(self, field: str) -> list[Any]:
        return sorted({getattr(r, field) for r in self.records} - {None})

    async def disagreement(self, filter: ConnectionFilter) -> str | None:
        """None when SQL and memory select the same rows, else what differs."""
        page = await self.repository.connection_page(
            PageQuery(filter=filter, order=SortOrder.ID_ASC, limit=1_000_000)
        )
        by_sql = [r.id for r in page]
        count = await self.repository.count_connections(filter)
        in_memory = [r.id for r in self.records if await matches(filter, r, self.references)]
        if by_sql == in_memory and count == len(by_sql):
            return None
        only_sql = sorted(set(by_sql) - set(in_memory))[:5]
        only_memory = sorted(set(in_memory) - set(by_sql))[:5]
        return (
            f"{filter}: SQL {len(by_sql)} rows (count {count}), memory {len(in_memory)}; "
            f"only SQL e.g. {self._show(only_sql)}, only memory e.g. {self._show(only_memory)}"
        )

    def _show(self, ids: list[int]) -> list[ConnectionRecord]:
        return [r for r in self.records if r.id in ids]


@pytest.fixture
async def rows(filter_db: str) -> AsyncIterator[Rows]:
    repository = await open_repository(Settings(database_url=filter_db))
    try:
        yield Rows(repository, ReferenceCache(repository), await _all_rows(repository))
    finally:
        await repository.close()


async def assert_agree(rows: Rows, filters: Sequence[ConnectionFilter]) -> None:
    problems = [p for f in filters if (p := await rows.disagreement(f)) is not None]
    assert not problems, f"{len(problems)} of {len(filters)} filters disagree:\n" + "\n".join(
        problems[:10]
    )


async def test_the_rows_cover_the_edge_cases(rows: Rows) -> None:
    records = rows.records
    assert len(records) == 3007
    assert any(r.status_type_id is None for r in records)
    assert any(r.status_type_id == 0 for r in records)
    assert any(r.level_id is None for r in records)
    assert any(r.power_kw is None for r in records)
    assert any(r.current_type_id is None for r in records)
    assert any(r.connection_type_id is None for r in records)
    assert len(rows.distinct("status_type_id")) >= 5
    assert len(rows.distinct("power_kw")) >= 15


LIST_FIELDS = {
    "ids": "id",
    "connection_type_ids": "connection_type_id",
    "status_type_ids": "status_type_id",
    "level_ids": "level_id",
    "current_type_ids": "current_type_id",
    "charge_point_ids": "charge_point_id",
}


async def test_each_list_condition_alone(rows: Rows) -> None:
    filters = [ConnectionFilter()]
    for condition, field in LIST_FIELDS.items():
        values = rows.distinct(field)
        if condition in ("ids", "charge_point_ids"):
            values = values[:20] + values[-20:]
        filters += [ConnectionFilter(**{condition: [v]}) for v in values]
        filters += [
            ConnectionFilter(**{condition: values[:3]}),
            ConnectionFilter(**{condition: [ABSENT_ID]}),
            ConnectionFilter(**{condition: [0]}),
            ConnectionFilter(**{condition: []}),
        ]
    await assert_agree(rows, filters)


async def test_each_flag_alone(rows: Rows) -> None:
    await assert_agree(
        rows,
        [
            ConnectionFilter(is_operational=True),
            ConnectionFilter(is_operational=False),
            ConnectionFilter(is_fast_charge_capable=True),
            ConnectionFilter(is_fast_charge_capable=False),
        ],
    )


async def test_flags_leave_out_unknown_statuses_and_levels(rows: Rows) -> None:
    """Status 0 and the added status and level have no value for the flag: they match
    neither true nor false, in SQL as in memory."""
    for flag in ("is_operational", "is_fast_charge_capable"):
        chosen: set[int] = set()
        for value in (True, False):
            f = ConnectionFilter(**{flag: value})
            chosen |= {r.id for r in rows.records if await matches(f, r, rows.references)}
        left_out = [r for r in rows.records if r.id not in chosen]
        assert left_out, flag
        if flag == "is_operational":
            assert {r.status_type_id for r in left_out} == {None, 0, UNKNOWN_FLAG_STATUS}
        else:
            assert {r.level_id for r in left_out} == {None, UNKNOWN_FLAG_LEVEL}


async def test_power_bounds_are_inclusive_and_skip_rows_without_power(rows: Rows) -> None:
    powers = rows.distinct("power_kw")
    filters = []
    for power in powers:
        filters += [
            ConnectionFilter(min_power_kw=power),
            ConnectionFilter(max_power_kw=power),
            ConnectionFilter(min_power_kw=power, max_power_kw=power),
        ]
    filters += [
        ConnectionFilter(min_power_kw=0),
        ConnectionFilter(max_power_kw=0),
        ConnectionFilter(min_power_kw=-1000),
        ConnectionFilter(max_power_kw=1e6),
        ConnectionFilter(min_power_kw=powers[-1] + 0.01),
        ConnectionFilter(min_power_kw=50, max_power_kw=7.4),  # empty range
        ConnectionFilter(min_power_kw=powers[3] - 0.05, max_power_kw=powers[3] + 0.05),
    ]
    await assert_agree(rows, filters)
    exact = ConnectionFilter(min_power_kw=powers[3], max_power_kw=powers[3])
    chosen = [r for r in rows.records if await matches(exact, r, rows.references)]
    assert chosen
    assert all(r.power_kw == powers[3] for r in chosen)


def _random_filter(rng: random.Random, rows: Rows) -> ConnectionFilter:
    def maybe(probability: float = 0.35) -> bool:
        return rng.random() < probability

    values: dict[str, Any] = {}
    for condition, field in LIST_FIELDS.items():
        if maybe():
            pool = rows.distinct(field)
            chosen = rng.sample(pool, rng.randint(1, min(len(pool), 40)))
            if maybe(0.2):
                chosen.append(ABSENT_ID)
            if maybe(0.1):
                chosen = []
            values[condition] = chosen
    powers = [*rows.distinct("power_kw"), 0.0, 0.5, 22.05, 1000.0]
    if maybe():
        values["min_power_kw"] = rng.choice(powers)
    if maybe():
        values["max_power_kw"] = rng.choice(powers)
    if maybe(0.3):
        values["is_operational"] = rng.choice((True, False))
    if maybe(0.3):
        values["is_fast_charge_capable"] = rng.choice((True, False))
    return ConnectionFilter(**values)


async def test_random_combinations(rows: Rows) -> None:
    rng = random.Random(20240611)
    filters = [_random_filter(rng, rows) for _ in range(300)]
    # Keep the combinations meaningful: most select something, some select nothing.
    selected = [await rows.repository.count_connections(f) for f in filters]
    assert sum(1 for n in selected if n > 0) > 100
    assert sum(1 for n in selected if n == 0) > 10
    await assert_agree(rows, filters)


async def test_combinations_around_a_single_row(rows: Rows) -> None:
    """For rows of every kind: the filter made of all its own values selects it in both,
    and changing any one condition to exclude it excludes it in both."""
    references = rows.references
    statuses = await references.table(ReferenceKind.STATUS_TYPE)
    levels = await references.table(ReferenceKind.LEVEL)
    samples = rows.records[::150] + rows.records[-7:]
    filters = []
    for record in samples:
        own = ConnectionFilter(
            ids=[record.id],
            connection_type_ids=[v for v in [record.connection_type_id] if v is not None] or None,
            status_type_ids=[v for v in [record.status_type_id] if v is not None] or None,
            level_ids=[v for v in [record.level_id] if v is not None] or None,
            current_type_ids=[v for v in [record.current_type_id] if v is not None] or None,
            charge_point_ids=[record.charge_point_id] if record.charge_point_id else None,
            min_power_kw=record.power_kw,
            max_power_kw=record.power_kw,
        )
        status = statuses.get(record.status_type_id if record.status_type_id is not None else -1)
        level = levels.get(record.level_id if record.level_id is not None else -1)
        if isinstance(status, StatusTypeRecord) and status.is_operational is not None:
            own = replace(own, is_operational=status.is_operational)
        if isinstance(level, LevelTypeRecord) and level.is_fast_charge_capable is not None:
            own = replace(own, is_fast_charge_capable=level.is_fast_charge_capable)
        assert await matches(own, record, references), own
        filters.append(own)
        filters += [
            replace(own, ids=[ABSENT_ID]),
            replace(own, status_type_ids=[ABSENT_ID]),
            replace(own, min_power_kw=(record.power_kw or 0) + 0.1),
            replace(own, is_operational=not own.is_operational),
            replace(own, is_fast_charge_capable=not own.is_fast_charge_capable),
        ]
    await assert_agree(rows, filters)


async def test_a_huge_max_power_still_skips_rows_without_power(rows: Rows) -> None:
    await assert_agree(rows, [ConnectionFilter(max_power_kw=1e308)])
