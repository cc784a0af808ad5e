"""Query cost (gql/graphql/limits/cost.py): exact costs of hand-computed documents, and the
limit applied before execution.

The rule: every field costs 1 per item of its parent; a paged root field multiplies what
is below it by its page (`first`/`last`, else the default page size, at most the largest
page); `_entities` by its representations; the reference lists by 100.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from bench.run import PAGE_QUERY
from gql.graphql.limits import cost as cost_module
from gql.graphql.limits.cost import MAX_COST, QUERY_TOO_COMPLEX, operation_cost
from gql.graphql.schema import schema
from tests.conftest import graphql_runner
from tests.queries import EVERY_CONNECTION_FIELD

SCHEMA = schema._schema


def cost(
    query: str,
    variables: dict[str, Any] | None = None,
    operation_name: str | None = None,
    *,
    default_page_size: int = 20,
    max_page_size: int = 1000,
) -> int:
    return operation_cost(
        SCHEMA,
        parse(query),
        operation_name,
        variables,
        default_page_size=default_page_size,
        max_page_size=max_page_size,
    )


# --- single items and pages ----------------------------------------------------------


def test_plain_fields_cost_one_each() -> None:
    assert cost("{ __typename }") == 1
    # connectionInfo 1 + id 1 + powerKw 1 + connectionType 1 + title 1
    assert cost("{ connectionInfo(id: 1) { id powerKw connectionType { title } } }") == 5


def test_a_page_multiplies_what_is_below_it() -> None:
    # The README's example: 1 + 1,000 nodes + 1,000 ids.
    assert cost("{ connectionInfos(first: 1000) { nodes { id } } }") == 2001
    # 1 + 7 x (edges + cursor + node + id)
    assert cost("{ connectionInfos(last: 7) { edges { cursor node { id } } } }") == 29


def test_every_field_of_a_page_of_a_thousand() -> None:
    # 1 + 1,000 x (nodes 1 + 12 scalars + 4 relations + 5 + 4 + 4 + 3 relation fields)
    query = f"{{ connectionInfos(first: 1000) {{ nodes {{ {EVERY_CONNECTION_FIELD} }} }} }}"
    assert cost(query) == 1 + 1000 * (1 + 12 + 4 + 16) == 33_001


def test_the_benchmark_page_costs_what_the_readme_says() -> None:
    # Every field of a page of 1,000, plus pageInfo { endCursor hasNextPage } per item.
    assert cost(PAGE_QUERY, {"first": 1000}) == 33_001 + 1000 * 3 == 36_001


def test_fields_of_the_connection_itself_count_per_item_of_the_page() -> None:
    # 1 + 20 x (totalCount + pageInfo + hasNextPage + nodes + id)
    assert cost("{ connectionInfos { totalCount pageInfo { hasNextPage } nodes { id } } }") == 101


def test_the_default_page_size_applies_without_first_or_last() -> None:
    query = "{ connectionInfos { nodes { id } } }"
    assert cost(query) == 1 + 20 * 2
    assert cost(query, default_page_size=50) == 1 + 50 * 2
    # first: 0 is no page size: it falls back to last, then to the default.
    assert cost("{ connectionInfos(first: 0, last: 4) { nodes { id } } }") == 1 + 4 * 2


def test_pages_are_counted_at_most_at_the_largest_page() -> None:
    # first: 5000 is refused when it runs (BAD_USER_INPUT); until then it counts as 1,000.
    assert cost("{ connectionInfos(first: 5000) { nodes { id } } }") == 2001
    assert cost("{ connectionInfos(first: 5000) { nodes { id } } }", max_page_size=10) == 21
    # A negative page is refused too; it multiplies by nothing.
    assert cost("{ connectionInfos(first: -3) { nodes { id } } }") == 1


def test_the_change_log_is_paged_like_connections() -> None:
    query = "{ connectionInfoHistory(id: 1) { nodes { id before { amps } } } }"
    assert cost(query) == 1 + 20 * 4
    assert cost("{ connectionInfoHistory(id: 1, first: 2) { nodes { id } } }") == 1 + 2 * 2


def test_root_fields_add_up() -> None:
    query = """{
        a: connectionInfos(first: 2) { nodes { id } }
        b: connectionInfos(first: 3) { nodes { id } }
        connectionInfo(id: 1) { id }
    }"""
    assert cost(query) == (1 + 2 * 2) + (1 + 3 * 2) + 2


# --- variables ---------------------------------------------------------------------------


PAGE_OF_N = "query($n: Int) { connectionInfos(first: $n) { nodes { id } } }"


def test_page_sizes_from_variables() -> None:
    assert cost(PAGE_OF_N, {"n": 5}) == 11
    assert cost(PAGE_OF_N, {"n": None}) == 41  # null: the default page size
    assert cost(PAGE_OF_N, {}) == 41
    assert cost("query($n: Int = 3) { connectionInfos(last: $n) { nodes { id } } }", {}) == 7
    query = (
        f"query Bench($first: Int!) {{ connectionInfos(first: $first) "
        f"{{ nodes {{ {EVERY_CONNECTION_FIELD} }} }} }}"
    )
    assert cost(query, {"first": 100}) == 1 + 100 * 33


def test_bad_variables_cost_nothing() -> None:
    # The operation fails on its variables before anything runs.
    assert cost(PAGE_OF_N, {"n": "lots"}) == 0
    assert cost("query($n: Int!) { connectionInfos(first: $n) { nodes { id } } }", {}) == 0
    assert cost("query($n: Int!) { connectionInfos(first: $n) { nodes { id } } }", None) == 0


def test_the_named_operation_is_costed() -> None:
    document = "query A { levels { id } } query B { connectionInfo(id: 1) { id } }"
    assert cost(document, operation_name="A") == 101
    assert cost(document, operation_name="B") == 2
    assert cost(document, operation_name="C") == 0  # refused as unknown, elsewhere
    assert cost(document) == 0  # two operations and no name: refused too


# --- fragments and directives ----------------------------------------------------------


def test_fragment_spreads_cost_what_they_select() -> None:
    query = """
        query { ...Page }
        fragment Page on Query { connectionInfos(first: 10) { nodes { ...Connection } } }
        fragment Connection on ConnectionInfo { id level { title } }
    """
    assert cost(query) == 1 + 10 * (1 + 1 + 1 + 1)


def test_a_fragment_spread_twice_costs_twice() -> None:
    query = """
        { connectionInfos(first: 10) { nodes { ...C ...C } } }
        fragment C on ConnectionInfo { id }
    """
    assert cost(query) == 1 + 10 * (1 + 1 + 1)


def test_inline_fragments_with_and_without_a_type() -> None:
    query = (
        "{ connectionInfos(first: 10) { nodes { ... on ConnectionInfo { id amps } "
        "... { voltage } } } }"
    )
    assert cost(query) == 1 + 10 * (1 + 3)


def test_include_and_skip_follow_their_variables() -> None:
    query = """query($with: Boolean!) {
        connectionInfos(first: 10) {
            nodes { id level @include(if: $with) { title } amps @skip(if: $with) }
        }
    }"""
    assert cost(query, {"with": True}) == 1 + 10 * (1 + 1 + 2)
    assert cost(query, {"with": False}) == 1 + 10 * (1 + 1 + 1)


def test_include_and_skip_on_fragments_and_root_fields() -> None:
    query = """query($on: Boolean = false) {
        levels @include(if: $on) { id }
        connectionInfos(first: 10) {
            nodes { id ...Relations @skip(if: true) ... @include(if: $on) { amps } }
        }
    }
    fragment Relations on ConnectionInfo { level { title } statusType { title } }"""
    assert cost(query, {}) == 1 + 10 * 2
    assert cost(query, {"on": True}) == 101 + 1 + 10 * 3


# --- federation and reference lists ------------------------------------------------------


def test_entities_count_their_representations() -> None:
    literal = """{ _entities(representations: [
        {__typename: "ConnectionInfo", id: 1}, {__typename: "ConnectionInfo", id: 2}
    ]) { ... on ConnectionInfo { id powerKw } } }"""
    assert cost(literal) == 1 + 2 * 2
    from_variables = """query($r: [_Any!]!) {
        _entities(representations: $r) { __typename ... on ConnectionInfo { id } }
    }"""
    three = [{"__typename": "ConnectionInfo", "id": n} for n in (1, 2, 3)]
    assert cost(from_variables, {"r": three}) == 1 + 3 * 2
    assert cost(from_variables, {"r": []}) == 1


def test_reference_lists_count_as_a_hundred_rows() -> None:
    assert cost("{ levels { id title } }") == 1 + 100 * 2
    assert cost("{ connectionTypes { id } statusTypes { id } currentTypes { id } }") == 3 * 101


def test_lists_below_the_root_do_not_multiply() -> None:
    # userErrors is a list, but only root fields know how many items they return.
    mutation = """mutation {
        setConnectionStatus(id: 1, statusTypeId: 50) {
            userErrors { message } connectionInfo { id }
        }
    }"""
    assert cost(mutation) == 5


def test_charge_points_are_paged_like_connections() -> None:
    # 1 + 50 x (nodes + id + title)
    assert cost("{ chargePoints(first: 50) { nodes { id title } } }") == 1 + 50 * 3
    # The default page, then the largest page at most.
    assert cost("{ chargePoints { totalCount } }") == 1 + 20
    assert cost("{ chargePoints(last: 5000) { totalCount } }") == 1 + 1000
    near = "near: { latitude: 59.4, longitude: 24.7, radiusKm: 10 }"
    assert cost(f"{{ chargePoints(first: 3, {near}) {{ edges {{ cursor }} }} }}") == 1 + 3 * 2


def test_a_sites_connections_count_as_an_estimate_each() -> None:
    estimate = cost_module.NESTED_LIST_ESTIMATES[("ChargePoint", "connections")]
    # chargePoint 1 + id 1 + connections 1 + estimate x (id + connectionType + title)
    one = "{ chargePoint(id: 1) { id connections { id connectionType { title } } } }"
    assert cost(one) == 3 + estimate * 3
    # The estimate multiplies within each site of a page.
    page = "{ chargePoints(first: 100) { nodes { id connections { id } } } }"
    assert cost(page) == 1 + 100 * (1 + 1 + 1 + estimate)
    # A site named by a connection is one item: no list, no estimate.
    assert cost("{ connectionInfo(id: 1) { chargePoint { id } } }") == 3


def test_a_page_of_sites_with_every_field_is_within_the_default_limit() -> None:
    every = (
        "id uuid title address { town country { isoCode } } location { latitude longitude } "
        "operator { title } usageType { title } statusType { title } distanceKm "
        f"connections {{ {EVERY_CONNECTION_FIELD} }}"
    )
    assert cost(f"{{ chargePoints(first: 200) {{ nodes {{ {every} }} }} }}") < 100_000
    assert cost(f"{{ chargePoints(first: 1000) {{ nodes {{ {every} }} }} }}") > 100_000


def test_introspection_costs_one() -> None:
    assert cost("{ __schema { types { name fields { name } } } }") == 1
    assert cost('{ __type(name: "Query") { name } }') == 1


# --- pathological documents ------------------------------------------------------------


def _doubling(depth: int) -> str:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(depth)]
    return "\n".join(
        ["query { ...F0 }", *fragments, f"fragment F{depth} on Query {{ levels {{ id }} }}"]
    )


def test_fragments_spread_many_times_are_costed_once_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert cost(_doubling(10)) == 2**10 * 101
    visits: list[object] = []
    walk = cost_module._Walker.selection_cost

    def counted(self: Any, *args: Any) -> int:
        visits.append(args[0])
        return walk(self, *args)

    monkeypatch.setattr(cost_module._Walker, "selection_cost", counted)
    assert cost(_doubling(40)) == 2**40 * 101
    # Walked naively, 2^40 visits; each of the 42 selection sets (and `levels`'s) once.
    assert len(visits) <= 2 * 43


def test_a_cost_too_large_for_json_clients_is_reported_as_the_largest_safe_integer() -> None:
    # 2^200 x 101 would not even serialize (orjson stops at 64 bits).
    assert cost(_doubling(200)) == MAX_COST == 2**53 - 1


# --- the limit, applied just before execution -------------------------------------------


async def test_at_the_limit_runs_and_one_over_is_refused_before_any_sql(demo_db: str) -> None:
    query = "{ connectionInfos(first: 1000) { nodes { id } } }"  # 2,001
    async with graphql_runner(demo_db, max_cost=2001) as runner:
        data = await runner.data(query)
        assert len(data["connectionInfos"]["nodes"]) == 1000
    async with graphql_runner(demo_db, max_cost=2000) as runner:
        statements = runner.repository.statement_count
        result = await runner.execute(query)
        assert runner.repository.statement_count == statements
    assert result.data is None
    [error] = result.errors or []
    assert error.extensions == {"code": QUERY_TOO_COMPLEX, "cost": 2001, "maxCost": 2000}
    assert error.message.startswith("The operation would cost 2001; at most 2000 is allowed.")


@pytest.mark.parametrize(("first", "refused"), [(20, False), (21, True)])
async def test_the_limit_uses_the_variables_of_the_request(
    demo_db: str, first: int, refused: bool
) -> None:
    async with graphql_runner(demo_db, max_cost=41) as runner:
        result = await runner.execute(PAGE_OF_N, {"n": first})
    codes = [error.extensions["code"] for error in result.errors or []]  # type: ignore[index]
    assert codes == ([QUERY_TOO_COMPLEX] if refused else [])
