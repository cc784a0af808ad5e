"""The SQL statements a request runs never grow with the rows it returns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import graphql_runner

FULL_PAGE = """
query($first: Int!, $order: ConnectionInfoOrder) {
  connectionInfos(first: $first, orderBy: $order, filter: {minPowerKw: 0}) {
    totalCount
    edges { cursor node {
      id powerKw
      connectionType { id title } statusType { id title } level { id title }
      currentType { id title }
    } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


async def _statements(db: Path, query: str, variables: dict[str, object], *, warm: bool) -> int:
    """Statements one request runs, with the process's reference cache cold or warm."""
    async with graphql_runner(db) as runner:
        if warm:
            await runner.data(
                "{ connectionTypes { id } statusTypes { id } levels { id } currentTypes { id } }"
            )
        before = runner.repository.statement_count
        data = await runner.data(query, variables)
        assert data is not None
        return runner.repository.statement_count - before


@pytest.mark.parametrize("warm", [False, True], ids=["cold-cache", "warm-cache"])
@pytest.mark.parametrize("order", ["ID_ASC", "POWER_KW_DESC"])
async def test_page_of_10_and_of_1000_run_the_same_statements(
    demo_db: str, warm: bool, order: str
) -> None:
    small = await _statements(demo_db, FULL_PAGE, {"first": 10, "order": order}, warm=warm)
    large = await _statements(demo_db, FULL_PAGE, {"first": 1000, "order": order}, warm=warm)
    print(
        f"statements per request ({order}, {'warm' if warm else 'cold'}): "
        f"10 rows -> {small}, 1000 rows -> {large}"
    )
    assert small == large
    # Page + total count, plus one load per reference list while the cache is cold.
    assert large == (2 if warm else 6)


async def test_nested_types_are_loaded_only_when_selected(demo_db: str) -> None:
    ids_only = "query($first: Int!) { connectionInfos(first: $first) { nodes { id } } }"
    assert await _statements(demo_db, ids_only, {"first": 1000}, warm=False) == 1


async def test_lookups_by_id_are_batched(demo_db: str) -> None:
    aliases = " ".join(
        f"c{i}: connectionInfo(id: {1_000_000_000 + i}) {{ id connectionType {{ title }} }}"
        for i in range(1, 50)  # within the default alias limit (50)
    )
    assert await _statements(demo_db, f"{{ {aliases} }}", {}, warm=True) == 1
