"""DataLoader batch sizes: how many keys each batch a request's loader reads at once.

A batch of 1 on a page of many objects means the batching is not working; a batch as
large as the page means one statement served the whole level. Loaders (label ``loader``):
connection_info, charge_point, connections_of_sites, and the reference lists'
connection_type, status_type, level, current_type, operator, usage_type, country. The
fast executor reads reference lists straight from their cache, so those batches come from
graphql-core's executor (mutations' payloads, subscriptions, `_entities`, traced requests).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

from prometheus_client import Histogram

K = TypeVar("K")
V = TypeVar("V")

BATCH_SIZE: Final = Histogram(
    "ocm_gql_dataloader_batch_size",
    "Keys read by one batch of a DataLoader, by loader.",
    ["loader"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)


def observed(
    loader: str, load: Callable[[Sequence[K]], Awaitable[list[V]]]
) -> Callable[[Sequence[K]], Awaitable[list[V]]]:
    """``load`` (a DataLoader's batch function) with each batch's size observed under
    ``loader``: one label value per loader of gql/graphql/loaders.py, so a bounded set."""
    sizes = BATCH_SIZE.labels(loader=loader)

    async def load_observed(keys: Sequence[K]) -> list[V]:
        sizes.observe(len(keys))
        return await load(keys)

    return load_observed


def observe_batch(loader: str, size: int) -> None:
    """One batch of ``size`` keys, for loaders that batch by themselves (no DataLoader)."""
    BATCH_SIZE.labels(loader=loader).observe(size)
