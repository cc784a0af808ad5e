"""SQLite and PostgreSQL loaded with the same data answer every query the same.

Each data set (the OCM sample sites of ../shared/ocm/poi, and generated demo data) is
loaded into both backends by the CLI (`seed`, `import`, `--database-url`), and the same
writes are made on both through the mutations, so connections have a change log. Then the
FULL responses are compared, order and number types included:

- hand-written pages in all four orders, walked forward and backward to the end by
  cursor, under every filter, with totalCount; reference lists, single lookups,
  entities and change logs;
- queries that hypothesis-graphql generates over the public SDL (queries only), with ids,
  powers and cursors drawn from the data so that they find rows;
- cursors made on one backend continue the walk on the other.

A difference fails with the query and both responses. Examples per data set:
`OCM_GQL_DIFFERENTIAL_EXAMPLES` (default 150), derandomized unless
`OCM_GQL_DIFFERENTIAL_SEED` is set (see tests/hypothesis_runs.py).
"""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import nodes, queries

import gql.repository.postgres.repository as postgres_module
import gql.repository.sqlite.repository as sqlite_module
from gql.domain.keys import create_key
from gql.graphql.schema import public_sdl
from tests.conftest import run_cli, shared_ocm
from tests.databases import throwaway_postgres
from tests.differential import Pair, opened_pair, ticking_clock
from tests.hypothesis_runs import reproducible
from tests.queries import EVERY_CONNECTION_FIELD, EVERY_SITE_FIELD, EVERY_SNAPSHOT_FIELD

EXAMPLES = int(os.environ.get("OCM_GQL_DIFFERENTIAL_EXAMPLES", "150"))
SEED = os.environ.get("OCM_GQL_DIFFERENTIAL_SEED")
DEMO_ROWS: Final = 600
ORDERS: Final = ("ID_ASC", "ID_DESC", "POWER_KW_ASC", "POWER_KW_DESC")

PAGE: Final = f"""
query Page($first: Int, $after: String, $last: Int, $before: String,
    $filter: ConnectionInfoFilter, $orderBy: ConnectionInfoOrder) {{
  connectionInfos(first: $first, after: $after, last: $last, before: $before,
      filter: $filter, orderBy: $orderBy) {{
    totalCount
    edges {{ cursor node {{ {EVERY_CONNECTION_FIELD} }} }}
    pageInfo {{ startCursor endCursor hasNextPage hasPreviousPage }}
  }}
}}"""

HISTORY: Final = f"""
query History($id: Int!, $first: Int, $after: String) {{
  connectionInfoHistory(id: $id, first: $first, after: $after) {{
    edges {{ cursor node {{ id connectionInfoId action actor changedAt
      before {{ {EVERY_SNAPSHOT_FIELD} }} after {{ {EVERY_SNAPSHOT_FIELD} }} }} }}
    pageInfo {{ startCursor endCursor hasNextPage hasPreviousPage }}
  }}
}}"""

# Each reference list: its field, the field of one item, and every field of an item.
REFERENCES: Final = {
    "connectionTypes": ("connectionType", "id title formalName isDiscontinued isObsolete"),
    "statusTypes": ("statusType", "id title isOperational isUserSelectable"),
    "levels": ("level", "id title comments isFastChargeCapable"),
    "currentTypes": ("currentType", "id title description"),
}
REFERENCE_LISTS: Final = (
    "{ " + " ".join(f"{name} {{ {fields} }}" for name, (_, fields) in REFERENCES.items()) + " }"
)


@dataclass
class Loaded:
    """A pair of databases, and what their data holds, for choosing arguments."""

    name: str
    pair: Pair
    connection_ids: list[int]
    site_ids: list[int]
    powers: list[float]
    reference_ids: dict[str, list[int]]
    written_ids: list[int]
    cursors: list[str]


def _load(dataset: str, url: str) -> None:
    if dataset == "ocm":
        run_cli("seed", "--database-url", url)
        run_cli("import", "--database-url", url, str(shared_ocm() / "poi"))
    else:
        run_cli("seed", "--database-url", url, "--demo", str(DEMO_ROWS), "--seed", "1")


def _whole(pair: Pair, variables: dict[str, Any], *, forward: bool = True) -> list[Any]:
    """Every page of a walk, each compared across the backends."""
    pages: list[Any] = []
    cursor: str | None = None
    while True:
        if forward:
            page_variables = {**variables, "first": variables.get("first", 50), "after": cursor}
        else:
            page_variables = {**variables, "last": variables.get("last", 50), "before": cursor}
        page = pair.same(PAGE, page_variables)["data"]["connectionInfos"]
        pages.append(page)
        info = page["pageInfo"]
        if not (info["hasNextPage"] if forward else info["hasPreviousPage"]):
            return pages
        cursor = info["endCursor"] if forward else info["startCursor"]
        assert cursor is not None


_PAYLOAD: Final = (
    f"connectionInfo {{ {EVERY_CONNECTION_FIELD} }} userErrors {{ field message code }}"
)
MUTATIONS: Final = {
    "Create": f"""mutation Create($input: CreateConnectionInfoInput!) {{
        createConnectionInfo(input: $input) {{ {_PAYLOAD} }} }}""",
    "Update": f"""mutation Update($id: Int!, $input: UpdateConnectionInfoInput!) {{
        updateConnectionInfo(id: $id, input: $input) {{ {_PAYLOAD} }} }}""",
    "Status": f"""mutation Status($id: Int!, $status: Int!) {{
        setConnectionStatus(id: $id, statusTypeId: $status) {{
          previousStatusTypeId {_PAYLOAD} }} }}""",
    "Delete": f"""mutation Delete($id: Int!) {{
        deleteConnectionInfo(id: $id) {{ deletedId {_PAYLOAD} }} }}""",
}


def _write(pair: Pair, keys: tuple[str, str], name: str, **variables: Any) -> Any:
    """One mutation on both backends, each with its own writer's key."""
    return pair.same(MUTATIONS[name], variables, credentials=keys)["data"]


def _make_history(
    dataset: str, pair: Pair, site: int, existing: list[int], status_ids: list[int]
) -> list[int]:
    """The same edits on both backends: creates, updates, status changes, deletes (one of
    them of the newest connection, after which a create must not take its id back)."""
    keys = (
        pair.runner.run(create_key(pair.sqlite.repository, "differential", read_only=False)),
        pair.runner.run(create_key(pair.postgres.repository, "differential", read_only=False)),
    )
    created = _write(
        pair,
        keys,
        "Create",
        input={
            "chargePointId": site,
            "connectionTypeId": 25,
            "statusTypeId": status_ids[0],
            "levelId": 2,
            "currentTypeId": 30,
            "amps": 32,
            "voltage": 400.0,
            "quantity": 2,
            "reference": "differential ✓",
            "comments": "Ünïcode and 'quotes'",
        },
    )["createConnectionInfo"]["connectionInfo"]["id"]
    _write(pair, keys, "Update", id=created, input={"powerKw": 0, "amps": 16})
    _write(pair, keys, "Update", id=created, input={"powerKw": 150.5, "comments": None})
    for status in (status_ids[-1], status_ids[-1], status_ids[0]):  # the second changes nothing
        _write(pair, keys, "Status", id=created, status=status)
    first, second = existing[0], existing[1]
    _write(pair, keys, "Update", id=first, input={"voltage": None, "reference": "r"})
    _write(pair, keys, "Update", id=first, input={"statusTypeId": 999_999})  # refused
    _write(pair, keys, "Delete", id=second)
    _write(pair, keys, "Delete", id=second)  # nothing left to delete
    _write(pair, keys, "Delete", id=created)
    again = _write(
        pair, keys, "Create", input={"chargePointId": site, "powerKw": 7.4, "reference": "again"}
    )["createConnectionInfo"]["connectionInfo"]["id"]
    _write(pair, keys, "Update", id=again, input={"chargePointId": 2**31 - 1})  # refused
    _write(pair, keys, "Delete", id=again)
    # Loading the data again (an import re-publishes its sites, demo data is written
    # again) must not make the next create take back an id either.
    for backend in pair.backends:
        _load(dataset, backend.url)
    last = _write(pair, keys, "Create", input={"chargePointId": site, "reference": "last"})
    return [created, again, last["createConnectionInfo"]["connectionInfo"]["id"], first, second]


@pytest.fixture(scope="module", params=["ocm", "demo"])
def loaded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Loaded]:
    dataset: str = request.param
    if dataset == "ocm":
        shared_ocm()  # skips, with the reason, without the sample data
    folder = tmp_path_factory.mktemp(f"differential-{dataset}")
    sqlite_url = f"sqlite:///{folder / 'differential.db'}"
    with throwaway_postgres() as postgres_url, pytest.MonkeyPatch.context() as patch:
        for url in (sqlite_url, postgres_url):
            _load(dataset, url)
        # Each backend logs its writes at the same times as the other.
        patch.setattr(sqlite_module, "utc_now", ticking_clock())
        patch.setattr(postgres_module, "utc_now", ticking_clock())
        with opened_pair(sqlite_url, postgres_url) as pair:
            yield _survey(dataset, pair)


def _survey(dataset: str, pair: Pair) -> Loaded:
    lists = pair.same(REFERENCE_LISTS)["data"]
    reference_ids = {name: [row["id"] for row in rows] for name, rows in lists.items()}
    nodes_before = [e["node"] for p in _whole(pair, {"first": 1000}) for e in p["edges"]]
    connection_ids = [node["id"] for node in nodes_before]
    site_ids = sorted({node["chargePointId"] for node in nodes_before})
    written = _make_history(
        dataset, pair, site_ids[0], connection_ids, reference_ids["statusTypes"]
    )
    cursors = [
        edge["cursor"]
        for order in ORDERS
        for edge in pair.same(PAGE, {"first": 4, "orderBy": order})["data"]["connectionInfos"][
            "edges"
        ]
    ]
    for connection in written:
        history = pair.same(HISTORY, {"id": connection, "first": 2})
        cursors += [e["cursor"] for e in history["data"]["connectionInfoHistory"]["edges"]]
    powers = sorted({n["powerKw"] for n in nodes_before if n["powerKw"] is not None})
    return Loaded(dataset, pair, connection_ids, site_ids, powers, reference_ids, written, cursors)


# -- pages --------------------------------------------------------------------------------


def _sort_key(order: str, node: Any) -> tuple[Any, ...]:
    power = node["powerKw"]
    if order == "ID_ASC":
        return (node["id"],)
    if order == "ID_DESC":
        return (-node["id"],)
    if power is None:  # last in both power orders
        return (1, 0.0, node["id"])
    return (0, power if order == "POWER_KW_ASC" else -power, node["id"])


def _filters(data: Loaded) -> list[dict[str, Any]]:
    ids = data.connection_ids
    refs = data.reference_ids
    middle = data.powers[len(data.powers) // 2]
    return [
        {},
        {"ids": [*ids[::7][:40], 999_999_999, *data.written_ids]},
        {"ids": []},
        {"connectionTypeIds": refs["connectionTypes"][:6]},
        {"statusTypeIds": [0, *refs["statusTypes"][-3:]]},
        {"levelIds": [1, 3]},
        {"currentTypeIds": [refs["currentTypes"][-1]]},
        {"chargePointIds": data.site_ids[::5]},
        {"minPowerKw": middle},
        {"maxPowerKw": middle},
        {"minPowerKw": data.powers[1], "maxPowerKw": data.powers[-2]},
        {"minPowerKw": 1e300},
        {"maxPowerKw": -1},
        {"isOperational": True},
        {"isOperational": False},
        {"isFastChargeCapable": True},
        {"isFastChargeCapable": False},
        {"levelIds": [2, 3], "isOperational": True, "maxPowerKw": 50, "connectionTypeIds": [25]},
    ]


@pytest.mark.parametrize("order", ORDERS)
def test_walks_in_every_order_under_every_filter(loaded: Loaded, order: str) -> None:
    """Both directions to the end: every page the same on both backends, and the walks
    themselves right (each other's reverse, in the order's sort, totalCount rows)."""
    for filter in _filters(loaded):
        variables = {"filter": filter, "orderBy": order}
        size = 17 if filter else 37  # several pages even for the narrower filters
        forward = _whole(loaded.pair, {**variables, "first": size})
        backward = _whole(loaded.pair, {**variables, "last": size}, forward=False)
        ahead = [edge for page in forward for edge in page["edges"]]
        behind = [edge for page in reversed(backward) for edge in page["edges"]]
        assert ahead == behind, (filter, order)
        nodes_seen = [edge["node"] for edge in ahead]
        assert nodes_seen == sorted(nodes_seen, key=lambda n: _sort_key(order, n)), filter
        assert {page["totalCount"] for page in forward + backward} == {len(ahead)}, filter
        if filter == {}:
            assert len(ahead) > 100, "the data set is too small to page through"


def test_the_full_walk_holds_every_row_once(loaded: Loaded) -> None:
    pages = _whole(loaded.pair, {"first": 1000, "orderBy": "POWER_KW_DESC"})
    seen = [edge["node"]["id"] for page in pages for edge in page["edges"]]
    assert len(seen) == len(set(seen))
    assert pages[0]["totalCount"] == len(seen)


@pytest.mark.parametrize(
    "variables",
    [
        {"first": 0},
        {"last": 0},
        {"first": 5, "last": 2},
        {"first": 1001},
        {"first": -1},
        {"after": "not a cursor"},
        {"first": 3, "orderBy": "POWER_KW_ASC", "filter": {"minPowerKw": 50, "maxPowerKw": 22}},
    ],
)
def test_edge_cases_of_paging(loaded: Loaded, variables: dict[str, Any]) -> None:
    loaded.pair.same(PAGE, variables)


def _cursor(*payload: object) -> str:
    """A cursor as the server makes them (gql/domain/cursor.py), for any key."""
    return base64.urlsafe_b64encode(orjson.dumps([1, *payload])).decode().rstrip("=")


# Keys no row has: beyond 32 bits (cursors carry 64-bit ids), powers at the extremes.
CRAFTED_CURSORS: Final = [
    *(_cursor(order, id) for order in ("ID_ASC", "ID_DESC") for id in (2**40, -(2**40), 0)),
    *(
        _cursor(order, id, power)
        for order in ("POWER_KW_ASC", "POWER_KW_DESC")
        for id, power in ((2**62, 1e308), (-(2**62), -1e308), (7, None), (2**31, 50), (3, 0))
    ),
]


@pytest.mark.parametrize("cursor", CRAFTED_CURSORS)
def test_crafted_cursors(loaded: Loaded, cursor: str) -> None:
    for order in ORDERS:
        loaded.pair.same(PAGE, {"first": 3, "after": cursor, "orderBy": order})
        loaded.pair.same(PAGE, {"last": 3, "before": cursor, "orderBy": order})
        loaded.pair.same(PAGE, {"first": 3, "before": cursor, "orderBy": order})


def test_a_cursor_of_one_order_is_refused_under_another(loaded: Loaded) -> None:
    for cursor in loaded.cursors:
        for order in ORDERS:
            loaded.pair.same(PAGE, {"first": 2, "after": cursor, "orderBy": order})
            loaded.pair.same(PAGE, {"last": 2, "before": cursor, "orderBy": order})


# -- lookups, reference lists, history ----------------------------------------------------


def test_reference_lists_and_lookups(loaded: Loaded) -> None:
    loaded.pair.same(REFERENCE_LISTS)
    for name, (one, fields) in REFERENCES.items():
        for id in [*loaded.reference_ids[name], -1, 999_999]:
            query = f"query One($id: Int!) {{ {one}(id: $id) {{ {fields} }} }}"
            loaded.pair.same(query, {"id": id})


def test_connections_by_id(loaded: Loaded) -> None:
    query = f"query One($id: Int!) {{ connectionInfo(id: $id) {{ {EVERY_CONNECTION_FIELD} }} }}"
    for id in [*loaded.connection_ids[::11], *loaded.written_ids, 0, -5, 2**31 - 1]:
        loaded.pair.same(query, {"id": id})
    representations = [
        {"__typename": "ConnectionInfo", "id": id} for id in loaded.connection_ids[:30:3]
    ]
    representations += [{"__typename": "ConnectionInfo", "id": 123_456_789}]
    representations += [{"__typename": "StatusType", "id": i} for i in (0, 50, 12345)]
    loaded.pair.same(
        """query E($r: [_Any!]!) { _entities(representations: $r) { __typename
             ... on ConnectionInfo { id powerKw statusType { title } }
             ... on StatusType { id title } } }""",
        {"r": representations},
    )


def test_change_logs_walked_by_cursor(loaded: Loaded) -> None:
    for connection in [*loaded.written_ids, loaded.connection_ids[-1], 424_242]:
        whole = loaded.pair.same(HISTORY, {"id": connection, "first": 100})
        entries = whole["data"]["connectionInfoHistory"]["edges"]
        walked: list[Any] = []
        cursor = None
        while True:
            page = loaded.pair.same(HISTORY, {"id": connection, "first": 1, "after": cursor})
            history = page["data"]["connectionInfoHistory"]
            walked += history["edges"]
            if not history["pageInfo"]["hasNextPage"]:
                break
            cursor = history["pageInfo"]["endCursor"]
        assert walked == entries, connection
    assert loaded.pair.same(HISTORY, {"id": loaded.written_ids[0]})["data"][
        "connectionInfoHistory"
    ]["edges"], "the created connection has a change log"


# -- cursors across backends --------------------------------------------------------------


def _crossing_walk(pair: Pair, variables: dict[str, Any], *, forward: bool) -> list[Any]:
    """A walk whose pages alternate between the backends, each continuing from the
    other's cursor."""
    edges: list[Any] = []
    cursor: str | None = None
    for turn in range(10_000):
        backend = pair.backends[turn % 2]
        if forward:
            page_variables = {**variables, "after": cursor}
        else:
            page_variables = {**variables, "before": cursor}
        answer = pair.ask(backend, PAGE, page_variables)
        assert "errors" not in answer, (backend.name, answer)
        page = answer["data"]["connectionInfos"]
        edges += page["edges"] if forward else list(reversed(page["edges"]))
        info = page["pageInfo"]
        if not (info["hasNextPage"] if forward else info["hasPreviousPage"]):
            return edges
        cursor = info["endCursor"] if forward else info["startCursor"]
    raise AssertionError("the walk does not end")


@pytest.mark.parametrize("order", ORDERS)
def test_cursors_work_on_the_other_backend(loaded: Loaded, order: str) -> None:
    """Walks whose pages alternate between the backends, starting on either, give the
    rows of a walk on one backend."""
    pair = loaded.pair
    swapped = Pair(pair.runner, pair.postgres, pair.sqlite)
    for filter in ({}, {"minPowerKw": loaded.powers[1]}, {"isOperational": True}):
        for forward, size in ((True, {"first": 29}), (False, {"last": 29})):
            variables = {**size, "filter": filter, "orderBy": order}
            single = [
                edge
                for page in _whole(pair, variables, forward=forward)
                for edge in (page["edges"] if forward else reversed(page["edges"]))
            ]
            for starting in (pair, swapped):  # either backend makes the first cursor
                crossing = _crossing_walk(starting, variables, forward=forward)
                assert crossing == single, (order, filter, forward, starting.backends[0].name)


def test_every_cursor_continues_alike_on_both(loaded: Loaded) -> None:
    """Each cursor of a SQLite walk, taken to PostgreSQL, and the other way round."""
    for order in ORDERS:
        for backend in loaded.pair.backends:
            answer = loaded.pair.ask(backend, PAGE, {"first": 15, "orderBy": order})
            for edge in answer["data"]["connectionInfos"]["edges"]:
                loaded.pair.same(PAGE, {"first": 3, "after": edge["cursor"], "orderBy": order})
                loaded.pair.same(PAGE, {"last": 3, "before": edge["cursor"], "orderBy": order})


# -- charge points ------------------------------------------------------------------------

SITES: Final = f"""
query Sites($first: Int, $after: String, $last: Int, $before: String,
    $filter: ChargePointFilter, $near: GeoRadius, $within: GeoBox, $orderBy: ChargePointOrder) {{
  chargePoints(first: $first, after: $after, last: $last, before: $before, filter: $filter,
      near: $near, within: $within, orderBy: $orderBy) {{
    totalCount
    edges {{ cursor node {{ {EVERY_SITE_FIELD} }} }}
    pageInfo {{ startCursor endCursor hasNextPage hasPreviousPage }}
  }}
}}"""
TALLINN: Final = {"latitude": 59.437, "longitude": 24.7536}
SITE_ARGUMENTS: Final[list[dict[str, Any]]] = [
    {},
    {"orderBy": "ID_DESC", "filter": {"includeUnpublished": True}},
    {"near": {**TALLINN, "radiusKm": 25}, "orderBy": "DISTANCE"},
    {"near": {**TALLINN, "radiusKm": 500}, "orderBy": "DISTANCE"},
    {"near": {"latitude": 64.1466, "longitude": -21.9426, "radiusKm": 300}, "orderBy": "DISTANCE"},
    {"near": {**TALLINN, "radiusKm": 40}},
    {"within": {"south": 59.3, "west": 24.5, "north": 59.6, "east": 25.0}},
    {"within": {"south": -90, "west": 20, "north": 90, "east": -20}, "orderBy": "ID_DESC"},
    {"filter": {"countryCodes": ["IS"], "connections": {"minPowerKw": 50}}},
    {"filter": {"isOperational": True, "connections": {"currentTypeIds": [30]}}},
    {"filter": {"operatorIds": [1, 3, 5], "usageTypeIds": [1, 4, 5]}},
]


def _site_walk(pair: Pair, variables: dict[str, Any], *, forward: bool) -> list[Any]:
    """Every edge of a walk to the end, in order, each page compared across backends."""
    edges: list[Any] = []
    cursor: str | None = None
    while True:
        direction = {"first": 13, "after": cursor} if forward else {"last": 13, "before": cursor}
        page = pair.same(SITES, {**variables, **direction})["data"]["chargePoints"]
        edges += page["edges"] if forward else list(reversed(page["edges"]))
        info = page["pageInfo"]
        if not (info["hasNextPage"] if forward else info["hasPreviousPage"]):
            return edges if forward else edges[::-1]
        cursor = info["endCursor"] if forward else info["startCursor"]


@pytest.mark.parametrize("index", range(len(SITE_ARGUMENTS)))
def test_site_walks_alike_on_both_backends(loaded: Loaded, index: int) -> None:
    variables = SITE_ARGUMENTS[index]
    ahead = _site_walk(loaded.pair, variables, forward=True)
    behind = _site_walk(loaded.pair, variables, forward=False)
    assert ahead == behind
    nodes_seen = [edge["node"] for edge in ahead]
    if variables.get("orderBy") == "DISTANCE":
        keys = [(node["distanceKm"], node["id"]) for node in nodes_seen]
        assert keys == sorted(keys)
    if index in (0, 3):
        assert len(nodes_seen) > 13, "the walk spans several pages"


def test_site_cursors_work_on_the_other_backend(loaded: Loaded) -> None:
    variables = {"near": {**TALLINN, "radiusKm": 500}, "orderBy": "DISTANCE", "first": 4}
    for backend in loaded.pair.backends:
        answer = loaded.pair.ask(backend, SITES, variables)
        for edge in answer["data"]["chargePoints"]["edges"]:
            loaded.pair.same(SITES, {**variables, "after": edge["cursor"]})
            loaded.pair.same(
                SITES, {**variables, "first": None, "last": 3, "before": edge["cursor"]}
            )


def test_sites_by_id_and_as_entities(loaded: Loaded) -> None:
    query = f"query One($id: Int!) {{ chargePoint(id: $id) {{ {EVERY_SITE_FIELD} }} }}"
    for id in [*loaded.site_ids[::9], 0, -5, 2**31 - 1]:
        loaded.pair.same(query, {"id": id})
    loaded.pair.same(
        """{ operators { id title websiteUrl isPrivateIndividual }
             usageTypes { id title isPayAtLocation isMembershipRequired isAccessKeyRequired }
             countries { id isoCode continentCode title } }"""
    )
    representations = [{"__typename": "ChargePoint", "id": id} for id in loaded.site_ids[:20:3]]
    representations += [
        {"__typename": n, "id": i} for n in ("Operator", "Country") for i in (5, 74)
    ]
    loaded.pair.same(
        """query E($r: [_Any!]!) { _entities(representations: $r) { __typename
             ... on ChargePoint { id title distanceKm connections { id chargePoint { id } } }
             ... on Operator { title } ... on Country { isoCode } } }""",
        {"r": representations},
    )


def test_site_connections_with_and_without_filters(loaded: Loaded) -> None:
    """ChargePoint.connections, batched for a page of sites: alike on both backends."""
    query = """query S($near: GeoRadius, $f: ConnectionInfoFilter) {
      chargePoints(first: 60, near: $near, orderBy: DISTANCE) { nodes { id
        connections { id powerKw connectionType { id } }
        none: connections(filter: null) { id }
        given: connections(filter: $f) { id powerKw statusType { isOperational } }
        fast: connections(filter: {minPowerKw: 50}) { id chargePoint { id } } } } }"""
    near = {**TALLINN, "radiusKm": 500}
    for wanted in (
        None,
        {},
        {"maxPowerKw": 22},
        {"isOperational": True, "currentTypeIds": [30]},
        {"ids": loaded.connection_ids[::7]},
    ):
        answer = loaded.pair.same(query, {"near": near, "f": wanted})
        assert any(node["connections"] for node in answer["data"]["chargePoints"]["nodes"])


# -- generated queries --------------------------------------------------------------------


def _generated(data: Loaded) -> st.SearchStrategy[Any]:
    """Queries over the public SDL whose ints, floats and strings come mostly from the
    data (ids that exist, powers that are stored, cursors that were made), so that they
    find rows, and otherwise from anywhere in range."""
    ints = st.one_of(
        st.sampled_from(data.connection_ids + data.written_ids),
        st.sampled_from(data.site_ids),
        st.sampled_from(sorted({i for ids in data.reference_ids.values() for i in ids})),
        st.integers(min_value=-3, max_value=60),
        st.integers(min_value=-(2**31), max_value=2**31 - 1),
    )
    floats = st.one_of(
        st.sampled_from(data.powers),
        st.floats(min_value=-10, max_value=500, allow_nan=False),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    strings = st.one_of(st.sampled_from(data.cursors), st.text(max_size=12))
    return queries(
        public_sdl(),
        custom_scalars={
            "Int": ints.map(nodes.Int),
            "Float": floats.map(nodes.Float),
            "String": strings.map(nodes.String),
        },
    )


_GENERATED: dict[str, st.SearchStrategy[Any]] = {}


@reproducible(EXAMPLES, SEED)
@given(data=st.data())
def test_generated_queries(loaded: Loaded, data: st.DataObject) -> None:
    if loaded.name not in _GENERATED:
        _GENERATED[loaded.name] = _generated(loaded)
    query = data.draw(_GENERATED[loaded.name], label="query")
    loaded.pair.same(query)
