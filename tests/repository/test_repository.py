"""The repository Protocol, on every backend: upserts, pages, edits and their change log,
keys, and moving whole tables."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from gql.data.seeding import seed_demo, seed_reference
from gql.domain.power import effective_power_kw
from gql.repository.base import Repository, WriteConflict
from gql.repository.factory import open_repository
from gql.repository.models import (
    ApiKeyRecord,
    ChangeAction,
    ConnectionFilter,
    ConnectionWrite,
    PageQuery,
    ReferenceKind,
    SiteRecord,
    SortOrder,
    StatusTypeRecord,
)
from gql.repository.rows import TABLES, Table
from gql.settings import Settings

_TABLE = {table.name: table for table in TABLES}


async def _rows(repository: Repository, table: str) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    async for batch in repository.dump_table(_TABLE[table], batch_size=100):
        found.extend(batch)
    return found


async def test_a_broken_reference_writes_nothing(repository: Repository) -> None:
    with pytest.raises(WriteConflict):
        await repository.write_sites(
            [SiteRecord(id=1)],
            [ConnectionWrite(id=1, charge_point_id=1, connection_type_id=12345)],
            replace_site_connections=False,
        )
    # The failed transaction left nothing behind, not even the site.
    assert await repository.is_empty()


async def test_upserts_count_only_real_changes(repository: Repository) -> None:
    await seed_reference(repository)
    sites = [SiteRecord(id=7, title="Depot")]
    connections = [
        ConnectionWrite(id=70, charge_point_id=7, connection_type_id=25, amps=32, voltage=230),
        ConnectionWrite(id=71, charge_point_id=7, power_kw=50, current_type_id=30),
    ]
    first = await repository.write_sites(sites, connections, replace_site_connections=True)
    assert (first.sites.written, first.connections.written) == (1, 2)
    again = await repository.write_sites(sites, connections, replace_site_connections=True)
    assert (again.sites.written, again.connections.written) == (0, 0)
    changed = [connections[0], ConnectionWrite(id=71, charge_point_id=7, power_kw=150)]
    third = await repository.write_sites(sites, changed, replace_site_connections=True)
    assert third.connections.written == 1
    rows = await repository.connections_by_ids([70, 71])
    assert rows[70].power_kw == 7.4  # derived on write from 32 A x 230 V
    assert rows[71].power_kw == 150


async def test_a_repeated_id_in_one_batch_is_written_as_its_last_version(
    repository: Repository,
) -> None:
    await seed_reference(repository)
    repeated = [
        ConnectionWrite(id=80, charge_point_id=8, amps=16),
        ConnectionWrite(id=80, charge_point_id=8, amps=32),
    ]
    await repository.write_sites([SiteRecord(id=8)], repeated, replace_site_connections=True)
    assert (await repository.connections_by_ids([80]))[80].amps == 32


async def test_replacing_a_site_removes_its_dropped_connections(repository: Repository) -> None:
    await seed_reference(repository)
    sites = [SiteRecord(id=1), SiteRecord(id=2)]
    both = [ConnectionWrite(id=10, charge_point_id=1), ConnectionWrite(id=11, charge_point_id=1)]
    other = [ConnectionWrite(id=20, charge_point_id=2)]
    await repository.write_sites(sites, [*both, *other], replace_site_connections=True)
    # Site 1 drops connection 11 and takes 20 from site 2, which now lists nothing.
    moved = [both[0], ConnectionWrite(id=20, charge_point_id=1)]
    await repository.write_sites(sites, moved, replace_site_connections=True)
    stored = await repository.connections_by_ids([10, 11, 20])
    assert {i: c.charge_point_id for i, c in stored.items()} == {10: 1, 20: 1}


async def test_reference_writes_bump_the_generation(repository: Repository) -> None:
    before = repository.reference_generation
    await repository.upsert_reference(
        ReferenceKind.STATUS_TYPE, [StatusTypeRecord(id=1, title="x")]
    )
    assert repository.reference_generation > before
    rows = await repository.reference_rows(ReferenceKind.STATUS_TYPE)
    assert rows == [StatusTypeRecord(id=1, title="x")]


async def test_booleans_come_back_as_booleans(repository: Repository) -> None:
    await seed_reference(repository)
    statuses = await repository.reference_rows(ReferenceKind.STATUS_TYPE)
    unknown = next(s for s in statuses if s.id == 0)
    assert isinstance(unknown, StatusTypeRecord)
    assert unknown.is_operational is None
    assert unknown.is_user_selectable is True


@pytest.mark.parametrize("order", list(SortOrder))
async def test_a_page_is_one_statement_whatever_its_size(
    repository: Repository, order: SortOrder
) -> None:
    await seed_reference(repository)
    await seed_demo(repository, 1500, seed=3)
    for limit in (1, 100, 1000):
        before = repository.statement_count
        page = await repository.connection_page(
            PageQuery(filter=ConnectionFilter(min_power_kw=3), order=order, limit=limit)
        )
        assert len(page) == limit
        assert repository.statement_count - before == 1


async def test_rows_without_power_come_last_in_both_power_orders(repository: Repository) -> None:
    await seed_reference(repository)
    connections = [
        ConnectionWrite(id=1, charge_point_id=1, power_kw=50),
        ConnectionWrite(id=2, charge_point_id=1),
        ConnectionWrite(id=3, charge_point_id=1, power_kw=7),
        ConnectionWrite(id=4, charge_point_id=1),
        ConnectionWrite(id=5, charge_point_id=1, power_kw=50),
    ]
    await repository.write_sites([SiteRecord(id=1)], connections, replace_site_connections=True)

    async def ids(order: SortOrder, backward: bool = False) -> list[int]:
        page = await repository.connection_page(
            PageQuery(ConnectionFilter(), order, limit=10, backward=backward)
        )
        return [c.id for c in page]

    assert await ids(SortOrder.POWER_KW_ASC) == [3, 1, 5, 2, 4]
    assert await ids(SortOrder.POWER_KW_DESC) == [1, 5, 3, 2, 4]
    assert await ids(SortOrder.POWER_KW_DESC, backward=True) == [4, 2, 3, 5, 1]


# -- connection edits and their change log -----------------------------------------------


async def _site(repository: Repository) -> int:
    await seed_reference(repository)
    await repository.write_sites([SiteRecord(id=5)], [], replace_site_connections=False)
    return 5


async def test_a_create_writes_the_row_and_its_log_entry(repository: Repository) -> None:
    site = await _site(repository)
    statements: list[str] = []
    repository.add_statement_listener(statements.append)  # type: ignore[attr-defined]
    change = await repository.create_connection(
        {"charge_point_id": site, "amps": 32, "voltage": 230, "current_type_id": 10},
        actor="alice",
    )
    assert change.action is ChangeAction.CREATE
    assert change.actor == "alice"
    assert change.before is None
    assert change.after is not None
    assert change.after.power_kw == effective_power_kw(None, 32, 230.0, 10)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", change.changed_at)
    assert [s.split(" (")[0] for s in statements if s.startswith("INSERT")] == [
        "INSERT INTO connection_info",
        "INSERT INTO connection_change",
    ]
    stored = await repository.connections_by_ids([change.connection_id])
    assert stored[change.connection_id] == change.after
    assert [row[0] for row in await _rows(repository, "connection_change")] == [change.id]


async def test_a_created_connection_takes_the_id_after_the_largest(
    repository: Repository,
) -> None:
    await seed_reference(repository)
    given = [ConnectionWrite(id=1_000_000_007, charge_point_id=5)]
    await repository.write_sites([SiteRecord(id=5)], given, replace_site_connections=False)
    created = await repository.create_connection({"charge_point_id": 5}, actor="a")
    assert created.connection_id == 1_000_000_008


async def test_given_power_is_kept_apart_from_the_derived_one(repository: Repository) -> None:
    site = await _site(repository)
    derived = await repository.create_connection(
        {"charge_point_id": site, "amps": 16, "voltage": 230}, actor="a"
    )
    given = await repository.create_connection(
        {"charge_point_id": site, "amps": 16, "voltage": 230, "power_kw": 7}, actor="a"
    )
    # A later change of amps re-derives a derived power and keeps a given one.
    for change in (derived, given):
        updated = await repository.update_connection(change.connection_id, {"amps": 32}, actor="a")
        assert updated is not None
        assert updated.after is not None
        assert updated.after.amps == 32
    after = await repository.connections_by_ids([derived.connection_id, given.connection_id])
    assert after[derived.connection_id].power_kw == effective_power_kw(None, 32, 230.0, None)
    assert after[given.connection_id].power_kw == 7
    table = _TABLE["connection_info"]
    source_at = table.columns.index("power_kw_source")
    sources = {row[0]: row[source_at] for row in await _rows(repository, "connection_info")}
    assert sources == {derived.connection_id: None, given.connection_id: 7}


async def test_an_update_changes_only_what_it_names(repository: Repository) -> None:
    site = await _site(repository)
    created = await repository.create_connection(
        {"charge_point_id": site, "amps": 16, "quantity": 2, "comments": "x"}, actor="a"
    )
    change = await repository.update_connection(
        created.connection_id, {"comments": None, "quantity": 3}, actor="b"
    )
    assert change is not None
    assert change.before == created.after
    assert change.after is not None
    assert (change.after.amps, change.after.quantity, change.after.comments) == (16, 3, None)
    status = await repository.update_connection(
        created.connection_id, {"status_type_id": 50}, actor="c", action=ChangeAction.SET_STATUS
    )
    assert status is not None
    assert status.action is ChangeAction.SET_STATUS
    unchanged = await repository.update_connection(
        created.connection_id, {"quantity": 3}, actor="d"
    )
    assert unchanged == status.after  # nothing written, nothing logged
    assert len(await _rows(repository, "connection_change")) == 3


async def test_edits_of_a_missing_connection_write_nothing(repository: Repository) -> None:
    await _site(repository)
    assert await repository.update_connection(404, {"amps": 1}, actor="a") is None
    assert await repository.delete_connection(404, actor="a") is None
    assert await repository.connection_changes(404, limit=10) == []
    assert await _rows(repository, "connection_change") == []


async def test_history_is_newest_first_and_outlives_the_row(repository: Repository) -> None:
    site = await _site(repository)
    first = await repository.create_connection({"charge_point_id": site}, actor="a")
    other = await repository.create_connection({"charge_point_id": site}, actor="a")
    connection_id = first.connection_id
    for n in range(3):
        await repository.update_connection(connection_id, {"amps": n}, actor="a")
        await repository.update_connection(other.connection_id, {"amps": n}, actor="a")
    deleted = await repository.delete_connection(connection_id, actor="z")
    assert deleted is not None
    assert deleted.after is None
    assert deleted.before is not None
    assert deleted.before.amps == 2
    assert await repository.connections_by_ids([connection_id]) == {}
    changes = await repository.connection_changes(connection_id, limit=100)
    assert [c.action for c in changes] == [
        ChangeAction.DELETE,
        *[ChangeAction.UPDATE] * 3,
        ChangeAction.CREATE,
    ]
    assert [c.id for c in changes] == sorted((c.id for c in changes), reverse=True)
    assert {c.connection_id for c in changes} == {connection_id}
    assert changes[0] == deleted
    assert changes[-1] == first
    page = await repository.connection_changes(connection_id, limit=2)
    assert page == changes[:2]
    rest = await repository.connection_changes(connection_id, limit=100, before_change=page[-1].id)
    assert rest == changes[2:]


async def test_two_processes_editing_one_connection_lose_no_update(
    repository: Repository, database_url: str
) -> None:
    """Two repositories (each with its own connections, as two server processes have)
    edit different fields of one row at once: every edit reads the row as the previous
    edit left it, so the change log is one unbroken chain and both fields end as last set."""
    site = await _site(repository)
    created = await repository.create_connection({"charge_point_id": site}, actor="a")
    connection_id = created.connection_id
    other = await open_repository(Settings(database_url=database_url))
    rounds = 15
    try:

        async def edit(writer: Repository, field: str, actor: str) -> None:
            for n in range(1, rounds + 1):
                await writer.update_connection(connection_id, {field: n}, actor=actor)

        await asyncio.gather(edit(repository, "amps", "one"), edit(other, "quantity", "two"))
    finally:
        await other.close()
    changes = await repository.connection_changes(connection_id, limit=1000)
    changes.reverse()
    assert len(changes) == 1 + 2 * rounds
    for earlier, later in itertools.pairwise(changes):
        assert later.before == earlier.after, (earlier, later)
    final = (await repository.connections_by_ids([connection_id]))[connection_id]
    assert (final.amps, final.quantity) == (rounds, rounds)


async def test_api_keys_are_stored_listed_and_revoked(repository: Repository) -> None:
    key = ApiKeyRecord("0123456789ab", "ci", b"s" * 16, b"h" * 32, False, "2025-01-01T00:00:00Z")
    await repository.add_api_key(key)
    assert await repository.api_key("0123456789ab") == key
    assert await repository.api_key("ffffffffffff") is None
    assert await repository.api_keys() == [key]
    assert await repository.revoke_api_key("ci") is True
    assert await repository.revoke_api_key("ci") is False
    assert await repository.revoke_api_key("nobody") is False
    revoked = await repository.api_key("0123456789ab")
    assert revoked is not None
    assert revoked.revoked_at is not None
    with pytest.raises(WriteConflict):  # names are unique
        await repository.add_api_key(
            ApiKeyRecord("ba9876543210", "ci", b"t" * 16, b"i" * 32, True, "2025-01-02T00:00:00Z")
        )


# -- moving whole tables -------------------------------------------------------------------


async def test_dumped_tables_load_back_whole_and_new_ids_follow_them(
    repository: Repository, database_url: str
) -> None:
    await seed_reference(repository)
    await seed_demo(repository, 300, seed=2)
    created = await repository.create_connection({"charge_point_id": 1_000_000_001}, actor="a")
    await repository.update_connection(created.connection_id, {"amps": 10}, actor="a")
    await repository.add_api_key(
        ApiKeyRecord("0123456789ab", "ci", b"s" * 16, b"h" * 32, True, "2025-01-01T00:00:00Z")
    )
    dumped = {table.name: await _rows(repository, table.name) for table in TABLES}

    # Read whole before the load, which empties the very tables the dump reads.
    kept: list[tuple[Table, list[tuple[Any, ...]]]] = []
    for table in TABLES:
        async for batch in repository.dump_table(table, batch_size=64):
            kept.append((table, batch))

    async def batches() -> AsyncIterator[tuple[Table, list[tuple[Any, ...]]]]:
        for item in kept:
            yield item

    assert not await repository.is_empty()
    # Loading into the same database with replace: every table emptied, then refilled.
    written = await repository.load_tables(batches(), replace=True)
    assert written == {name: len(rows) for name, rows in dumped.items()}
    assert {table.name: await _rows(repository, table.name) for table in TABLES} == dumped
    change = await repository.create_connection({"charge_point_id": 1_000_000_001}, actor="a")
    assert change.connection_id == created.connection_id + 1
    assert change.id == max(row[0] for row in dumped["connection_change"]) + 1
