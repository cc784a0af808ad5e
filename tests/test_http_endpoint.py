"""The GraphQL-over-HTTP endpoint in process: status codes per media type, methods,
batching, persisted queries, trusted documents and HTTP caching."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.repository.base import Repository
from gql.repository.factory import open_repository
from gql.settings import Settings
from tests.persisted_queries import apq_extensions, write_manifest
from tests.slow_pages import SlowPages
from tests.slow_pages import slow_app as slow_pages_app

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
QUERY = "{ connectionInfos(first: 3) { nodes { id connectionType { title } } } }"


def _client(database_url: str, **settings: Any) -> TestClient:
    return TestClient(create_app(Settings(database_url=database_url, **settings)))


@pytest.fixture
def client(demo_db: str) -> Iterator[TestClient]:
    with _client(demo_db) as test_client:
        yield test_client


def _post(client: TestClient, body: Any, accept: str | None = JSON, **headers: str) -> Any:
    if accept is not None:
        headers["accept"] = accept
    return client.post("/graphql", content=json.dumps(body), headers=headers | _json_body())


def _json_body() -> dict[str, str]:
    return {"content-type": "application/json"}


def _code(response: Any) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


# --- media types and status codes -------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (JSON, JSON),
        ("*/*", JSON),
        (None, JSON),
        (f"{JSON};q=0.9, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE};q=0.5", JSON),
    ],
)
def test_answers_in_the_negotiated_media_type(
    client: TestClient, accept: str | None, content_type: str
) -> None:
    response = _post(client, {"query": QUERY}, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{content_type}; charset=utf-8"
    assert len(response.json()["data"]["connectionInfos"]["nodes"]) == 3
    assert "Accept" in response.headers["vary"].split(", ")


def test_an_accept_with_neither_type_is_406(client: TestClient) -> None:
    response = _post(client, {"query": QUERY}, "text/html")
    assert response.status_code == 406
    assert _code(response) == "NOT_ACCEPTABLE"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"query": "query($id: Int!) { connectionInfo(id: $id) { id } }", "variables": {}},
            "BAD_USER_INPUT",
        ),
        (
            {"query": "query A { levels { id } }", "operationName": "B"},
            "OPERATION_RESOLUTION_FAILURE",
        ),
    ],
)
def test_requests_that_never_ran(client: TestClient, body: dict[str, Any], code: str) -> None:
    strict = _post(client, body, GRAPHQL_RESPONSE)
    assert strict.status_code == 400
    assert "data" not in strict.json()
    assert _code(strict) == code
    legacy = _post(client, body, JSON)
    assert legacy.status_code == 200
    assert "data" not in legacy.json()
    assert _code(legacy) == code


def test_a_field_error_is_a_200_with_data_in_both_media_types(client: TestClient) -> None:
    """The operation ran: its data is there, null here because the failing field is
    non-null and the error propagated to the root."""
    body = {"query": "{ levels { id } connectionInfos(first: 5000) { totalCount } }"}
    for accept in (GRAPHQL_RESPONSE, JSON):
        response = _post(client, body, accept)
        assert response.status_code == 200
        assert response.json()["data"] is None
        assert response.json()["errors"][0]["path"] == ["connectionInfos"]
        assert _code(response) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("content", "headers", "status", "code"),
    [
        ('{"query": "{ levels { id } }"}', {}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            '{"query": "{ levels { id } }"}',
            {"content-type": "text/plain"},
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ('{ "not json', _json_body(), 400, "BAD_REQUEST"),
        ("", _json_body(), 400, "BAD_REQUEST"),
        ('{"qeury": "{ levels { id } }"}', _json_body(), 400, "BAD_REQUEST"),
        ('{"query": 1}', _json_body(), 400, "BAD_REQUEST"),
        ('{"query": "{ levels { id } }", "variables": "x"}', _json_body(), 400, "BAD_REQUEST"),
    ],
)
def test_malformed_http_requests(
    client: TestClient, content: str, headers: dict[str, str], status: int, code: str
) -> None:
    for accept in (GRAPHQL_RESPONSE, JSON):
        response = client.post("/graphql", content=content, headers=headers | {"accept": accept})
        assert response.status_code == status
        assert _code(response) == code
        assert response.json()["errors"][0]["message"]


def test_a_body_over_the_limit_is_413(demo_db: str) -> None:
    with _client(demo_db, max_body_bytes=200) as client:
        small = _post(client, {"query": "{ levels { id } }"})
        assert small.status_code == 200
        big = _post(client, {"query": "{ levels { id } }" + " " * 200})
        assert big.status_code == 413
        assert _code(big) == "PAYLOAD_TOO_LARGE"


# --- methods -------------------------------------------------------------------------


def test_get_runs_queries_with_json_variables(client: TestClient) -> None:
    response = client.get(
        "/graphql",
        params={
            "query": "query($first: Int) { connectionInfos(first: $first) { nodes { id } } }",
            "variables": json.dumps({"first": 4}),
        },
    )
    assert response.status_code == 200
    assert len(response.json()["data"]["connectionInfos"]["nodes"]) == 4


def test_a_mutation_over_get_is_405_with_allow(client: TestClient) -> None:
    response = client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert _code(response) == "METHOD_NOT_ALLOWED"


def test_other_methods_are_405(client: TestClient) -> None:
    response = client.put("/graphql", content=b"{}", headers=_json_body())
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


# --- batching --------------------------------------------------------------------------


def test_a_batch_answers_in_order(client: TestClient) -> None:
    batch = [
        {"query": "{ levels { id } }"},
        {"query": "{ noSuchField }"},
        {"query": QUERY},
        {"notquery": 1},
    ]
    response = _post(client, batch, GRAPHQL_RESPONSE)
    assert response.status_code == 200
    answers = response.json()
    assert len(answers) == 4
    assert answers[0] == _post(client, batch[0]).json()
    assert _code_of(answers[1]) == "GRAPHQL_VALIDATION_FAILED"
    assert "data" not in answers[1]
    assert answers[2] == _post(client, batch[2]).json()
    assert _code_of(answers[3]) == "BAD_REQUEST"


def _code_of(answer: dict[str, Any]) -> str:
    return str(answer["errors"][0]["extensions"]["code"])


def test_a_batch_over_the_limit_is_refused(demo_db: str) -> None:
    with _client(demo_db, max_batch_size=2) as client:
        assert _post(client, [{"query": "{ levels { id } }"}] * 2).status_code == 200
        response = _post(client, [{"query": "{ levels { id } }"}] * 3)
        assert response.status_code == 400
        assert _code(response) == "BATCH_LIMIT_EXCEEDED"
    with _client(demo_db, max_batch_size=0) as client:
        response = _post(client, [{"query": "{ levels { id } }"}])
        assert _code(response) == "BATCHING_NOT_ENABLED"


def test_a_batch_shares_the_requests_loaders(demo_db: str) -> None:
    """Five lookups with all their relations in one batch cost what one lookup costs."""
    opened: list[Repository] = []

    async def open_and_keep(settings: Settings) -> Repository:
        opened.append(await open_repository(settings))
        return opened[-1]

    lookup = (
        "query($id: Int!) { connectionInfo(id: $id) "
        "{ id connectionType { id } statusType { id } level { id } currentType { id } } }"
    )
    with TestClient(create_app(Settings(database_url=demo_db), open_repo=open_and_keep)) as client:
        repository = opened[0]

        def statements(body: Any) -> int:
            before = repository.statement_count
            response = _post(client, body)
            assert response.status_code == 200
            assert "errors" not in json.dumps(response.json())
            return repository.statement_count - before

        cold = statements({"query": lookup, "variables": {"id": 1_000_000_001}})
        warm = statements({"query": lookup, "variables": {"id": 1_000_000_002}})
        batch = [{"query": lookup, "variables": {"id": 1_000_000_010 + i * 7}} for i in range(5)]
        five = statements(batch)
    print(f"statements: one lookup {cold} cold / {warm} warm, a batch of five {five}")
    assert warm == 1
    assert five == warm


# --- persisted queries ------------------------------------------------------------------


def test_automatic_persisted_queries_over_post_and_get(client: TestClient) -> None:
    query = "{ connectionInfos(first: 2) { nodes { id powerKw } } }"
    persisted = apq_extensions(query)
    miss = _post(client, {"extensions": persisted}, GRAPHQL_RESPONSE)
    assert miss.status_code == 404
    assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert _code(miss) == "PERSISTED_QUERY_NOT_FOUND"
    assert _post(client, {"extensions": persisted}, JSON).status_code == 200

    expected = _post(client, {"query": query}).json()
    registered = _post(client, {"query": query, "extensions": persisted})
    assert registered.json() == expected
    assert _post(client, {"extensions": persisted}).json() == expected
    by_get = client.get("/graphql", params={"extensions": json.dumps(persisted)})
    assert by_get.status_code == 200
    assert by_get.json() == expected


def test_a_hash_that_does_not_match_its_query_is_refused(client: TestClient) -> None:
    persisted = apq_extensions("{ levels { id } }")
    response = _post(client, {"query": "{ statusTypes { id } }", "extensions": persisted})
    assert response.status_code == 400
    assert _code(response) == "BAD_REQUEST"
    # Nothing was stored under the hash.
    miss = _post(client, {"extensions": persisted})
    assert _code(miss) == "PERSISTED_QUERY_NOT_FOUND"


def test_an_invalid_query_is_not_persisted(client: TestClient) -> None:
    query = "{ noSuchField }"
    persisted = apq_extensions(query)
    _post(client, {"query": query, "extensions": persisted})
    assert _code(_post(client, {"extensions": persisted})) == "PERSISTED_QUERY_NOT_FOUND"


def test_apq_can_be_turned_off(demo_db: str) -> None:
    with _client(demo_db, apq_cache_size=0) as client:
        query = "{ levels { id } }"
        persisted = apq_extensions(query)
        response = _post(client, {"query": query, "extensions": persisted})
        assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
        assert _code(response) == "PERSISTED_QUERY_NOT_SUPPORTED"


def test_trusted_documents_run_only_listed_operations(demo_db: str, tmp_path: Path) -> None:
    listed = "query Levels { levels { id title } }"
    manifest = write_manifest(tmp_path / "manifest.json", listed)
    with _client(demo_db, trusted_documents=manifest) as client:
        by_hash = _post(
            client,
            {"extensions": apq_extensions(listed)},
        )
        assert by_hash.status_code == 200
        levels = by_hash.json()["data"]["levels"]
        assert levels
        assert all(level["title"] for level in levels)
        assert _post(client, {"query": listed}).json() == by_hash.json()

        unlisted = "{ levels { id } }"
        refused = _post(client, {"query": unlisted}, GRAPHQL_RESPONSE)
        assert refused.status_code == 400
        assert "data" not in refused.json()
        assert _code(refused) == "QUERY_NOT_IN_SAFELIST"
        # Registering through APQ does not get around the list.
        apq = apq_extensions(unlisted)
        assert _code(_post(client, {"query": unlisted, "extensions": apq})) == (
            "PERSISTED_QUERY_NOT_IN_LIST"
        )
        assert _code(_post(client, {"extensions": apq})) == "PERSISTED_QUERY_NOT_IN_LIST"


# --- HTTP caching and compression ---------------------------------------------------------


def test_get_answers_carry_an_etag_and_304_when_unchanged(client: TestClient) -> None:
    first = client.get("/graphql", params={"query": QUERY})
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "no-cache"
    again = client.get("/graphql", params={"query": QUERY}, headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(
        "/graphql",
        params={"query": "{ connectionInfos(first: 4) { nodes { id } } }"},
        headers={"if-none-match": etag},
    )
    assert other.status_code == 200
    assert other.headers["etag"] != etag


def test_the_etag_depends_on_the_media_type(client: TestClient) -> None:
    tags = {
        client.get("/graphql", params={"query": QUERY}, headers={"accept": accept}).headers["etag"]
        for accept in (JSON, GRAPHQL_RESPONSE)
    }
    assert len(tags) == 2


def test_cache_control_is_configurable_and_errors_are_not_stored(demo_db: str) -> None:
    with _client(demo_db, cache_control="public, max-age=60") as client:
        ok = client.get("/graphql", params={"query": QUERY})
        assert ok.headers["cache-control"] == "public, max-age=60"
        failed = client.get(
            "/graphql", params={"query": "{ connectionInfos(first: 5000) { totalCount } }"}
        )
        assert failed.headers["cache-control"] == "no-store"
        posted = _post(client, {"query": QUERY})
        assert posted.headers["cache-control"] == "no-store"
        assert "etag" not in posted.headers


def test_large_answers_are_gzipped(client: TestClient) -> None:
    query = "{ connectionInfos(first: 200) { nodes { id comments powerKw } } }"
    response = client.post(
        "/graphql",
        json={"query": query},
        headers={"accept-encoding": "gzip"},
    )
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    small = client.post(
        "/graphql", json={"query": "{ levels { id } }"}, headers={"accept-encoding": "gzip"}
    )
    assert "content-encoding" not in small.headers
    raw = client.post("/graphql", json={"query": query}, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)


# --- CORS ----------------------------------------------------------------------------------


def test_preflight_allows_json_posts_from_any_origin_by_default(client: TestClient) -> None:
    response = client.options(
        "/graphql",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-api-key",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed
    assert "x-api-key" in allowed
    simple = _post(client, {"query": QUERY}, origin="https://app.example")
    assert simple.headers["access-control-allow-origin"] == "*"
    assert "etag" in simple.headers["access-control-expose-headers"].lower()


def test_configured_origins_only(demo_db: str) -> None:
    with _client(demo_db, cors_origins=("https://app.example",)) as client:
        preflight = {
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        }
        allowed = client.options("/graphql", headers={"origin": "https://app.example", **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example"
        refused = client.options(
            "/graphql", headers={"origin": "https://evil.example", **preflight}
        )
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        answer = _post(client, {"query": QUERY}, origin="https://evil.example")
        assert "access-control-allow-origin" not in answer.headers


def test_cors_can_be_turned_off(demo_db: str) -> None:
    with _client(demo_db, cors_origins=()) as client:
        answer = _post(client, {"query": QUERY}, origin="https://app.example")
        assert "access-control-allow-origin" not in answer.headers


# --- execution time and URL length --------------------------------------------------------


@pytest.fixture
def slow_app(demo_db: str) -> Iterator[tuple[TestClient, SlowPages]]:
    app, opened = slow_pages_app(Settings(database_url=demo_db, execution_timeout_ms=200))
    with TestClient(app) as client:
        yield client, opened[0]


def test_an_operation_over_the_time_limit_is_stopped(
    slow_app: tuple[TestClient, SlowPages],
) -> None:
    client, slow = slow_app
    slow.delay = 60
    strict = _post(client, {"query": QUERY}, GRAPHQL_RESPONSE)
    legacy = _post(client, {"query": QUERY}, JSON)
    over_get = client.get("/graphql", params={"query": QUERY}, headers={"accept": JSON})
    assert strict.status_code == 504
    assert strict.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert legacy.status_code == over_get.status_code == 200
    assert legacy.headers["content-type"] == f"{JSON}; charset=utf-8"
    for response in (strict, legacy, over_get):
        assert response.json() == {
            "errors": [
                {
                    "message": "The operation ran longer than 200 ms and was stopped.",
                    "extensions": {"code": "OPERATION_TIMED_OUT"},
                }
            ]
        }
    assert slow.cancelled == 3  # the work itself was cancelled, not left running


def test_the_server_goes_on_answering_after_a_timeout(
    slow_app: tuple[TestClient, SlowPages],
) -> None:
    client, slow = slow_app
    slow.delay = 60
    assert _post(client, {"query": QUERY}, GRAPHQL_RESPONSE).status_code == 504
    slow.delay = 0
    answer = _post(client, {"query": QUERY}, GRAPHQL_RESPONSE)
    assert answer.status_code == 200
    assert len(answer.json()["data"]["connectionInfos"]["nodes"]) == 3
    assert _post(client, {"query": "{ levels { id } }"}).json()["data"]["levels"]
    assert client.get("/readyz").status_code == 200


def test_a_slow_operation_of_a_batch_times_out_alone(
    slow_app: tuple[TestClient, SlowPages],
) -> None:
    client, slow = slow_app
    slow.delay = 60
    response = _post(client, [{"query": QUERY}, {"query": "{ levels { id } }"}], GRAPHQL_RESPONSE)
    assert response.status_code == 200
    timed_out, answered = response.json()
    assert timed_out == {
        "errors": [
            {
                "message": "The operation ran longer than 200 ms and was stopped.",
                "extensions": {"code": "OPERATION_TIMED_OUT"},
            }
        ]
    }
    assert answered["data"]["levels"]


def test_an_operation_within_the_time_limit_answers(
    slow_app: tuple[TestClient, SlowPages],
) -> None:
    client, slow = slow_app
    slow.delay = 0.05
    response = _post(client, {"query": QUERY}, GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert slow.cancelled == 0


def _query_string(length: int) -> str:
    """A GET query string of exactly ``length`` bytes (trailing spaces pad the query)."""
    base = urlencode({"query": "{ __typename }"})
    return urlencode({"query": "{ __typename }" + " " * (length - len(base))})


def test_a_get_query_string_over_the_limit_is_414(demo_db: str) -> None:
    with _client(demo_db, max_url_bytes=100) as client:
        assert len(_query_string(100)) == 100
        at_limit = client.get(f"/graphql?{_query_string(100)}", headers={"accept": JSON})
        assert at_limit.status_code == 200
        assert at_limit.json() == {"data": {"__typename": "Query"}}
        for accept in (GRAPHQL_RESPONSE, JSON):
            over = client.get(f"/graphql?{_query_string(101)}", headers={"accept": accept})
            assert over.status_code == 414  # for legacy clients too: HTTP, not GraphQL
            assert over.headers["content-type"] == f"{accept}; charset=utf-8"
            assert over.json() == {
                "errors": [
                    {
                        "message": "The query string is longer than 100 bytes; use POST.",
                        "extensions": {"code": "URI_TOO_LONG"},
                    }
                ]
            }


def test_the_default_url_limit_is_8_kib(client: TestClient) -> None:
    assert client.get(f"/graphql?{_query_string(8192)}").status_code == 200
    assert client.get(f"/graphql?{_query_string(8193)}").status_code == 414
