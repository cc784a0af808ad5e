"""The pages whose query plans each backend's tests read: every order under these
filters must start from an index."""

from __future__ import annotations

import pytest

from gql.repository.models import ConnectionFilter, SortOrder

each_page = pytest.mark.parametrize("order", list(SortOrder))
each_filter = pytest.mark.parametrize(
    "condition",
    [
        ConnectionFilter(),
        ConnectionFilter(min_power_kw=20, max_power_kw=60),
        ConnectionFilter(connection_type_ids=[25]),
        ConnectionFilter(charge_point_ids=[1_000_000_001]),
        ConnectionFilter(is_operational=True),
    ],
    ids=["none", "power", "type", "site", "operational"],
)


def one_index_serves_seek_and_order(order: SortOrder, condition: ConnectionFilter) -> bool:
    """No filter, or a power range in a power order: then no sort is needed at all."""
    return condition == ConnectionFilter() or bool(condition.min_power_kw and order.by_power)
