"""The loader of sites' connections: batched per turn of the event loop, memoized or not,
and read again after a request stopped waiting for it (on both backends)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from gql.graphql.connection_info import ConnectionInfo
from gql.graphql.site_connections import SiteConnections
from gql.repository.models import ConnectionFilter
from tests.conftest import GraphQLRunner, graphql_runner
from tests.sites_data import sample_sites_database


@pytest.fixture(scope="module")
def sites_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from sample_sites_database(backend, tmp_path_factory.mktemp("sites"))


@pytest.fixture
async def api(sites_db: str) -> AsyncIterator[GraphQLRunner]:
    async with graphql_runner(sites_db) as runner:
        yield runner


async def _site_ids(api: GraphQLRunner) -> dict[int, list[int]]:
    """Some sites, with and without connections, and their connections' ids."""
    data = await api.data(
        "{ chargePoints(first: 8, filter: {includeUnpublished: true}) "
        "{ nodes { id connections { id } } } }"
    )
    sites = {
        node["id"]: [c["id"] for c in node["connections"]] for node in data["chargePoints"]["nodes"]
    }
    assert any(sites.values())
    return {**sites, -1: []}  # and a site that does not exist


def _ids(connections: list[list[ConnectionInfo]]) -> list[list[int]]:
    return [[connection.id for connection in site] for site in connections]


@pytest.mark.parametrize("memoize", [True, False])
async def test_sites_asked_in_one_turn_are_read_in_one_statement(
    api: GraphQLRunner, memoize: bool
) -> None:
    sites = await _site_ids(api)
    ids = list(sites)
    loader = SiteConnections(api.repository, ConnectionFilter(), memoize=memoize)
    before = api.repository.statement_count
    level = loader.load_level(ids)
    one, again = loader.load(ids[0]), loader.load(ids[0])
    assert not isinstance(level, list)
    assert _ids(await level) == list(sites.values())
    assert _ids([await one, await again]) == [sites[ids[0]]] * 2
    assert api.repository.statement_count - before == 1

    before = api.repository.statement_count
    later = loader.load_level(ids[::-1])
    if memoize:
        assert isinstance(later, list)  # at once, from the first read
    else:
        assert not isinstance(later, list)
        later = await later
    assert _ids(later) == list(sites.values())[::-1]
    assert api.repository.statement_count - before == (0 if memoize else 1)


async def test_a_filter_keeps_its_connections(api: GraphQLRunner) -> None:
    sites = await _site_ids(api)
    wanted = [ids[0] for ids in sites.values() if ids]
    loader = SiteConnections(api.repository, ConnectionFilter(ids=wanted), memoize=True)
    level = loader.load_level(list(sites))
    assert not isinstance(level, list)
    assert _ids(await level) == [[ids[0]] if ids else [] for ids in sites.values()]


async def test_a_request_that_stopped_waiting_is_read_again(api: GraphQLRunner) -> None:
    sites = await _site_ids(api)
    site_id = next(site for site, ids in sites.items() if ids)
    loader = SiteConnections(api.repository, ConnectionFilter(), memoize=True)

    async def wait() -> list[ConnectionInfo]:
        return await loader.load(site_id)

    waiting = asyncio.create_task(wait())
    await asyncio.sleep(0)  # it waits for its batch
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert _ids([await loader.load(site_id)]) == [sites[site_id]]
