"""A read replica (OCM_GQL_DATABASE_READ_URL): reads are served by it, writes by the
primary, and the reads that follow a write in the same request by the primary too.

Two throwaway PostgreSQL databases stand in for the primary and its replica, loaded with
the same demo data; two connections then carry a different comment on each, so an answer
shows which database served it, and each side's statement count shows who was asked."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.broadcast import InProcessBroadcaster
from gql.domain.keys import create_key
from gql.graphql.context import Context
from gql.graphql.schema import schema
from gql.reference_cache import ReferenceCache
from gql.repository.base import CannotOpen, Repository
from gql.repository.factory import open_repository
from gql.repository.postgres import PostgresRepository
from gql.repository.replicated import ReplicatedRepository, for_request
from gql.settings import Settings
from gql.writes import ConnectionWrites
from tests.conftest import run_cli
from tests.databases import throwaway_postgres

FIRST, SECOND = 1_000_000_001, 1_000_000_002  # demo connections
READ = "query($id: Int!) { connectionInfo(id: $id) { id comments } }"
UPDATE = """mutation($id: Int!) {
  updateConnectionInfo(id: $id, input: {amps: 32}) { connectionInfo { comments amps } } }"""


@dataclass(frozen=True)
class Pair:
    settings: Settings
    key: str


async def _prepare(primary: str, replica: str) -> str:
    """Marks both connections per side, and makes a writer's key known to both (as
    replication would); returns the key."""
    opened = [await PostgresRepository.open(url) for url in (primary, replica)]
    try:
        for repository, side in zip(opened, ("primary", "replica"), strict=True):
            for connection_id in (FIRST, SECOND):
                changes = {"comments": f"{side} {connection_id}"}
                await repository.update_connection(connection_id, changes, actor="test")
        key = await create_key(opened[0], "writer", read_only=False)
        for record in await opened[0].api_keys():
            await opened[1].add_api_key(record)
    finally:
        for repository in opened:
            await repository.close()
    return key


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with throwaway_postgres() as primary, throwaway_postgres() as replica:
        for url in (primary, replica):
            run_cli("seed", "--database-url", url, "--demo", "20", "--seed", "1")
        key = asyncio.run(_prepare(primary, replica))
        yield Pair(Settings(database_url=primary, database_read_url=replica), key)


def _counts(repository: Repository) -> tuple[int, int]:
    assert isinstance(repository, ReplicatedRepository)
    return repository.primary.statement_count, repository.replica.statement_count


def test_reads_go_to_the_replica_and_writes_to_the_primary(pair: Pair) -> None:
    opened: list[Repository] = []

    async def open_and_keep(settings: Settings) -> Repository:
        opened.append(await open_repository(settings))
        return opened[-1]

    with TestClient(create_app(pair.settings, open_repo=open_and_keep)) as client:

        def post(query: str, **headers: str) -> Any:
            response = client.post(
                "/graphql", json={"query": query, "variables": {"id": FIRST}}, headers=headers
            )
            assert response.status_code == 200, response.text
            return response.json()

        client.get("/readyz")  # the reference lists and keys are loaded now, not below
        before = _counts(opened[0])
        assert post(READ)["data"]["connectionInfo"]["comments"] == f"replica {FIRST}"
        after_read = _counts(opened[0])
        assert after_read[0] == before[0]
        assert after_read[1] > before[1]

        written = post(UPDATE, **{"X-API-Key": pair.key})
        assert written["data"]["updateConnectionInfo"]["connectionInfo"] == {
            "comments": f"primary {FIRST}",
            "amps": 32,
        }
        after_write = _counts(opened[0])
        assert after_write[0] > after_read[0]

        # A new request reads the replica again, which has not seen the write.
        again = post(READ)["data"]["connectionInfo"]
        assert again["comments"] == f"replica {FIRST}"
        assert _counts(opened[0])[0] == after_write[0]

        ready = client.get("/readyz")
        assert ready.json() == {"status": "ok"}


async def _read(context: Context, connection_id: int) -> str:
    result = await schema.execute(READ, {"id": connection_id}, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    comments: str = result.data["connectionInfo"]["comments"]
    return comments


async def test_a_read_after_a_write_in_the_same_request_reads_the_primary(pair: Pair) -> None:
    repository = await open_repository(pair.settings)
    try:
        references = ReferenceCache(repository)
        broadcaster = InProcessBroadcaster()
        shared = ConnectionWrites(repository, references, broadcaster)

        def request_context() -> Context:
            view = for_request(repository)
            return Context.for_request(
                pair.settings,
                view,
                references,
                broadcaster=broadcaster,
                writes=shared.through(view),
                credential=pair.key,
            )

        context = request_context()
        assert await _read(context, FIRST) == f"replica {FIRST}"
        result = await schema.execute(UPDATE, {"id": FIRST}, context_value=context)
        assert result.errors is None, result.errors
        # The same request (a batch, say) after its write: the primary's rows.
        assert await _read(context, SECOND) == f"primary {SECOND}"
        # Another request, concurrent with that one, never wrote: the replica's.
        assert await _read(request_context(), SECOND) == f"replica {SECOND}"
    finally:
        await repository.close()


def test_a_replica_behind_the_primarys_schema_is_refused(pair: Pair) -> None:
    with throwaway_postgres() as empty:
        settings = pair.settings.model_copy(update={"database_read_url": empty})
        with pytest.raises(CannotOpen, match=r"^the read replica .* has schema version 0, not"):
            asyncio.run(open_repository(settings))
