"""`ocm-gql copy`: a seeded database moved to another (SQLite or PostgreSQL) answers every
query as before, and the command reports, refuses and replaces as documented."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gql.copying import CopyError, TargetNotEmpty, copy_database, same_database
from gql.data.seeding import seed_demo, seed_reference
from gql.domain.keys import create_key
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.models import (
    ChangeAction,
    ConnectionFilter,
    ConnectionRecord,
    PageQuery,
    SortOrder,
    SyncCheckpoint,
)
from gql.repository.rows import TABLES
from gql.repository.url import DatabaseUrl
from gql.settings import Settings
from tests.conftest import REPO_ROOT, GraphQLRunner, run_cli
from tests.databases import BACKENDS, throwaway_database
from tests.queries import EVERY_CONNECTION_FIELD, EVERY_SNAPSHOT_FIELD

ORDERS = ("ID_ASC", "ID_DESC", "POWER_KW_ASC", "POWER_KW_DESC")
PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String,
           $filter: ConnectionInfoFilter, $orderBy: ConnectionInfoOrder) {
  connectionInfos(first: $first, after: $after, last: $last, before: $before,
                  filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { startCursor endCursor hasNextPage hasPreviousPage }
    edges { cursor node { FIELDS } }
  }
}
""".replace("FIELDS", EVERY_CONNECTION_FIELD)
REFERENCE_LISTS = """{
  connectionTypes { id title formalName isDiscontinued isObsolete }
  statusTypes { id title isOperational isUserSelectable }
  levels { id title comments isFastChargeCapable }
  currentTypes { id title description }
}"""
ONE = "query One($id: Int!) { connectionInfo(id: $id) { FIELDS } }".replace(
    "FIELDS", EVERY_CONNECTION_FIELD
)
HISTORY = """
query History($id: Int!, $first: Int, $after: String) {
  connectionInfoHistory(id: $id, first: $first, after: $after) {
    pageInfo { endCursor hasNextPage hasPreviousPage }
    edges { cursor node { id connectionInfoId action actor changedAt
      before { FIELDS } after { FIELDS } } }
  }
}
""".replace("FIELDS", EVERY_SNAPSHOT_FIELD)
ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on ConnectionInfo { id powerKw chargePointId }
    ... on ConnectionType { id title }
    ... on StatusType { id title }
    ... on LevelType { id title }
    ... on SupplyType { id title }
  }
}
"""
FILTERS: tuple[dict[str, Any], ...] = (
    {"minPowerKw": 20},
    {"maxPowerKw": 11, "isOperational": True},
    {"connectionTypeIds": [25, 33], "isFastChargeCapable": False},
    {"statusTypeIds": [0, 50], "currentTypeIds": [20, 30]},
    {"levelIds": [3], "minPowerKw": 7, "maxPowerKw": 150},
)


@dataclass(frozen=True, slots=True)
class Changed:
    """What the seeding changed, for the queries that look at it."""

    ids: list[int]
    sites: list[int]


async def _seed(url: str) -> Changed:
    """Demo data, a key, and mutations of every kind, so every table holds rows."""
    repository = await open_repository(Settings(), DatabaseUrl.parse(url))
    try:
        await seed_reference(repository)
        await seed_demo(repository, 400, seed=7)
        await create_key(repository, "alice", read_only=False)
        await create_key(repository, "reader", read_only=True)
        await repository.revoke_api_key("reader")
        first = await _first(repository, 6)
        sites = [record.charge_point_id or 0 for record in first[:2]]
        created = await repository.create_connection(
            {"charge_point_id": sites[0], "connection_type_id": 25, "power_kw": 22.0},
            actor="alice",
        )
        assert created.after is not None
        new_id = created.after.id
        await repository.update_connection(new_id, {"amps": 32, "voltage": 400}, actor="alice")
        await repository.update_connection(first[0].id, {"comments": "moved"}, actor="alice")
        await repository.update_connection(first[0].id, {"power_kw": None}, actor="alice")
        await repository.update_connection(
            first[1].id, {"status_type_id": 0}, actor="bob", action=ChangeAction.SET_STATUS
        )
        await repository.delete_connection(first[2].id, actor="alice")
        # Where a sync of OCM's API got to, which a copy carries too.
        await repository.write_synced_sites(
            [], [], SyncCheckpoint("EE", None, "2026-01-01T00:00:00Z", 23177)
        )
        return Changed([new_id, *(record.id for record in first[:4])], sites)
    finally:
        await repository.close()


async def _first(repository: Repository, count: int) -> list[ConnectionRecord]:
    return await repository.connection_page(
        PageQuery(filter=ConnectionFilter(), order=SortOrder.ID_ASC, limit=count)
    )


async def _answers(runner: GraphQLRunner, changed: Changed) -> list[Any]:
    """The full answers of a representative set of queries; the cursors they follow come
    from the answers themselves, so a wrong cursor shows as a different next page."""
    answers: list[Any] = []

    async def ask(query: str, variables: dict[str, Any] | None = None) -> Any:
        result = await runner.execute(query, variables)
        answers.append((query, variables, result.data, result.errors))
        assert result.errors is None, result.errors
        return result.data

    await ask(REFERENCE_LISTS)
    for order in ORDERS:
        after = None
        while True:
            data = await ask(PAGE, {"first": 60, "after": after, "orderBy": order})
            page = data["connectionInfos"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        # Backward from the last page's end, and a page between two cursors.
        await ask(PAGE, {"last": 45, "before": after, "orderBy": order})
        edges = page["edges"]
        if len(edges) > 2:
            await ask(
                PAGE,
                {
                    "first": 100,
                    "after": edges[0]["cursor"],
                    "before": edges[-1]["cursor"],
                    "orderBy": order,
                },
            )
        for connection_filter in FILTERS:
            data = await ask(PAGE, {"first": 25, "filter": connection_filter, "orderBy": order})
            assert data["connectionInfos"]["totalCount"] > 25, connection_filter  # 2 pages
            cursor = data["connectionInfos"]["pageInfo"]["endCursor"]
            if cursor is not None:
                await ask(
                    PAGE,
                    {"first": 25, "after": cursor, "filter": connection_filter, "orderBy": order},
                )
    await ask(PAGE, {"first": 50, "filter": {"chargePointIds": changed.sites}})
    for connection_id in changed.ids:
        await ask(ONE, {"id": connection_id})
        data = await ask(HISTORY, {"id": connection_id, "first": 1})
        cursor = data["connectionInfoHistory"]["pageInfo"]["endCursor"]
        await ask(HISTORY, {"id": connection_id, "first": 10, "after": cursor})
    representations = [
        *({"__typename": "ConnectionInfo", "id": i} for i in [*changed.ids, 10**6]),
        {"__typename": "ConnectionType", "id": 25},
        {"__typename": "StatusType", "id": 0},
        {"__typename": "LevelType", "id": 3},
        {"__typename": "SupplyType", "id": 99},
    ]
    await ask(ENTITIES, {"representations": representations})
    return answers


async def _answers_of(url: str, changed: Changed) -> list[Any]:
    settings = Settings()
    repository = await open_repository(settings, DatabaseUrl.parse(url))
    try:
        return await _answers(GraphQLRunner(repository, settings), changed)  # type: ignore[arg-type]
    finally:
        await repository.close()


@pytest.fixture
async def seeded(tmp_path: Path) -> tuple[str, Changed]:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    return url, await _seed(url)


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend (made outside the test's event loop)."""
    folder = tmp_path / "target"
    folder.mkdir()
    with throwaway_database(request.param, folder) as url:
        yield url


async def test_a_copy_answers_every_query_as_the_source(
    tmp_path: Path, seeded: tuple[str, Changed], target: str
) -> None:
    source, changed = seeded
    before = await _answers_of(source, changed)
    assert len(before) > 80
    # SQLite to the backend, and back again to a new SQLite file.
    report = await copy_database(Settings(), DatabaseUrl.parse(source), DatabaseUrl.parse(target))
    assert list(report.rows) == [table.name for table in TABLES]
    assert all(report.rows.values()), report.rows  # every table held rows
    assert report.rows["api_key"] == 2
    assert report.rows["connection_change"] == 6
    assert await _answers_of(target, changed) == before
    back = f"sqlite:///{tmp_path / 'back.db'}"
    again = await copy_database(Settings(), DatabaseUrl.parse(target), DatabaseUrl.parse(back))
    assert again.rows == report.rows
    assert await _answers_of(back, changed) == before
    await _new_rows_get_later_ids(target)


async def _new_rows_get_later_ids(url: str) -> None:
    repository = await open_repository(Settings(), DatabaseUrl.parse(url))
    try:
        keys = await repository.api_keys()
        assert [key.name for key in keys] == ["alice", "reader"]
        assert keys[1].revoked_at is not None
        copied = {t.name: t for t in TABLES}
        ids = [
            row[0]
            async for batch in repository.dump_table(copied["connection_info"], batch_size=10_000)
            for row in batch
        ]
        changes = [
            row[0]
            async for batch in repository.dump_table(copied["connection_change"], batch_size=100)
            for row in batch
        ]
        site = (await _first(repository, 1))[0].charge_point_id
        created = await repository.create_connection({"charge_point_id": site}, actor="alice")
        assert created.after is not None
        assert created.after.id > max(ids)
        assert created.id > max(changes)
    finally:
        await repository.close()


async def test_a_failed_copy_leaves_the_target_as_it_was(
    tmp_path: Path, seeded: tuple[str, Changed]
) -> None:
    source, _changed = seeded
    target = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'target.db'}")
    repository = await open_repository(Settings(), target)
    try:
        await seed_reference(repository)
    finally:
        await repository.close()
    with pytest.raises(TargetNotEmpty, match="is not empty"):
        await copy_database(Settings(), DatabaseUrl.parse(source), target)
    # A target that holds other rows is replaced whole, in the same transaction.
    report = await copy_database(Settings(), DatabaseUrl.parse(source), target, replace=True)
    assert report.rows["connection_info"] == 400


def test_the_same_database_is_recognised_by_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def same(a: str, b: str) -> bool:
        return same_database(DatabaseUrl.parse(a), DatabaseUrl.parse(b))

    monkeypatch.chdir(tmp_path)
    assert same("sqlite:///a.db", f"sqlite:///{tmp_path / 'a.db'}")
    assert same("sqlite:///a.db", "sqlite:///./x/../a.db")
    assert not same("sqlite:///a.db", "sqlite:///b.db")
    assert same("postgresql://u@localhost/db", "postgres://u:pw@127.0.0.1:5432/db")
    assert same("postgresql://u@h:5433", "postgresql://u@H:5433/u")
    assert not same("postgresql://u@h/db", "postgresql://u@h:5433/db")
    assert not same("postgresql://u@h/db", "postgresql://u@h/other")
    assert not same("postgresql://u@h/db", "sqlite:///db")


async def test_refusals_name_the_database_without_writing(tmp_path: Path) -> None:
    source = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'missing.db'}")
    target = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'target.db'}")
    with pytest.raises(CopyError, match=r"no database at .*missing\.db to copy from"):
        await copy_database(Settings(), source, target)
    with pytest.raises(CopyError, match="are the same database"):
        await copy_database(Settings(), target, target)
    assert not (tmp_path / "missing.db").exists()
    assert not (tmp_path / "target.db").exists()


def _copy(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OCM_GQL_")}
    return subprocess.run(
        [sys.executable, "-m", "gql", "copy", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment,
        timeout=120,
    )


def test_the_command_reports_refuses_and_replaces(tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    run_cli("seed", "--db", str(source), "--demo", "50")
    target = f"sqlite:///{tmp_path / 'target.db'}"
    copied = _copy("--from", f"sqlite:///{source}", "--to", target)
    assert copied.returncode == 0, copied.stderr
    lines = copied.stdout.splitlines()
    assert lines[:12] == [
        "connection_type: 42 rows",
        "status_type: 10 rows",
        "level_type: 3 rows",
        "supply_type: 3 rows",
        "operator: 684 rows",
        "usage_type: 8 rows",
        "country: 250 rows",
        lines[7],
        "connection_info: 50 rows",
        "api_key: 0 rows",
        "connection_change: 0 rows",
        "sync_state: 0 rows",
    ]
    sites = int(lines[7].removeprefix("charge_point: ").removesuffix(" rows"))
    assert 0 < sites <= 50
    assert lines[12].startswith(
        f"copied {108 + 942 + sites} rows from {source} to {tmp_path / 'target.db'} in "
    )
    refused = _copy("--from", f"sqlite:///{source}", "--to", target)
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr == (
        f"ocm-gql: error: the target database {tmp_path / 'target.db'} is not empty; "
        "pass --replace to replace everything in it\n"
    )
    replaced = _copy("--replace", "--from", f"sqlite:///{source}", "--to", target)
    assert replaced.returncode == 0, replaced.stderr
    assert replaced.stdout.splitlines()[:-1] == lines[:-1]
    onto_itself = _copy("--from", f"sqlite:///{source}", "--to", f"sqlite:///{source}")
    assert onto_itself.returncode == 2
    assert onto_itself.stderr == (
        f"ocm-gql: error: the source and the target are the same database ({source})\n"
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("mysql://root:sekret@h/db", "is not a database URL"),
        ("postgresql://postgres:sekret@127.0.0.1:1/x", "cannot use the source database"),
    ],
)
def test_bad_urls_are_one_line_without_the_password(
    tmp_path: Path, source: str, expected: str
) -> None:
    result = _copy("--from", source, "--to", f"sqlite:///{tmp_path / 't.db'}")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("ocm-gql: error: ")
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "sekret" not in result.stderr


async def test_a_target_locked_by_another_process_is_one_error_and_stays_empty(
    tmp_path: Path, seeded: tuple[str, Changed]
) -> None:
    source, _changed = seeded
    target = DatabaseUrl.parse(f"sqlite:///{tmp_path / 'target.db'}")
    await (await open_repository(Settings(), target)).close()  # created and migrated
    holder = sqlite3.connect(target.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's write lock
    try:
        with pytest.raises(CopyError, match=r"^nothing was copied to .*target\.db: ") as refused:
            await copy_database(Settings(busy_timeout_ms=100), DatabaseUrl.parse(source), target)
        assert "\n" not in str(refused.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    repository = await open_repository(Settings(), target)
    try:
        assert await repository.is_empty()
    finally:
        await repository.close()
