"""The repository on each backend: upserts, reference lists, edits and their change log,
API keys. What only SQLite does (pragmas, query plans) is in test_repository_sqlite."""

from __future__ import annotations

import sqlite3

import pytest

from gql.power import effective_power_kw
from gql.repository.base import Repository, WriteConflict
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
from gql.seeding import seed_reference
from tests.databases import fetch_raw


async def test_foreign_keys_are_enforced(
    empty_repository: Repository, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        # The Protocol's error for a broken constraint is WriteConflict, as PostgreSQL's
        # write_sites raises; SQLite's write_sites runs in _transaction, not _write, and
        # lets sqlite3.IntegrityError through.
        request.applymarker(
            pytest.mark.xfail(raises=sqlite3.IntegrityError, strict=True, reason="see above")
        )
    with pytest.raises(WriteConflict):
        await empty_repository.write_sites(
            [SiteRecord(id=1)],
            [ConnectionWrite(id=1, charge_point_id=1, connection_type_id=12345)],
            replace_site_connections=False,
        )
    # The failed transaction left nothing behind, not even the site.
    page = await empty_repository.connection_page(
        PageQuery(filter=ConnectionFilter(), order=SortOrder.ID_ASC, limit=10)
    )
    assert page == []


async def test_upserts_count_only_real_changes(empty_repository: Repository) -> None:
    await seed_reference(empty_repository)
    sites = [SiteRecord(id=7, title="Depot")]
    connections = [
        ConnectionWrite(id=70, charge_point_id=7, connection_type_id=25, amps=32, voltage=230),
        ConnectionWrite(id=71, charge_point_id=7, power_kw=50, current_type_id=30),
    ]
    first = await empty_repository.write_sites(sites, connections, replace_site_connections=True)
    assert (first.sites.written, first.connections.written) == (1, 2)
    again = await empty_repository.write_sites(sites, connections, replace_site_connections=True)
    assert (again.sites.written, again.connections.written) == (0, 0)
    changed = [connections[0], ConnectionWrite(id=71, charge_point_id=7, power_kw=150)]
    third = await empty_repository.write_sites(sites, changed, replace_site_connections=True)
    assert third.connections.written == 1
    rows = await empty_repository.connections_by_ids([70, 71])
    assert rows[70].power_kw == 7.4  # derived on write from 32 A x 230 V
    assert rows[71].power_kw == 150


async def test_replacing_a_site_removes_its_dropped_connections(
    empty_repository: Repository,
) -> None:
    await seed_reference(empty_repository)
    site = [SiteRecord(id=1)]
    both = [ConnectionWrite(id=10, charge_point_id=1), ConnectionWrite(id=11, charge_point_id=1)]
    await empty_repository.write_sites(site, both, replace_site_connections=True)
    await empty_repository.write_sites(site, both[:1], replace_site_connections=True)
    assert set(await empty_repository.connections_by_ids([10, 11])) == {10}


async def test_reference_writes_bump_the_generation(empty_repository: Repository) -> None:
    before = empty_repository.reference_generation
    await empty_repository.upsert_reference(
        ReferenceKind.STATUS_TYPE, [StatusTypeRecord(id=1, title="x")]
    )
    assert empty_repository.reference_generation > before
    rows = await empty_repository.reference_rows(ReferenceKind.STATUS_TYPE)
    assert rows == [StatusTypeRecord(id=1, title="x")]


async def test_booleans_come_back_as_booleans(empty_repository: Repository) -> None:
    await seed_reference(empty_repository)
    statuses = await empty_repository.reference_rows(ReferenceKind.STATUS_TYPE)
    unknown = next(s for s in statuses if s.id == 0)
    assert isinstance(unknown, StatusTypeRecord)
    assert unknown.is_operational is None
    assert unknown.is_user_selectable is True


# -- connection edits and their change log -----------------------------------------------


async def _site(repository: Repository) -> int:
    await seed_reference(repository)
    await repository.write_sites([SiteRecord(id=5)], [], replace_site_connections=False)
    return 5


async def test_given_power_is_kept_apart_from_the_derived_one(
    empty_repository: Repository, database_url: str
) -> None:
    site = await _site(empty_repository)
    derived = await empty_repository.create_connection(
        {"charge_point_id": site, "amps": 16, "voltage": 230}, actor="a"
    )
    given = await empty_repository.create_connection(
        {"charge_point_id": site, "amps": 16, "voltage": 230, "power_kw": 7}, actor="a"
    )
    # A later change of amps re-derives a derived power and keeps a given one.
    for change in (derived, given):
        updated = await empty_repository.update_connection(
            change.connection_id, {"amps": 32}, actor="a"
        )
        assert updated is not None
        assert updated.after is not None
        assert updated.after.amps == 32
    after = await empty_repository.connections_by_ids([derived.connection_id, given.connection_id])
    assert after[derived.connection_id].power_kw == effective_power_kw(None, 32, 230.0, None)
    assert after[given.connection_id].power_kw == 7
    sources = dict(fetch_raw(database_url, "SELECT id, power_kw_source FROM connection_info"))
    assert sources == {derived.connection_id: None, given.connection_id: 7}


async def test_an_update_changes_only_what_it_names(empty_repository: Repository) -> None:
    site = await _site(empty_repository)
    created = await empty_repository.create_connection(
        {"charge_point_id": site, "amps": 16, "quantity": 2, "comments": "x"}, actor="a"
    )
    change = await empty_repository.update_connection(
        created.connection_id, {"comments": None, "quantity": 3}, actor="b"
    )
    assert change is not None
    assert change.before == created.after
    assert change.after is not None
    assert (change.after.amps, change.after.quantity, change.after.comments) == (16, 3, None)
    status = await empty_repository.update_connection(
        created.connection_id, {"status_type_id": 50}, actor="c", action=ChangeAction.SET_STATUS
    )
    assert status is not None
    assert status.action is ChangeAction.SET_STATUS


async def test_edits_of_a_missing_connection_write_nothing(
    empty_repository: Repository, database_url: str
) -> None:
    await _site(empty_repository)
    assert await empty_repository.update_connection(404, {"amps": 1}, actor="a") is None
    assert await empty_repository.delete_connection(404, actor="a") is None
    assert await empty_repository.connection_changes(404, limit=10) == []
    assert fetch_raw(database_url, "SELECT count(*) FROM connection_change") == [(0,)]


async def test_history_is_newest_first_and_outlives_the_row(
    empty_repository: Repository,
) -> None:
    site = await _site(empty_repository)
    first = await empty_repository.create_connection({"charge_point_id": site}, actor="a")
    other = await empty_repository.create_connection({"charge_point_id": site}, actor="a")
    connection_id = first.connection_id
    for n in range(3):
        await empty_repository.update_connection(connection_id, {"amps": n}, actor="a")
        await empty_repository.update_connection(other.connection_id, {"amps": n}, actor="a")
    deleted = await empty_repository.delete_connection(connection_id, actor="z")
    assert deleted is not None
    assert deleted.after is None
    assert deleted.before is not None
    assert deleted.before.amps == 2
    assert await empty_repository.connections_by_ids([connection_id]) == {}
    changes = await empty_repository.connection_changes(connection_id, limit=100)
    assert [c.action for c in changes] == [
        ChangeAction.DELETE,
        *[ChangeAction.UPDATE] * 3,
        ChangeAction.CREATE,
    ]
    assert [c.id for c in changes] == sorted((c.id for c in changes), reverse=True)
    assert {c.connection_id for c in changes} == {connection_id}
    assert changes[0] == deleted
    assert changes[-1] == first
    page = await empty_repository.connection_changes(connection_id, limit=2)
    assert page == changes[:2]
    rest = await empty_repository.connection_changes(
        connection_id, limit=100, before_change=page[-1].id
    )
    assert rest == changes[2:]


async def test_api_keys_are_stored_listed_and_revoked(
    empty_repository: Repository,
) -> None:
    key = ApiKeyRecord("0123456789ab", "ci", b"s" * 16, b"h" * 32, False, "2025-01-01T00:00:00Z")
    await empty_repository.add_api_key(key)
    assert await empty_repository.api_key("0123456789ab") == key
    assert await empty_repository.api_key("ffffffffffff") is None
    assert await empty_repository.api_keys() == [key]
    assert await empty_repository.revoke_api_key("ci") is True
    assert await empty_repository.revoke_api_key("ci") is False
    assert await empty_repository.revoke_api_key("nobody") is False
    revoked = await empty_repository.api_key("0123456789ab")
    assert revoked is not None
    assert revoked.revoked_at is not None
    with pytest.raises(WriteConflict):  # names are unique
        await empty_repository.add_api_key(
            ApiKeyRecord("ba9876543210", "ci", b"t" * 16, b"i" * 32, True, "2025-01-02T00:00:00Z")
        )
