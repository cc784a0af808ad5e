"""The SQL statement metrics (ocm_gql_sql_statements_total and _duration_seconds, by
backend and kind) on both backends: what a request runs, counted by kind, and every
statement the repository runs observed once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Final

import pytest
from prometheus_client import REGISTRY

from gql.observability.metrics.database import KINDS
from gql.observability.statements import Backend, Kind, observed
from tests.conftest import GraphQLRunner, graphql_runner
from tests.test_statement_counts import FULL_PAGE

REFERENCE_LISTS: Final = (
    "{ connectionTypes { id } statusTypes { id } levels { id } currentTypes { id } }"
)


def _metric_backend(backend: str) -> str:
    return "postgresql" if backend == "postgres" else "sqlite"


class Deltas:
    """Statements (and duration observations) by kind since it was made."""

    def __init__(self, backend: str, runner: GraphQLRunner) -> None:
        self._backend = _metric_backend(backend)
        self._runner = runner
        self._before = self._now()
        self._statements_before = runner.repository.statement_count

    def _sample(self, name: str, kind: str) -> float:
        value = REGISTRY.get_sample_value(name, {"backend": self._backend, "kind": kind})
        return value or 0.0

    def _now(self) -> dict[str, tuple[float, float]]:
        return {
            kind: (
                self._sample("ocm_gql_sql_statements_total", kind),
                self._sample("ocm_gql_sql_statement_duration_seconds_count", kind),
            )
            for kind in KINDS
        }

    def by_kind(self) -> dict[str, int]:
        now = self._now()
        counted: dict[str, int] = {}
        for kind in KINDS:
            statements = now[kind][0] - self._before[kind][0]
            timed = now[kind][1] - self._before[kind][1]
            assert statements == timed, f"{kind}: {statements} counted, {timed} timed"
            if statements:
                counted[kind] = int(statements)
        # Every statement the repository ran was observed, once.
        ran = self._runner.repository.statement_count - self._statements_before
        assert sum(counted.values()) == ran, (counted, ran)
        return counted


@pytest.fixture
async def runner(demo_db: str) -> AsyncIterator[GraphQLRunner]:
    async with graphql_runner(demo_db) as running:
        yield running


@pytest.mark.parametrize("warm", [False, True], ids=["cold-cache", "warm-cache"])
async def test_a_page_is_one_page_and_one_count(
    backend: str, runner: GraphQLRunner, warm: bool
) -> None:
    if warm:
        await runner.data(REFERENCE_LISTS)
    deltas = Deltas(backend, runner)
    await runner.data(FULL_PAGE, {"first": 10, "order": "POWER_KW_DESC"})
    # As tests/test_statement_counts.py counts them: the page and its total, plus the
    # four reference lists while the cache is cold.
    expected = {"page": 1, "count": 1} if warm else {"page": 1, "count": 1, "other": 4}
    assert deltas.by_kind() == expected


async def test_lookups_by_id_are_one_batch(backend: str, runner: GraphQLRunner) -> None:
    await runner.data(REFERENCE_LISTS)
    aliases = " ".join(
        f"c{i}: connectionInfo(id: {1_000_000_000 + i}) {{ id connectionType {{ title }} }}"
        for i in range(1, 30)
    )
    deltas = Deltas(backend, runner)
    await runner.data(f"{{ {aliases} }}")
    assert deltas.by_kind() == {"batch": 1}


async def test_sites_with_their_connections_are_a_page_and_a_batch(
    backend: str, runner: GraphQLRunner
) -> None:
    deltas = Deltas(backend, runner)
    data = await runner.data("{ chargePoints(first: 20) { nodes { id connections { id } } } }")
    assert len(data["chargePoints"]["nodes"]) == 20
    assert deltas.by_kind() == {"page": 1, "batch": 1}


async def test_a_write_is_counted_as_writes(backend: str, runner: GraphQLRunner) -> None:
    deltas = Deltas(backend, runner)
    assert await runner.repository.revoke_api_key("nobody-by-this-name") is False
    # The UPDATE; SQLite's BEGIN IMMEDIATE and COMMIT are statements the repository sends
    # (asyncpg sends PostgreSQL's through its transaction, not as the repository's).
    assert deltas.by_kind() == {"write": 3 if backend == "sqlite" else 1}


async def test_a_failed_statement_is_still_counted() -> None:
    before = REGISTRY.get_sample_value(
        "ocm_gql_sql_statements_total", {"backend": "sqlite", "kind": "other"}
    )
    with pytest.raises(RuntimeError), observed(Backend.SQLITE, Kind.OTHER, "SELECT 1"):
        raise RuntimeError("the driver failed")
    after = REGISTRY.get_sample_value(
        "ocm_gql_sql_statements_total", {"backend": "sqlite", "kind": "other"}
    )
    assert after == (before or 0) + 1


def test_every_series_exists_before_any_statement() -> None:
    for backend in ("sqlite", "postgresql"):
        for kind in KINDS:
            labels = {"backend": backend, "kind": kind}
            assert REGISTRY.get_sample_value("ocm_gql_sql_statements_total", labels) is not None
            assert (
                REGISTRY.get_sample_value("ocm_gql_sql_statement_duration_seconds_count", labels)
                is not None
            )
