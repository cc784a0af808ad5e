"""schema.graphql is the output of `ocm-gql export-schema`, and keeps the fixed names."""

from __future__ import annotations

import subprocess
import sys

from graphql import build_schema

from gql.graphql.schema import public_sdl as sdl
from tests.conftest import REPO_ROOT


def test_checked_in_sdl_matches_the_code() -> None:
    checked_in = (REPO_ROOT / "schema.graphql").read_text()
    assert checked_in == sdl(), (
        "schema.graphql drifted: run `ocm-gql export-schema > schema.graphql`"
    )


def test_export_schema_command_prints_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gql", "export-schema"], capture_output=True, text=True, check=True
    )
    assert result.stdout == (REPO_ROOT / "schema.graphql").read_text()


def test_contract_names() -> None:
    schema = build_schema(sdl())
    info = schema.type_map["ConnectionInfo"]
    assert list(info.fields) == [  # type: ignore[attr-defined]
        "id",
        "connectionTypeId",
        "reference",
        "statusTypeId",
        "levelId",
        "amps",
        "voltage",
        "powerKw",
        "currentTypeId",
        "quantity",
        "comments",
        "chargePointId",
        "connectionType",
        "statusType",
        "level",
        "currentType",
    ]
    fields = info.fields  # type: ignore[attr-defined]
    assert fields["levelId"].deprecation_reason
    assert fields["level"].deprecation_reason
    assert str(fields["id"].type) == "Int!"
    assert str(fields["level"].type) == "LevelType"
    assert str(fields["currentType"].type) == "SupplyType"
    query = schema.query_type
    assert query is not None
    args = query.fields["connectionInfos"].args
    assert list(args) == ["first", "after", "last", "before", "filter", "orderBy"]
    assert str(args["filter"].type) == "ConnectionInfoFilter"
    assert str(args["orderBy"].type) == "ConnectionInfoOrder"
    assert str(query.fields["connectionInfos"].type) == "ConnectionInfoConnection!"
    for name in ["connectionType", "statusType", "level", "currentType"]:
        assert list(query.fields[name].args) == ["id"]
    for name in ["connectionTypes", "statusTypes", "levels", "currentTypes"]:
        assert name in query.fields
    connection = schema.type_map["ConnectionInfoConnection"]
    assert set(connection.fields) == {"edges", "nodes", "pageInfo", "totalCount"}  # type: ignore[attr-defined]
    page_info = schema.type_map["PageInfo"]
    assert set(page_info.fields) == {  # type: ignore[attr-defined]
        "hasNextPage",
        "hasPreviousPage",
        "startCursor",
        "endCursor",
    }
    filters = schema.type_map["ConnectionInfoFilter"]
    assert set(filters.fields) == {  # type: ignore[attr-defined]
        "ids",
        "connectionTypeIds",
        "statusTypeIds",
        "levelIds",
        "currentTypeIds",
        "chargePointIds",
        "minPowerKw",
        "maxPowerKw",
        "isOperational",
        "isFastChargeCapable",
    }
    order = schema.type_map["ConnectionInfoOrder"]
    assert list(order.values) == ["ID_ASC", "ID_DESC", "POWER_KW_ASC", "POWER_KW_DESC"]  # type: ignore[attr-defined]
