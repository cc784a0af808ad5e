"""`connectionInfos` against the real OCM sample data: every filter and order, and paging
forward and backward through every row, checked against expectations computed here,
straight from the JSON files and independently of the server's code."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import GraphQLRunner, graphql_runner, run_cli, shared_ocm
from tests.databases import throwaway_database
from tests.queries import EVERY_CONNECTION_FIELD

Row = dict[str, Any]


PAGE_QUERY = f"""
query Page($first: Int, $after: String, $last: Int, $before: String,
           $filter: ConnectionInfoFilter, $orderBy: ConnectionInfoOrder) {{
  connectionInfos(first: $first, after: $after, last: $last, before: $before,
                  filter: $filter, orderBy: $orderBy) {{
    totalCount
    edges {{ cursor node {{ {EVERY_CONNECTION_FIELD} }} }}
    nodes {{ id }}
    pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
  }}
}}
"""


def _ocm_power(connection: Row) -> float | None:
    """OCM's rule, written out again here so the test does not trust the server's copy."""
    power = connection.get("PowerKW")
    amps, volts = connection.get("Amps"), connection.get("Voltage")
    if (power is None or power == 0) and amps and volts and amps > 0 and volts > 0:
        phases = 1.732 if connection.get("CurrentTypeID") == 20 else 1.0
        return round(amps * volts * phases / 1000, 1)
    return power


def _edge_case_sites() -> list[Row]:
    """Sites the sample lacks: non-operational statuses, power derived from amps and volts
    (single and three phase, and a recorded 0), and connections without a level."""
    variants: list[Row] = [
        {"StatusTypeID": 100, "LevelID": 1, "Amps": 16, "Voltage": 230, "CurrentTypeID": 10},
        {"StatusTypeID": 150, "Amps": 16, "Voltage": 400, "CurrentTypeID": 20},
        {
            "StatusTypeID": 200,
            "LevelID": 2,
            "Amps": 32,
            "Voltage": 400,
            "CurrentTypeID": 20,
            "PowerKW": 0,
        },
        {"StatusTypeID": 30, "LevelID": 3, "Amps": 125, "Voltage": 400, "CurrentTypeID": 30},
        {"StatusTypeID": 100, "Amps": 10, "Voltage": 230},
        {
            "StatusTypeID": 210,
            "LevelID": 1,
            "PowerKW": 2.3,
            "Reference": "A-1",
            "Comments": "Behind the gate",
        },
        {"StatusTypeID": 10, "LevelID": 1, "Amps": 0, "Voltage": 230, "CurrentTypeID": 10},
    ]
    return [
        {
            "ID": 990_000 + n,
            "AddressInfo": {"Title": f"Edge case {n}", "CountryID": 74},
            "Connections": [
                {"ID": 990_000 + 10 * n + k, "ConnectionTypeID": 25, **variant}
                for k, variant in enumerate(variants[n::3])
            ],
        }
        for n in range(3)
    ]


@pytest.fixture(scope="module")
def sample_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shared OCM sample plus the edge-case sites, imported through the CLI."""
    ocm = shared_ocm()
    folder = tmp_path_factory.mktemp("connection-infos")
    edge_cases = folder / "edge_cases.json"
    edge_cases.write_text(json.dumps(_edge_case_sites()))
    with throwaway_database(backend, folder) as url:
        run_cli("seed", "--database-url", url)
        run_cli("import", "--database-url", url, str(ocm / "poi"), str(edge_cases))
        yield url


@pytest.fixture
async def sample_graphql(sample_db: Any) -> Any:
    async with graphql_runner(sample_db) as runner:
        yield runner


def _load_expected() -> list[Row]:
    ocm = shared_ocm()
    reference = {
        name: {
            row["ID"]: row for row in json.loads((ocm / "reference" / f"{name}.json").read_text())
        }
        for name in ("ConnectionTypes", "StatusTypes", "ChargerTypes", "CurrentTypes")
    }

    def related(table: str, key: int | None, fields: dict[str, str]) -> Row | None:
        if key is None or key not in reference[table]:
            return None
        row = reference[table][key]
        return {"id": row["ID"], **{ours: row.get(theirs) for ours, theirs in fields.items()}}

    sites = [s for p in sorted((ocm / "poi").glob("poi_*.json")) for s in json.loads(p.read_text())]
    rows: list[Row] = []
    for site in [*sites, *_edge_case_sites()]:
        for c in site.get("Connections") or ():
            power = _ocm_power(c)
            rows.append(
                {
                    "id": c["ID"],
                    "connectionTypeId": c.get("ConnectionTypeID"),
                    "reference": c.get("Reference"),
                    "statusTypeId": c.get("StatusTypeID"),
                    "levelId": c.get("LevelID"),
                    "amps": c.get("Amps"),
                    "voltage": None if c.get("Voltage") is None else float(c["Voltage"]),
                    "powerKw": None if power is None else float(power),
                    "currentTypeId": c.get("CurrentTypeID"),
                    "quantity": c.get("Quantity"),
                    "comments": c.get("Comments"),
                    "chargePointId": site["ID"],
                    "connectionType": related(
                        "ConnectionTypes",
                        c.get("ConnectionTypeID"),
                        {
                            "title": "Title",
                            "formalName": "FormalName",
                            "isDiscontinued": "IsDiscontinued",
                            "isObsolete": "IsObsolete",
                        },
                    ),
                    "statusType": related(
                        "StatusTypes",
                        c.get("StatusTypeID"),
                        {
                            "title": "Title",
                            "isOperational": "IsOperational",
                            "isUserSelectable": "IsUserSelectable",
                        },
                    ),
                    "level": related(
                        "ChargerTypes",
                        c.get("LevelID"),
                        {
                            "title": "Title",
                            "comments": "Comments",
                            "isFastChargeCapable": "IsFastChargeCapable",
                        },
                    ),
                    "currentType": related(
                        "CurrentTypes",
                        c.get("CurrentTypeID"),
                        {"title": "Title", "description": "Description"},
                    ),
                }
            )
    return rows


@pytest.fixture(scope="module")
def expected_rows() -> list[Row]:
    return _load_expected()


def _sorted(rows: list[Row], order: str) -> list[Row]:
    def power_key(sign: int) -> Callable[[Row], tuple[bool, float, int]]:
        return lambda r: (r["powerKw"] is None, sign * (r["powerKw"] or 0), r["id"])

    keys: dict[str, Callable[[Row], Any]] = {
        "ID_ASC": lambda r: r["id"],
        "ID_DESC": lambda r: -r["id"],
        "POWER_KW_ASC": power_key(1),
        "POWER_KW_DESC": power_key(-1),
    }
    return sorted(rows, key=keys[order])


def _matches(row: Row, condition: Row) -> bool:
    lists = {
        "ids": "id",
        "connectionTypeIds": "connectionTypeId",
        "statusTypeIds": "statusTypeId",
        "levelIds": "levelId",
        "currentTypeIds": "currentTypeId",
        "chargePointIds": "chargePointId",
    }
    for name, value in condition.items():
        if name in lists:
            if row[lists[name]] not in value:
                return False
        elif name == "minPowerKw":
            if row["powerKw"] is None or row["powerKw"] < value:
                return False
        elif name == "maxPowerKw":
            if row["powerKw"] is None or row["powerKw"] > value:
                return False
        elif name == "isOperational":
            if (row["statusType"] or {}).get("isOperational") is not value:
                return False
        elif name == "isFastChargeCapable":
            if (row["level"] or {}).get("isFastChargeCapable") is not value:
                return False
        else:
            raise AssertionError(f"unknown filter {name}")
    return True


FILTERS: list[Row] = [
    {},
    {"ids": [9083, 16140, 1]},
    {"ids": []},
    {"connectionTypeIds": [25]},
    {"connectionTypeIds": [2, 33]},
    {"statusTypeIds": [0]},
    {"statusTypeIds": [50, 0]},
    {"levelIds": [3]},
    {"currentTypeIds": [20]},
    {"currentTypeIds": [10, 30]},
    {"chargePointIds": [11729, 19133]},
    {"minPowerKw": 50},
    {"maxPowerKw": 22},
    {"minPowerKw": 11, "maxPowerKw": 22},
    {"minPowerKw": 22, "maxPowerKw": 22},
    {"minPowerKw": 100, "maxPowerKw": 50},
    {"isOperational": True},
    {"isOperational": False},
    {"isFastChargeCapable": True},
    {"isFastChargeCapable": False},
    {"isFastChargeCapable": True, "connectionTypeIds": [33], "minPowerKw": 100},
    {"isOperational": True, "currentTypeIds": [30], "levelIds": [3]},
]
ORDERS = ["ID_ASC", "ID_DESC", "POWER_KW_ASC", "POWER_KW_DESC"]


def test_the_sample_has_what_the_filters_need(expected_rows: list[Row]) -> None:
    # Each filter above must select something and leave something out, or it proves little.
    for condition in FILTERS:
        matched = sum(_matches(r, condition) for r in expected_rows)
        if condition and "ids" not in condition and "minPowerKw" not in condition:
            assert 0 < matched < len(expected_rows), condition
    assert any(r["powerKw"] is None for r in expected_rows)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("condition", FILTERS, ids=lambda c: json.dumps(c, sort_keys=True))
async def test_filter_and_order_forward_through_every_page(
    sample_graphql: GraphQLRunner, expected_rows: list[Row], condition: Row, order: str
) -> None:
    expected = _sorted([r for r in expected_rows if _matches(r, condition)], order)
    seen: list[Row] = []
    after = None
    pages = 0
    while True:
        data = await sample_graphql.data(
            PAGE_QUERY, {"first": 37, "after": after, "filter": condition, "orderBy": order}
        )
        connection = data["connectionInfos"]
        assert connection["totalCount"] == len(expected)
        nodes = [edge["node"] for edge in connection["edges"]]
        assert [n["id"] for n in connection["nodes"]] == [n["id"] for n in nodes]
        info = connection["pageInfo"]
        assert info["hasPreviousPage"] is (pages > 0 and bool(expected))
        if nodes:
            assert info["startCursor"] == connection["edges"][0]["cursor"]
            assert info["endCursor"] == connection["edges"][-1]["cursor"]
        seen.extend(nodes)
        pages += 1
        assert info["hasNextPage"] is (len(seen) < len(expected))
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    assert seen == expected


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(
    "condition", [{}, {"currentTypeIds": [20, 30]}, {"isOperational": True}], ids=str
)
async def test_backward_through_every_page(
    sample_graphql: GraphQLRunner, expected_rows: list[Row], condition: Row, order: str
) -> None:
    expected = _sorted([r for r in expected_rows if _matches(r, condition)], order)
    seen: list[Row] = []
    before = None
    while True:
        data = await sample_graphql.data(
            PAGE_QUERY, {"last": 25, "before": before, "filter": condition, "orderBy": order}
        )
        connection = data["connectionInfos"]
        nodes = [edge["node"] for edge in connection["edges"]]
        seen[:0] = nodes
        info = connection["pageInfo"]
        assert info["hasNextPage"] is (before is not None)
        assert info["hasPreviousPage"] is (len(seen) < len(expected))
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
    assert seen == expected


async def test_after_and_before_together_bound_a_window(
    sample_graphql: GraphQLRunner, expected_rows: list[Row]
) -> None:
    everything = (await sample_graphql.data(PAGE_QUERY, {"first": 1000}))["connectionInfos"]
    cursors = [edge["cursor"] for edge in everything["edges"]]
    ids = [edge["node"]["id"] for edge in everything["edges"]]
    window = await sample_graphql.data(
        PAGE_QUERY, {"first": 100, "after": cursors[10], "before": cursors[20]}
    )
    assert [n["id"] for n in window["connectionInfos"]["nodes"]] == ids[11:20]
    tail = await sample_graphql.data(
        PAGE_QUERY, {"last": 3, "after": cursors[10], "before": cursors[20]}
    )
    assert [n["id"] for n in tail["connectionInfos"]["nodes"]] == ids[17:20]
    assert len(ids) == len(expected_rows)


async def test_default_page_size(sample_graphql: GraphQLRunner) -> None:
    data = await sample_graphql.data("{ connectionInfos { nodes { id } } }")
    assert len(data["connectionInfos"]["nodes"]) == sample_graphql.settings.default_page_size


async def test_first_zero_is_an_empty_page(sample_graphql: GraphQLRunner) -> None:
    data = await sample_graphql.data(PAGE_QUERY, {"first": 0})
    connection = data["connectionInfos"]
    assert connection["edges"] == []
    assert connection["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": None,
        "endCursor": None,
    }


async def test_cursor_of_a_deleted_row_still_pages(
    sample_graphql: GraphQLRunner, expected_rows: list[Row]
) -> None:
    # Cursors carry the row's sort key, not its position, so they survive the row.
    from gql.domain.cursor import encode_cursor
    from gql.repository.models import SeekKey, SortOrder

    ids = sorted(r["id"] for r in expected_rows)
    missing = next(i for i in range(ids[0], ids[-1]) if i not in set(ids))
    after = encode_cursor(SeekKey(SortOrder.ID_ASC, missing))
    data = await sample_graphql.data(PAGE_QUERY, {"first": 2, "after": after})
    assert [n["id"] for n in data["connectionInfos"]["nodes"]] == [i for i in ids if i > missing][
        :2
    ]


async def test_connection_info_by_id(
    sample_graphql: GraphQLRunner, expected_rows: list[Row]
) -> None:
    row = next(r for r in expected_rows if r["level"] and r["currentType"])
    data = await sample_graphql.data(
        f"query($id: Int!) {{ connectionInfo(id: $id) {{ {EVERY_CONNECTION_FIELD} }} }}",
        {"id": row["id"]},
    )
    assert data["connectionInfo"] == row
    data = await sample_graphql.data("{ connectionInfo(id: -5) { id } }")
    assert data["connectionInfo"] is None


async def test_unknown_status_resolves_to_the_unknown_entry(
    sample_graphql: GraphQLRunner, expected_rows: list[Row]
) -> None:
    row = next(r for r in expected_rows if r["statusTypeId"] == 0)
    data = await sample_graphql.data(
        "query($id: Int!) { connectionInfo(id: $id) { statusTypeId statusType { id title } } }",
        {"id": row["id"]},
    )
    assert data["connectionInfo"] == {
        "statusTypeId": 0,
        "statusType": {"id": 0, "title": "Unknown"},
    }


async def test_absent_values_stay_null(
    sample_graphql: GraphQLRunner, expected_rows: list[Row]
) -> None:
    row = next(r for r in expected_rows if r["statusTypeId"] is None)
    data = await sample_graphql.data(
        "query($id: Int!) { connectionInfo(id: $id) { statusTypeId statusType { id } } }",
        {"id": row["id"]},
    )
    assert data["connectionInfo"] == {"statusTypeId": None, "statusType": None}
