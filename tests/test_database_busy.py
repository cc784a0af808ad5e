"""A write lock another process holds past the busy timeout: a coded, retryable error
(DATABASE_BUSY), never INTERNAL_SERVER_ERROR; once the lock is gone, the write goes in."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gql.broadcast import InProcessBroadcaster
from gql.data.seeding import seed_reference
from gql.domain.keys import create_key
from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.reference_cache import ReferenceCache
from gql.repository.base import Unavailable
from gql.repository.models import SiteRecord
from gql.repository.sqlite import SqliteRepository
from gql.settings import Settings

CREATE = """mutation($input: CreateConnectionInfoInput!) {
  createConnectionInfo(input: $input) { connectionInfo { id amps } userErrors { code } }
}"""


async def test_a_held_write_lock_is_database_busy_then_the_write_succeeds(
    tmp_path: Path,
) -> None:
    db = tmp_path / "busy.db"
    repository = await SqliteRepository.open(db, busy_timeout_ms=100)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        await seed_reference(repository)
        await repository.write_sites([SiteRecord(id=7)], [], replace_site_connections=False)
        key = await create_key(repository, "writer", read_only=False)
        settings = Settings(db=db, busy_timeout_ms=100)
        references = ReferenceCache(repository)

        async def create() -> tuple[object, list[dict[str, object]]]:
            context = Context.for_request(
                settings,
                repository,
                references,
                broadcaster=InProcessBroadcaster(),
                credential=key,
            )
            result = await schema.execute(
                CREATE,
                variable_values={"input": {"chargePointId": 7, "amps": 16}},
                context_value=context,
            )
            return result.data, [error.formatted for error in result.errors or ()]

        holder.execute("BEGIN IMMEDIATE")  # another process's write, holding the lock
        data, errors = await create()
        assert data is None
        assert len(errors) == 1
        assert errors[0]["extensions"] == {"code": "DATABASE_BUSY", "retryable": True}
        assert "busy" in str(errors[0]["message"])
        assert errors[0]["path"] == ["createConnectionInfo"]

        holder.execute("ROLLBACK")
        data, errors = await create()
        assert errors == []
        assert data == {
            "createConnectionInfo": {"connectionInfo": {"id": 1, "amps": 16}, "userErrors": []}
        }
    finally:
        holder.close()
        await repository.close()


async def test_the_repository_says_unavailable_and_stays_usable(tmp_path: Path) -> None:
    db = tmp_path / "unavailable.db"
    repository = await SqliteRepository.open(db, busy_timeout_ms=50)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(Unavailable, match="database is locked"):
            await repository.ping(writable=True)
        with pytest.raises(Unavailable):
            await repository.write_sites([SiteRecord(id=1)], [], replace_site_connections=False)
        holder.execute("ROLLBACK")
        counts = await repository.write_sites(
            [SiteRecord(id=1)], [], replace_site_connections=False
        )
        assert counts.sites.written == 1
    finally:
        holder.close()
        await repository.close()
