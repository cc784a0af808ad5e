"""The rules a connection must meet before it is written (gql/domain/validation.py), checked
directly: both sides of every bound, every reference kind, the site, text lengths, the
required site id, and every problem of an input reported at once; on each backend."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from gql.data.seeding import seed_reference
from gql.domain.validation import (
    MAX_LENGTHS,
    RANGES,
    REFERENCES,
    Problem,
    ProblemCode,
    connection_problems,
)
from gql.reference_cache import ReferenceCache
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import ConnectionTypeRecord, ReferenceKind
from gql.settings import Settings
from tests.conftest import run_cli
from tests.databases import throwaway_database

# The issue's contract, written out here rather than read from the code under test.
CONTRACT_RANGES: dict[str, tuple[float, float]] = {
    "power_kw": (0, 1000),
    "amps": (0, 1000),
    "quantity": (0, 500),
    "voltage": (0, 1500),
}
CONTRACT_LENGTHS = {"reference": 100, "comments": 4000}
INTEGER_FIELDS = {"amps", "quantity"}
SITE = 1_000_000_001  # the first demo site
MISSING_ID = 987_654


@pytest.fixture(scope="module")
def seeded_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with throwaway_database(backend, tmp_path_factory.mktemp("validation")) as db:
        run_cli("seed", "--database-url", db, "--demo", "20", "--seed", "1")
        yield db


class Checker:
    def __init__(self, repository: Repository) -> None:
        self.repository = repository
        self.references = ReferenceCache(repository)

    async def __call__(self, values: dict[str, Any]) -> list[Problem]:
        return await connection_problems(values, self.references, self.repository.existing_site_ids)


@pytest.fixture
async def check(seeded_db: str) -> AsyncIterator[Checker]:
    repository = await open_repository(Settings(database_url=seeded_db))
    try:
        yield Checker(repository)
    finally:
        await repository.close()


def _below(field: str, bound: float) -> float:
    return bound - 1 if field in INTEGER_FIELDS else math.nextafter(bound, -math.inf)


def _above(field: str, bound: float) -> float:
    return bound + 1 if field in INTEGER_FIELDS else math.nextafter(bound, math.inf)


def test_the_documented_limits_are_the_issues() -> None:
    assert {name: (low, high) for name, (low, high, _unit) in RANGES.items()} == CONTRACT_RANGES
    assert dict(MAX_LENGTHS) == CONTRACT_LENGTHS
    assert set(REFERENCES) == {
        "connection_type_id",
        "status_type_id",
        "level_id",
        "current_type_id",
    }


@pytest.mark.parametrize("field", sorted(CONTRACT_RANGES))
async def test_range_ends_are_accepted(check: Checker, field: str) -> None:
    low, high = CONTRACT_RANGES[field]
    for value in (low, high, (low + high) / 2 if field not in INTEGER_FIELDS else high // 2):
        assert await check({field: value}) == [], (field, value)


@pytest.mark.parametrize("field", sorted(CONTRACT_RANGES))
async def test_just_outside_either_end_is_refused(check: Checker, field: str) -> None:
    low, high = CONTRACT_RANGES[field]
    for value in (_below(field, low), _above(field, high), -1e9, 1e9):
        problems = await check({field: value})
        assert [(p.field, p.code) for p in problems] == [(field, ProblemCode.OUT_OF_RANGE)], value
        assert f"between {low:g} and {high:g}" in problems[0].message


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("field", ["power_kw", "voltage"])
async def test_non_finite_numbers_are_refused(check: Checker, field: str, value: float) -> None:
    assert [p.code for p in await check({field: value})] == [ProblemCode.OUT_OF_RANGE]


@pytest.mark.parametrize("field", sorted(CONTRACT_LENGTHS))
async def test_text_length_limits(check: Checker, field: str) -> None:
    limit = CONTRACT_LENGTHS[field]
    assert await check({field: "x" * limit}) == []
    assert await check({field: ""}) == []
    # Characters, not bytes: a limit of 100 allows 100 umlauts (200 bytes in UTF-8).
    assert await check({field: "ä" * limit}) == []
    problems = await check({field: "x" * (limit + 1)})
    assert [(p.field, p.code) for p in problems] == [(field, ProblemCode.TOO_LONG)]
    assert str(limit) in problems[0].message


@pytest.mark.parametrize("field", sorted(CONTRACT_LENGTHS))
async def test_a_nul_character_is_refused(check: Checker, field: str) -> None:
    """PostgreSQL's text cannot hold NUL, so neither backend takes it (SQLite could)."""
    problems = await check({field: "before\x00after"})
    assert [(p.field, p.code) for p in problems] == [(field, ProblemCode.INVALID_CHARACTER)]
    assert "NUL" in problems[0].message
    assert await check({field: "\x01 other control characters \x7f are text"}) == []


@pytest.mark.parametrize(("field", "kind"), sorted(REFERENCES.items()))
async def test_each_reference_kind_must_exist(
    check: Checker, field: str, kind: ReferenceKind
) -> None:
    known = sorted(await check.references.table(kind))
    for reference_id in known:
        assert await check({field: reference_id}) == [], (field, reference_id)
    for reference_id in (MISSING_ID, -1, max(known) + 1):
        problems = await check({field: reference_id})
        assert [(p.field, p.code) for p in problems] == [(field, ProblemCode.UNKNOWN_REFERENCE)], (
            reference_id
        )
        assert str(reference_id) in problems[0].message


async def test_the_site_must_exist(check: Checker) -> None:
    assert await check({"charge_point_id": SITE}) == []
    problems = await check({"charge_point_id": MISSING_ID})
    assert [(p.field, p.code) for p in problems] == [
        ("charge_point_id", ProblemCode.UNKNOWN_REFERENCE)
    ]


async def test_the_site_cannot_be_cleared(check: Checker) -> None:
    problems = await check({"charge_point_id": None})
    assert [(p.field, p.code) for p in problems] == [("charge_point_id", ProblemCode.REQUIRED)]


async def test_nulls_of_optional_fields_are_fine(check: Checker) -> None:
    optional = [*CONTRACT_RANGES, *CONTRACT_LENGTHS, *REFERENCES]
    assert await check(dict.fromkeys(optional)) == []


async def test_every_problem_is_reported_at_once(check: Checker) -> None:
    problems = await check(
        {
            "charge_point_id": MISSING_ID,
            "connection_type_id": MISSING_ID,
            "status_type_id": MISSING_ID,
            "level_id": MISSING_ID,
            "current_type_id": MISSING_ID,
            "amps": 1001,
            "voltage": -0.5,
            "power_kw": 1000.5,
            "quantity": 501,
            "reference": "r" * 101,
            "comments": "c" * 4001,
        }
    )
    assert sorted((p.field, p.code) for p in problems) == sorted(
        [
            ("charge_point_id", ProblemCode.UNKNOWN_REFERENCE),
            ("connection_type_id", ProblemCode.UNKNOWN_REFERENCE),
            ("status_type_id", ProblemCode.UNKNOWN_REFERENCE),
            ("level_id", ProblemCode.UNKNOWN_REFERENCE),
            ("current_type_id", ProblemCode.UNKNOWN_REFERENCE),
            ("amps", ProblemCode.OUT_OF_RANGE),
            ("voltage", ProblemCode.OUT_OF_RANGE),
            ("power_kw", ProblemCode.OUT_OF_RANGE),
            ("quantity", ProblemCode.OUT_OF_RANGE),
            ("reference", ProblemCode.TOO_LONG),
            ("comments", ProblemCode.TOO_LONG),
        ]
    )
    assert all(p.message for p in problems)


async def test_a_reference_added_later_is_accepted_at_once(
    empty_repository: Repository,
) -> None:
    """The per-process reference cache drops its lists when a reference list is written."""
    repository = empty_repository
    await seed_reference(repository)
    checker = Checker(repository)
    assert [p.code for p in await checker({"connection_type_id": MISSING_ID})] == [
        ProblemCode.UNKNOWN_REFERENCE
    ]
    await repository.upsert_reference(
        ReferenceKind.CONNECTION_TYPE, [ConnectionTypeRecord(id=MISSING_ID, title="New")]
    )
    assert await checker({"connection_type_id": MISSING_ID}) == []
