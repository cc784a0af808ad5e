"""Database pool gauges and the write-queue wait, on both backends: what each backend
reports as in use and idle, the gauges the app's lifespan keeps at it, and one wait
observed per write transaction, as long at least as the writer was held."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from gql.observability.metrics.pool import PoolGauges
from gql.repository.base import PoolUsage, Repository
from gql.repository.factory import open_repository
from gql.repository.replicated import ReplicatedRepository
from gql.settings import Settings
from tests.observability.metrics.samples import Growth, value
from tests.observability.metrics.serving import serving, wait_for

POOL = "ocm_gql_db_pool_connections"
WAIT = "ocm_gql_db_write_queue_wait_seconds"
KEY_NAME = "pool-metrics"


def _backend(backend: str) -> str:
    return "postgresql" if backend == "postgres" else "sqlite"


@pytest.fixture
async def repository(demo_db: str) -> AsyncIterator[Repository]:
    opened = await open_repository(Settings(database_url=demo_db))
    yield opened
    await opened.close()


def _usage(repository: Repository) -> PoolUsage:
    [usage] = repository.pool_usage()
    return usage


async def test_a_transaction_holds_a_connection_while_it_runs(
    repository: Repository, backend: str
) -> None:
    await repository.api_keys()  # PostgreSQL's pool opens connections as they are needed
    before = _usage(repository)
    assert before.backend == _backend(backend)
    assert before.in_use == 0
    assert before.idle >= 1
    async with repository._transaction():  # type: ignore[attr-defined]
        held = _usage(repository)
        assert held.in_use == 1
        assert held.in_use + held.idle == before.idle
    assert _usage(repository) == before


async def test_the_gauges_follow_the_usage_and_take_their_share_back(
    repository: Repository, backend: str
) -> None:
    await repository.api_keys()
    name = _backend(backend)
    gauges = PoolGauges(repository)
    growth = Growth()
    gauges.refresh()
    usage = _usage(repository)
    assert growth(POOL, backend=name, state="idle") == usage.idle
    assert growth(POOL, backend=name, state="in_use") == 0
    async with repository._transaction():  # type: ignore[attr-defined]
        gauges.refresh()
        assert growth(POOL, backend=name, state="in_use") == 1
        assert growth(POOL, backend=name, state="idle") == usage.idle - 1
    gauges.clear()
    assert growth(POOL, backend=name, state="idle") == 0
    assert growth(POOL, backend=name, state="in_use") == 0


def test_the_app_reports_its_pool_while_it_runs(demo_db: str, backend: str) -> None:
    name = _backend(backend)
    growth = Growth()
    with serving(Settings(database_url=demo_db)) as base:
        wait_for(lambda: growth(POOL, backend=name, state="idle") >= 1, "the idle connections")
        assert base
    assert growth(POOL, backend=name, state="idle") == 0
    assert growth(POOL, backend=name, state="in_use") == 0


async def test_each_write_observes_its_wait_once(repository: Repository, backend: str) -> None:
    name = _backend(backend)
    growth = Growth()
    before = value(f"{WAIT}_count", backend=name)
    await repository.revoke_api_key(KEY_NAME)  # a write transaction, even when none is found
    assert value(f"{WAIT}_count", backend=name) == before + 1
    assert growth(f"{WAIT}_sum", backend=name) >= 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_write_behind_the_writer_waits_as_long_as_it_is_held(
    repository: Repository,
) -> None:
    # SQLite has one writer: a second write waits for the first to end.
    growth = Growth()
    async with repository._transaction():  # type: ignore[attr-defined]
        waiting = asyncio.create_task(repository.revoke_api_key(KEY_NAME))
        await asyncio.sleep(0)  # it runs until it waits for the writer
        started = time.monotonic()
        await asyncio.sleep(0.05)
        assert not waiting.done()
        held = time.monotonic() - started
    await waiting
    assert growth(f"{WAIT}_count", backend="sqlite") == 2
    assert growth(f"{WAIT}_sum", backend="sqlite") >= held


async def test_a_replicated_repository_reports_both_databases(
    repository: Repository, demo_db: str, backend: str
) -> None:
    replica = await open_repository(Settings(database_url=demo_db))
    try:
        both = ReplicatedRepository(repository, replica).pool_usage()
        assert both == [_usage(repository), _usage(replica)]
        assert {usage.backend for usage in both} == {_backend(backend)}
    finally:
        await replica.close()
