"""ocm_gql_dataloader_batch_size: each batch a loader reads is observed once, with as many
keys as it read."""

from __future__ import annotations

from typing import Any

from gql.broadcast import InProcessBroadcaster
from gql.graphql.context import Context
from gql.graphql.schema import fast_executor, schema
from tests.conftest import GraphQLRunner
from tests.observability.metrics.samples import Growth

BATCHES = "ocm_gql_dataloader_batch_size"

CONNECTIONS_WITH_TYPES = """
{ connectionInfos(first: 20) { nodes { id connectionTypeId connectionType { id } } } }"""
SITES_WITH_CONNECTIONS = "{ chargePoints(first: 15) { nodes { id connections { id } } } }"
BY_IDS = """
query ($a: Int!, $b: Int!) {
  a: connectionInfo(id: $a) { id }
  b: connectionInfo(id: $b) { id }
  again: connectionInfo(id: $a) { id }
}"""


async def _standard(runner: GraphQLRunner, query: str, **variables: Any) -> Any:
    """On graphql-core's executor, whose resolvers ask the DataLoaders (the fast one reads
    reference lists straight from their cache)."""
    context = Context.for_request(
        runner.settings, runner.repository, runner.references, broadcaster=InProcessBroadcaster()
    )
    with fast_executor.bypassed():
        result = await schema.execute(query, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    return result.data


async def test_a_page_asks_the_reference_loader_once_for_its_distinct_ids(
    demo_graphql: GraphQLRunner,
) -> None:
    growth = Growth()
    data = await _standard(demo_graphql, CONNECTIONS_WITH_TYPES)
    nodes = data["connectionInfos"]["nodes"]
    distinct = {node["connectionTypeId"] for node in nodes} - {None}
    assert len(nodes) == 20
    assert len(distinct) > 1
    assert growth(f"{BATCHES}_count", loader="connection_type") == 1
    assert growth(f"{BATCHES}_sum", loader="connection_type") == len(distinct)
    # No other loader was asked for anything.
    assert growth(f"{BATCHES}_count", loader="status_type") == 0
    assert growth(f"{BATCHES}_count", loader="connection_info") == 0


async def test_memoized_keys_are_not_read_again(demo_graphql: GraphQLRunner) -> None:
    ids = await _standard(demo_graphql, "{ connectionInfos(first: 2) { nodes { id } } }")
    a, b = (node["id"] for node in ids["connectionInfos"]["nodes"])
    growth = Growth()
    await _standard(demo_graphql, BY_IDS, a=a, b=b)
    assert growth(f"{BATCHES}_count", loader="connection_info") == 1
    assert growth(f"{BATCHES}_sum", loader="connection_info") == 2


async def test_the_connections_of_a_level_of_sites_are_one_batch(
    demo_graphql: GraphQLRunner,
) -> None:
    # On the fast executor (the runner's schema), which asks the loader for the level.
    growth = Growth()
    data = await demo_graphql.data(SITES_WITH_CONNECTIONS)
    sites = data["chargePoints"]["nodes"]
    assert len(sites) == 15
    assert growth(f"{BATCHES}_count", loader="connections_of_sites") == 1
    assert growth(f"{BATCHES}_sum", loader="connections_of_sites") == 15
    # And on graphql-core's, which asks it site by site within one turn of the loop.
    growth = Growth()
    await _standard(demo_graphql, SITES_WITH_CONNECTIONS)
    assert growth(f"{BATCHES}_count", loader="connections_of_sites") == 1
    assert growth(f"{BATCHES}_sum", loader="connections_of_sites") == 15
