"""schema.graphql is the output of `ocm-gql export-schema`, and keeps the fixed names."""

from __future__ import annotations

import subprocess
import sys

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

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
        "chargePoint",
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


def _fields(schema: GraphQLSchema, name: str) -> list[str]:
    graphql_type = schema.type_map[name]
    assert isinstance(graphql_type, GraphQLObjectType | GraphQLInputObjectType)
    return list(graphql_type.fields)


def test_charge_point_contract_names() -> None:
    """The names issue 16 fixes, in its order."""
    schema = build_schema(sdl())
    assert _fields(schema, "ChargePoint") == [
        "id",
        "uuid",
        "title",
        "address",
        "location",
        "operatorId",
        "operator",
        "usageTypeId",
        "usageType",
        "usageCost",
        "statusTypeId",
        "statusType",
        "submissionStatusTypeId",
        "numberOfPoints",
        "generalComments",
        "dateCreated",
        "dateLastStatusUpdate",
        "dateLastVerified",
        "dataProviderId",
        "distanceKm",
        "connections",
    ]
    point = schema.type_map["ChargePoint"]
    assert isinstance(point, GraphQLObjectType)
    assert str(point.fields["connections"].type) == "[ConnectionInfo!]!"
    assert list(point.fields["connections"].args) == ["filter"]
    assert str(point.fields["connections"].args["filter"].type) == "ConnectionInfoFilter"
    for name in ("dateCreated", "dateLastStatusUpdate", "dateLastVerified"):
        assert str(point.fields[name].type) == "DateTime"
    assert _fields(schema, "Address") == [
        "addressLine1",
        "addressLine2",
        "town",
        "stateOrProvince",
        "postcode",
        "countryId",
        "country",
        "accessComments",
        "relatedUrl",
        "contactTelephone1",
    ]
    assert _fields(schema, "GeoPoint") == ["latitude", "longitude"]
    assert _fields(schema, "Operator") == ["id", "title", "websiteUrl", "isPrivateIndividual"]
    assert _fields(schema, "UsageType") == [
        "id",
        "title",
        "isPayAtLocation",
        "isMembershipRequired",
        "isAccessKeyRequired",
    ]
    assert _fields(schema, "Country") == ["id", "isoCode", "continentCode", "title"]
    assert _fields(schema, "GeoRadius") == ["latitude", "longitude", "radiusKm"]
    assert _fields(schema, "GeoBox") == ["south", "west", "north", "east"]
    assert _fields(schema, "ChargePointFilter") == [
        "ids",
        "countryIds",
        "countryCodes",
        "operatorIds",
        "usageTypeIds",
        "statusTypeIds",
        "isOperational",
        "connections",
        "includeUnpublished",
    ]
    order = schema.type_map["ChargePointOrder"]
    assert isinstance(order, GraphQLEnumType)
    assert list(order.values) == ["ID_ASC", "ID_DESC", "DISTANCE"]
    assert set(_fields(schema, "ChargePointConnection")) == {
        "edges",
        "nodes",
        "pageInfo",
        "totalCount",
    }
    assert _fields(schema, "ChargePointEdge") == ["cursor", "node"]
    query = schema.query_type
    assert query is not None
    assert list(query.fields["chargePoints"].args) == [
        "first",
        "after",
        "last",
        "before",
        "filter",
        "near",
        "within",
        "orderBy",
    ]
    assert str(query.fields["chargePoints"].type) == "ChargePointConnection!"
    assert list(query.fields["chargePoint"].args) == ["id"]
    for one, every in (
        ("operator", "operators"),
        ("usageType", "usageTypes"),
        ("country", "countries"),
    ):
        assert list(query.fields[one].args) == ["id"]
        assert str(query.fields[every].type) == f"[{one[0].upper()}{one[1:]}!]!"
    assert str(_type(schema, "ConnectionInfo").fields["chargePoint"].type) == "ChargePoint"


def _type(schema: GraphQLSchema, name: str) -> GraphQLObjectType:
    graphql_type = schema.type_map[name]
    assert isinstance(graphql_type, GraphQLObjectType)
    return graphql_type
