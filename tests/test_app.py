"""The Starlette app in process: GraphQL over POST and GET, health and readiness."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.repository.url import DatabaseUrl
from gql.settings import Settings
from gql.version import VERSION
from tests.redis_servers import private_redis


@pytest.fixture
def client(demo_db: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=demo_db))) as test_client:
        yield test_client


QUERY = "{ connectionInfos(first: 2) { totalCount nodes { id statusType { title } } } }"


def test_post(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": QUERY})
    assert response.status_code == 200
    body = response.json()
    assert body["data"]["connectionInfos"]["totalCount"] == 3000
    assert len(body["data"]["connectionInfos"]["nodes"]) == 2


def test_get(client: TestClient) -> None:
    response = client.get("/graphql", params={"query": QUERY})
    assert response.status_code == 200
    assert response.json()["data"]["connectionInfos"]["totalCount"] == 3000


def test_variables_and_operation_name(client: TestClient) -> None:
    response = client.post(
        "/graphql",
        json={
            "query": "query A($id: Int!) { connectionInfo(id: $id) { id } } "
            "query B { levels { id } }",
            "operationName": "A",
            "variables": {"id": 1_000_000_001},
        },
    )
    assert response.json() == {"data": {"connectionInfo": {"id": 1_000_000_001}}}


def test_errors_over_http_have_codes(client: TestClient) -> None:
    response = client.post(
        "/graphql", json={"query": "{ connectionInfos(first: 5000) { totalCount } }"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "version": VERSION}
    assert client.get("/readyz").json() == {"status": "ok"}


def test_not_ready_when_the_database_is_closed(demo_db: str) -> None:
    opened: list[Repository] = []

    async def open_and_keep(settings: Settings) -> Repository:
        opened.append(await open_repository(settings))
        return opened[-1]

    with TestClient(create_app(Settings(database_url=demo_db), open_repo=open_and_keep)) as client:
        assert client.get("/readyz").status_code == 200
        client.portal.call(opened[0].close)  # type: ignore[union-attr]
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200  # the process itself is fine
    assert response.status_code == 503
    answer = response.json()
    assert answer["status"] == "unavailable"
    # Named as logs name it (an SQLite file by its path), with the reason after it.
    assert answer["down"]["database"].startswith(f"{DatabaseUrl.parse(demo_db)}: ")


def test_readiness_says_redis_is_degraded_while_it_is_down(demo_db: str) -> None:
    with private_redis() as redis:
        settings = Settings(database_url=demo_db, redis_url=redis.url)
        with TestClient(create_app(settings)) as client:
            assert client.get("/readyz").json() == {"status": "ok"}
            redis.stop()
            response = client.get("/readyz")
            # Reads and writes work without Redis: still ready, but degraded.
            assert response.status_code == 200
            answer = response.json()
            assert answer["status"] == "degraded"
            assert answer["degraded"]["redis"].startswith(f"{redis.url}: ")
            redis.start()
            assert client.get("/readyz").json() == {"status": "ok"}
