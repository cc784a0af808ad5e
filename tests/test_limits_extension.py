"""The limits as a client meets them over HTTP (gql/graphql/limits/extension.py): each at
and just over its bound, and the production switches. The caches behind them are
tests/test_documents.py's."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.graphql.limits.extension import INTROSPECTION_DISABLED
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.settings import Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def _client(database_url: str, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(database_url=database_url, **settings)))


def _post(client: TestClient, body: Any, accept: str = GRAPHQL_RESPONSE) -> Any:
    return client.post("/graphql", json=body, headers={"accept": accept})


def _codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


# (settings, a query just at the bound, one just over it, code, extensions of the error)
LIMITS = {
    "depth": (
        {"max_depth": 3},
        "{ connectionInfos(first: 1) { nodes { id } } }",
        "{ connectionInfos(first: 1) { nodes { level { id } } } }",
        "QUERY_TOO_DEEP",
        {"depth": 4, "maxDepth": 3},
    ),
    "aliases": (
        {"max_aliases": 2},
        "{ a: levels { id } b: levels { id } }",
        "{ a: levels { id } b: levels { id } c: levels { id } }",
        "TOO_MANY_ALIASES",
        {"aliases": 3, "maxAliases": 2},
    ),
    "tokens": (
        {"max_tokens": 6},
        "{ levels { id } }",  # { levels { id } }: 6 tokens
        "{ levels { id title } }",
        "TOO_MANY_TOKENS",
        {},
    ),
    "cost": (
        {"max_cost": 41},
        "{ connectionInfos(first: 20) { nodes { id } } }",  # 1 + 20 x 2
        "{ connectionInfos(first: 21) { nodes { id } } }",
        "QUERY_TOO_COMPLEX",
        {"cost": 43, "maxCost": 41},
    ),
}


@pytest.mark.parametrize("limit", LIMITS)
def test_each_limit_at_its_bound_and_just_over(demo_db: str, limit: str) -> None:
    settings, at_bound, over, code, details = LIMITS[limit]
    with _client(demo_db, **settings) as client:
        for accept in (GRAPHQL_RESPONSE, JSON):
            ok = _post(client, {"query": at_bound}, accept)
            assert ok.status_code == 200, ok.text
            assert "errors" not in ok.json()
            assert ok.json()["data"]

        strict = _post(client, {"query": over}, GRAPHQL_RESPONSE)
        assert strict.status_code == 400
        assert strict.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
        legacy = _post(client, {"query": over}, JSON)
        assert legacy.status_code == 200
        assert legacy.headers["content-type"] == f"{JSON}; charset=utf-8"
        for response in (strict, legacy):
            body = response.json()
            assert "data" not in body
            [error] = body["errors"]
            assert error["extensions"] == {"code": code, **details}


def test_limits_apply_over_get_and_to_each_operation_of_a_batch(demo_db: str) -> None:
    settings, at_bound, over, code, _ = LIMITS["depth"]
    with _client(demo_db, **settings) as client:
        response = client.get("/graphql", params={"query": over}, headers={"accept": JSON})
        assert _codes(response.json()) == [code]
        batch = _post(client, [{"query": over}, {"query": at_bound}], JSON)
        assert batch.status_code == 200
        refused, answered = batch.json()
        assert _codes(refused) == [code]
        assert "data" not in refused
        assert answered["data"]["connectionInfos"]["nodes"]


def test_comments_count_as_tokens(demo_db: str) -> None:
    # Otherwise a document could carry any amount of text past the parser's limit.
    with _client(demo_db, max_tokens=6) as client:
        assert _post(client, {"query": "{ levels { id } }"}).status_code == 200
        response = _post(client, {"query": "# one\n{ levels { id } }"})
    assert response.status_code == 400
    assert _codes(response.json()) == ["TOO_MANY_TOKENS"]


def test_a_refused_operation_runs_no_sql(demo_db: str) -> None:
    opened: list[Repository] = []

    async def open_and_keep(settings: Settings) -> Repository:
        opened.append(await open_repository(settings))
        return opened[-1]

    app = create_app(Settings(database_url=demo_db, max_cost=100), open_repo=open_and_keep)
    with TestClient(app) as client:
        before = opened[0].statement_count
        for query in (
            "{ connectionInfos(first: 1000) { totalCount nodes { id } } }",
            "{ connectionInfos(first: 50) { nodes { id } } }",  # 101
        ):
            response = _post(client, {"query": query})
            assert response.status_code == 400
        assert _codes(response.json()) == ["QUERY_TOO_COMPLEX"]
        assert opened[0].statement_count == before


# --- production switches ---------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { queryType { name } } }",
        '{ __type(name: "ConnectionInfo") { fields { name } } }',
        "{ levels { id } __schema { types { name } } }",
    ],
)
def test_introspection_off_refuses_schema_and_type(demo_db: str, query: str) -> None:
    with _client(demo_db, introspection=False) as client:
        strict = _post(client, {"query": query})
        legacy = _post(client, {"query": query}, JSON)
    assert strict.status_code == 400
    assert legacy.status_code == 200
    for response in (strict, legacy):
        assert "data" not in response.json()
        assert set(_codes(response.json())) == {INTROSPECTION_DISABLED}


def test_typename_still_works_without_introspection(demo_db: str) -> None:
    with _client(demo_db, introspection=False) as client:
        root = _post(client, {"query": "{ __typename }"})
        nested = _post(client, {"query": "{ connectionInfos(first: 1) { nodes { __typename } } }"})
    assert root.json() == {"data": {"__typename": "Query"}}
    assert nested.json()["data"]["connectionInfos"]["nodes"] == [{"__typename": "ConnectionInfo"}]


def test_introspection_is_on_by_default(demo_db: str) -> None:
    with _client(demo_db) as client:
        response = _post(client, {"query": "{ __schema { queryType { name } } }"})
    assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


MISSPELLED = [
    # validation: a field, an argument, an enum literal
    {"query": "{ connectionInfos(first: 1) { nodez { id } } }"},
    {"query": "{ connectionInfos(firts: 1) { nodes { id } } }"},
    {"query": "{ connectionInfos(first: 1, orderBy: ID_AS) { nodes { id } } }"},
    # variables: an enum value and an input field
    {
        "query": "query($o: ConnectionInfoOrder) { connectionInfos(first: 1, orderBy: $o) "
        "{ nodes { id } } }",
        "variables": {"o": "ID_AS"},
    },
    {
        "query": "query($f: ConnectionInfoFilter) { connectionInfos(first: 1, filter: $f) "
        "{ nodes { id } } }",
        "variables": {"f": {"idz": [1]}},
    },
]


@pytest.mark.parametrize("body", MISSPELLED)
def test_field_suggestions_switch(demo_db: str, body: dict[str, Any]) -> None:
    with _client(demo_db) as client:
        on = _post(client, body)
    with _client(demo_db, field_suggestions=False) as client:
        off = _post(client, body)
    assert on.status_code == off.status_code == 400
    [with_hint] = on.json()["errors"]
    [without_hint] = off.json()["errors"]
    assert "Did you mean" in with_hint["message"]
    assert "Did you mean" not in without_hint["message"]
    assert without_hint["extensions"]["code"] == with_hint["extensions"]["code"]


def test_long_documents_are_refused_before_parsing(demo_db: str) -> None:
    from starlette.testclient import TestClient

    from gql.app import create_app
    from gql.settings import Settings

    query = "{ levels { id } }" + " " * 200
    with TestClient(
        create_app(Settings(database_url=demo_db, max_query_chars=len(query)))
    ) as client:
        assert client.post("/graphql", json={"query": query}).json()["data"]["levels"]
        refused = client.post(
            "/graphql",
            json={"query": query + " "},
            headers={"accept": "application/graphql-response+json"},
        )
        assert refused.status_code == 400
        error = refused.json()["errors"][0]
        assert error["extensions"]["code"] == "QUERY_TOO_LARGE"
        assert "data" not in refused.json()


def test_repeats_are_refused_before_validation(demo_db: str) -> None:
    from starlette.testclient import TestClient

    from gql.app import create_app
    from gql.settings import Settings

    with TestClient(create_app(Settings(database_url=demo_db, max_repeated_fields=3))) as client:
        ok = client.post("/graphql", json={"query": "{ levels { id id id } }"})
        assert ok.json()["data"]["levels"]
        refused = client.post("/graphql", json={"query": "{ levels { id id id id } }"})
        assert refused.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_REPEATED_FIELDS"
