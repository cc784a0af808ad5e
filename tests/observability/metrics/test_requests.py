"""The request metrics in process: each request sent moves exactly the series it should,
by exactly one, over HTTP, Server-Sent Events and WebSocket; operation names label the
histogram only when trusted or listed; refusals are counted by limit, rate limits by
transport; /metrics can be off, or on a port of its own, and never answers 500.

Metrics are the process's (prometheus-client's default registry), so each test reads
how far they moved between two scrapes of /metrics, parsed as Prometheus parses them."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from gql.app import MEMORY_TRIMMER, POOL_METRICS, PROCESS_METRICS, create_app
from gql.graphql.errors import TOO_MANY_TOKENS
from gql.graphql.limits.aliases import TOO_MANY_ALIASES
from gql.graphql.limits.cost import QUERY_TOO_COMPLEX
from gql.graphql.limits.depth import QUERY_TOO_DEEP
from gql.graphql.limits.extension import INTROSPECTION_DISABLED, QUERY_TOO_LARGE
from gql.graphql.limits.repeats import TOO_MANY_REPEATED_FIELDS
from gql.graphql.subscriptions import TOO_MANY_SUBSCRIPTIONS
from gql.http import metrics_route
from gql.http.persisted import PERSISTED_QUERY_NOT_IN_LIST, QUERY_NOT_IN_SAFELIST
from gql.http.pipeline import OPERATION_TIMED_OUT, URI_TOO_LONG
from gql.http.request import BATCH_LIMIT_EXCEEDED, BATCHING_NOT_ENABLED, PAYLOAD_TOO_LARGE
from gql.http.server_protocol import REQUEST_TIMEOUT
from gql.observability.metrics.requests import COMMON_CODES, LIMITS
from gql.settings import Settings
from tests.conftest import REPO_ROOT
from tests.observability.metrics.scrapes import Scrape, labels
from tests.persisted_queries import apq_extensions, write_manifest
from tests.processes import free_port
from tests.test_subscriptions import SUBSCRIPTION
from tests.test_websocket_limits import LEVELS, _socket

pytestmark = pytest.mark.timeout(120)

REQUESTS = "ocm_gql_requests_total"
DURATIONS = "ocm_gql_request_duration_seconds_count"
ERRORS = "ocm_gql_graphql_errors_total"
REFUSED = "ocm_gql_refused_requests_total"
RATE_LIMITED = "ocm_gql_rate_limited_requests_total"
FEW = "query Few { connectionInfos(first: 2) { nodes { id } } }"
INVALID = "{ nope }"

AppOpener = Callable[..., contextlib.AbstractContextManager[TestClient]]


@pytest.fixture
def open_app(demo_db: str) -> AppOpener:
    @contextlib.contextmanager
    def start(**settings: Any) -> Iterator[TestClient]:
        with TestClient(create_app(Settings(database_url=demo_db, **settings))) as client:
            yield client

    return start


def scrape(client: TestClient) -> Scrape:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Scrape.of(response.text)


def settled(client: TestClient, before: Scrape, name: str, expected: dict[Any, float]) -> Scrape:
    """A scrape once ``name`` moved as ``expected`` since ``before`` (what ends after its
    response, such as a WebSocket, is counted a moment later), or after 10 s regardless;
    the caller asserts."""
    deadline = time.monotonic() + 10
    while True:
        after = scrape(client)
        if after.moved_since(before, name) == expected or time.monotonic() > deadline:
            return after
        time.sleep(0.05)


def _post(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post("/graphql", json=body, headers=headers)


# -- HTTP ---------------------------------------------------------------------------------


def test_counters_move_by_exactly_what_was_sent(open_app: AppOpener) -> None:
    with open_app() as client:
        before = scrape(client)
        for _ in range(3):
            assert _post(client, {"query": FEW}).status_code == 200
        assert client.get("/graphql", params={"query": FEW}).status_code == 200
        for _ in range(2):
            assert "errors" in _post(client, {"query": INVALID}).json()
        assert "errors" in _post(client, {"query": "{"}).json()
        after = scrape(client)
    assert after.moved_since(before, REQUESTS) == {
        labels(transport="http", operation_type="query", outcome="ok"): 4,
        labels(transport="http", operation_type="query", outcome="rejected"): 2,
        # It never parsed: no operation type is known.
        labels(transport="http", operation_type="none", outcome="rejected"): 1,
    }
    assert after.moved_since(before, ERRORS) == {
        labels(code="GRAPHQL_VALIDATION_FAILED"): 2,
        labels(code="GRAPHQL_PARSE_FAILED"): 1,
    }
    assert after.moved_since(before, DURATIONS) == {
        labels(transport="http", operation_name="other"): 7
    }
    took = after.since(
        before, "ocm_gql_request_duration_seconds_sum", transport="http", operation_name="other"
    )
    assert took > 0
    # A scrape is no request: /metrics is not observed.
    assert after.moved_since(before, REFUSED) == {}


def test_errors_within_an_answer_are_counted_by_code(open_app: AppOpener) -> None:
    with open_app() as client:
        before = scrape(client)
        body = _post(client, {"query": "{ connectionInfos(first: 5000) { totalCount } }"}).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        after = scrape(client)
    assert after.moved_since(before, ERRORS) == {labels(code="BAD_USER_INPUT"): 1}
    moved = after.moved_since(before, REQUESTS)
    assert moved == {labels(transport="http", operation_type="query", outcome="errors"): 1}


def test_a_batch_is_one_request_named_by_its_first_operation(open_app: AppOpener) -> None:
    with open_app(metrics_operation_names=("Few",)) as client:
        before = scrape(client)
        _post(client, [{"query": FEW}, {"query": INVALID}])
        after = scrape(client)
    moved = after.moved_since(before, REQUESTS)
    assert moved == {labels(transport="http", operation_type="query", outcome="rejected"): 1}
    assert after.moved_since(before, DURATIONS) == {
        labels(transport="http", operation_name="Few"): 1
    }


def test_only_listed_and_trusted_operation_names_label_the_histogram(
    open_app: AppOpener, tmp_path: Path
) -> None:
    sneaky = "query Sneaky { levels { id } }"
    with open_app(metrics_operation_names=("Few", "Unused")) as client:
        before = scrape(client)
        _post(client, {"query": FEW})
        _post(client, {"query": sneaky})
        after = scrape(client)
    assert after.moved_since(before, DURATIONS) == {
        labels(transport="http", operation_name="Few"): 1,
        labels(transport="http", operation_name="other"): 1,
    }
    assert after.series(DURATIONS, operation_name="Sneaky") == {}
    # A listed name has its series from the start, before any request uses it.
    assert after.series(DURATIONS, operation_name="Unused") == {
        labels(transport=transport, operation_name="Unused"): 0
        for transport in ("http", "sse", "websocket")
    }

    listed = "query Levels { levels { id title } }"
    manifest = write_manifest(tmp_path / "manifest.json", listed)
    with open_app(trusted_documents=manifest) as client:
        before = scrape(client)
        assert _post(client, {"extensions": apq_extensions(listed)}).status_code == 200
        assert "errors" in _post(client, {"query": sneaky}).json()
        after = scrape(client)
    assert after.moved_since(before, DURATIONS) == {
        labels(transport="http", operation_name="Levels"): 1,
        labels(transport="http", operation_name="other"): 1,
    }
    assert after.moved_since(before, REFUSED) == {labels(limit="trusted_documents"): 1}
    assert after.moved_since(before, ERRORS) == {labels(code=QUERY_NOT_IN_SAFELIST): 1}


# -- refusals -----------------------------------------------------------------------------


def test_the_limits_are_the_server_s_codes() -> None:
    """Each code mapped is the constant the server answers with (a renamed code would
    silently stop counting), and every limit of the README's table has its name."""
    assert set(LIMITS) == {
        QUERY_TOO_DEEP,
        QUERY_TOO_COMPLEX,
        TOO_MANY_ALIASES,
        TOO_MANY_REPEATED_FIELDS,
        TOO_MANY_TOKENS,
        QUERY_TOO_LARGE,
        BATCH_LIMIT_EXCEEDED,
        BATCHING_NOT_ENABLED,
        PAYLOAD_TOO_LARGE,
        URI_TOO_LONG,
        OPERATION_TIMED_OUT,
        REQUEST_TIMEOUT,
        INTROSPECTION_DISABLED,
        PERSISTED_QUERY_NOT_IN_LIST,
        QUERY_NOT_IN_SAFELIST,
        TOO_MANY_SUBSCRIPTIONS,
    }
    assert set(LIMITS.values()) == {
        "depth",
        "cost",
        "aliases",
        "repeated_fields",
        "tokens",
        "query_size",
        "batch",
        "body_size",
        "url_size",
        "timeout",
        "introspection",
        "trusted_documents",
        "subscriptions",
    }


def test_the_codes_whose_series_start_at_zero_are_documented_ones(open_app: AppOpener) -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for code in COMMON_CODES:
        assert f"`{code}`" in readme, code
    with open_app() as client:
        present = scrape(client)
    for code in (*COMMON_CODES, *LIMITS):
        assert (ERRORS, labels(code=code)) in present.values, code


def test_refused_requests_are_counted_by_limit(open_app: AppOpener) -> None:
    limits = {
        "max_depth": 4,
        "max_cost": 500,
        "max_aliases": 3,
        "max_repeated_fields": 2,
        "max_tokens": 300,
        "max_query_chars": 2000,
        "max_batch_size": 2,
        "max_body_bytes": 5000,
        "max_url_bytes": 1000,
        "introspection": False,
    }
    sent = {
        "depth": {"query": "{ connectionInfos(first: 1) { nodes { site { country { id } } } } }"},
        "cost": {"query": "{ connectionInfos(first: 1000) { nodes { id } } }"},
        "aliases": {"query": "{ " + " ".join(f"a{n}: levels {{ id }}" for n in range(4)) + " }"},
        "repeated_fields": {"query": "{ levels { id id id } }"},
        "tokens": {"query": "{ levels { " + "id " * 400 + "} }"},
        "query_size": {"query": "{ levels { id } }" + " " * 2000},
        "batch": [{"query": LEVELS}] * 3,
        "body_size": {"query": LEVELS, "variables": {"padding": "x" * 6000}},
        "introspection": {"query": "{ __schema { queryType { name } } }"},
    }
    with open_app(**limits) as client:
        before = scrape(client)
        for limit, body in sent.items():
            response = _post(client, body)
            assert response.status_code in (200, 400, 413), (limit, response.text)
        url = client.get("/graphql", params={"query": LEVELS + " " * 1000})
        assert url.status_code == 414
        after = scrape(client)
    assert after.moved_since(before, REFUSED) == {
        labels(limit=limit): 1 for limit in [*sent, "url_size"]
    }
    moved = after.moved_since(before, REQUESTS)
    assert sum(moved.values()) == len(sent) + 1
    assert {dict(key)["outcome"] for key in moved} == {"rejected"}


def test_rate_limited_requests_are_counted_by_transport(open_app: AppOpener) -> None:
    with open_app(rate_limit_per_second=0.001, rate_limit_burst=2) as client:
        before = scrape(client)
        statuses = [_post(client, {"query": LEVELS}).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        with _socket(client) as ws:  # the same client address: the same, empty, bucket
            ws.init()
            refused = ws.refusal("1", {"query": LEVELS})
            assert refused["extensions"]["code"] == "RATE_LIMITED"
        expected = {
            labels(transport="http", operation_type="query", outcome="ok"): 2,
            labels(transport="http", operation_type="none", outcome="rejected"): 1,
            # Refused before its document was read: no type known.
            labels(transport="websocket", operation_type="none", outcome="rejected"): 1,
            # The connection itself.
            labels(transport="websocket", operation_type="none", outcome="ok"): 1,
        }
        after = settled(client, before, REQUESTS, expected)
    assert after.moved_since(before, REQUESTS) == expected
    assert after.moved_since(before, RATE_LIMITED) == {
        labels(transport="http"): 1,
        labels(transport="websocket"): 1,
    }
    assert after.moved_since(before, ERRORS) == {labels(code="RATE_LIMITED"): 2}
    # Rate limits are not limits of a request's shape.
    assert after.moved_since(before, REFUSED) == {}


# -- WebSocket and Server-Sent Events -----------------------------------------------------


def test_each_websocket_operation_is_a_request_and_the_connection_one_more(
    open_app: AppOpener,
) -> None:
    with open_app(metrics_operation_names=("Few",)) as client:
        before = scrape(client)
        with _socket(client) as ws:
            ws.init()
            assert ws.run("1", {"query": FEW})["data"]
            assert ws.run("2", {"query": LEVELS})["data"]
            invalid = ws.refusal("3", {"query": INVALID})
            assert invalid["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            ws.subscribe("4", {"query": SUBSCRIPTION})
            ws.send({"id": "4", "type": "complete"})  # the client ends it
            ws.send({"type": "ping"})
            assert ws.receive() == {"type": "pong"}
        expected = {
            labels(transport="websocket", operation_type="query", outcome="ok"): 2,
            labels(transport="websocket", operation_type="query", outcome="rejected"): 1,
            labels(transport="websocket", operation_type="subscription", outcome="ok"): 1,
            labels(transport="websocket", operation_type="none", outcome="ok"): 1,
        }
        after = settled(client, before, REQUESTS, expected)
    assert after.moved_since(before, REQUESTS) == expected
    # Latency of the queries only: not of a subscription, nor of the connection.
    assert after.moved_since(before, DURATIONS) == {
        labels(transport="websocket", operation_name="Few"): 1,
        labels(transport="websocket", operation_name="other"): 2,
    }
    assert after.moved_since(before, ERRORS) == {labels(code="GRAPHQL_VALIDATION_FAILED"): 1}


def test_a_refused_handshake_is_a_rejected_connection(open_app: AppOpener) -> None:
    with open_app(cors_origins=("https://allowed.example",)) as client:
        before = scrape(client)
        with (
            pytest.raises(WebSocketDisconnect),
            _socket(client, {"origin": "https://evil.example"}),
        ):
            pytest.fail("the handshake was accepted")
        expected = {labels(transport="websocket", operation_type="none", outcome="rejected"): 1}
        after = settled(client, before, REQUESTS, expected)
    assert after.moved_since(before, REQUESTS) == expected


def test_server_sent_events_are_counted_as_sse(open_app: AppOpener) -> None:
    stream = {"accept": "text/event-stream"}
    with open_app(max_depth=3) as client:
        before = scrape(client)
        assert _post(client, {"query": FEW}, **stream).status_code == 200
        deep = "subscription { connectionStatusChanged { connectionInfo { site { id } } } }"
        refused = _post(client, {"query": deep}, **stream)
        assert refused.status_code == 400
        after = scrape(client)
    assert after.moved_since(before, REQUESTS) == {
        labels(transport="sse", operation_type="query", outcome="ok"): 1,
        labels(transport="sse", operation_type="subscription", outcome="rejected"): 1,
    }
    assert after.moved_since(before, REFUSED) == {labels(limit="depth"): 1}
    # The query's latency; a subscription's time is its lifetime, left out.
    assert after.moved_since(before, DURATIONS) == {
        labels(transport="sse", operation_name="other"): 1
    }


# -- the exposition -----------------------------------------------------------------------


def test_process_metrics_of_this_process(open_app: AppOpener) -> None:
    pid = str(os.getpid())
    with open_app() as client:
        before = scrape(client)
        gc.collect()
        after = scrape(client)
    assert after.value("ocm_gql_process_resident_memory_bytes", pid=pid) > 1_000_000
    assert after.value("ocm_gql_process_cpu_seconds_total", pid=pid) > 0
    moved = after.moved_since(before, "ocm_gql_process_gc_collections_total")
    assert moved[labels(pid=pid, generation="2")] >= 1
    # prometheus-client's own collectors, in a single process.
    assert after.value("process_resident_memory_bytes") > 0
    assert {"python_gc_collections", "python_info"} <= after.names


def _running_tasks(client: TestClient) -> set[str]:
    async def names() -> set[str]:
        return {task.get_name() for task in asyncio.all_tasks()}

    assert client.portal is not None
    return client.portal.call(names)


def test_metrics_off_is_404(open_app: AppOpener) -> None:
    with open_app(metrics=False) as client:
        assert client.get("/metrics").status_code == 404
        assert _post(client, {"query": LEVELS}).status_code == 200
        # Nothing keeps refreshing gauges nobody can read.
        running = _running_tasks(client)
    assert MEMORY_TRIMMER in running
    assert not {PROCESS_METRICS, POOL_METRICS} & running


def test_metrics_on_keep_their_gauges_fresh(open_app: AppOpener) -> None:
    with open_app() as client:
        running = _running_tasks(client)
    assert {MEMORY_TRIMMER, PROCESS_METRICS, POOL_METRICS} <= running


def test_metrics_on_their_own_port_are_not_on_the_main_one(open_app: AppOpener) -> None:
    port = free_port()
    with open_app(metrics_port=port) as client:
        assert client.get("/metrics").status_code == 404
        server = metrics_route.serve_metrics_port("127.0.0.1", port)
        try:
            before = Scrape.of(httpx2.get(f"http://127.0.0.1:{port}/metrics").text)
            _post(client, {"query": LEVELS})
            response = httpx2.get(f"http://127.0.0.1:{port}/metrics")
            assert httpx2.get(f"http://127.0.0.1:{port}/other").status_code == 404
        finally:
            server.stop()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = Scrape.of(response.text)
    assert after.moved_since(before, REQUESTS) == {
        labels(transport="http", operation_type="query", outcome="ok"): 1
    }


def test_a_failed_exposition_is_a_503_never_a_500(
    open_app: AppOpener, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise OSError("a metrics file is unreadable")

    monkeypatch.setattr(metrics_route, "exposition", broken)
    with open_app() as client:
        response = client.get("/metrics")
    assert response.status_code == 503
    assert response.text == metrics_route.UNAVAILABLE.decode()
    assert "a metrics file is unreadable" in caplog.text


def test_the_settings_of_the_metrics() -> None:
    settings = Settings.from_env(env_file=None)
    assert (settings.metrics, settings.metrics_port, settings.metrics_host) == (
        True,
        None,
        "127.0.0.1",
    )
    assert settings.metrics_operation_names == ()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("OCM_GQL_METRICS_OPERATION_NAMES", "Few, Many,")
        env.setenv("OCM_GQL_METRICS_PORT", "9464")
        env.setenv("OCM_GQL_METRICS", "false")
        settings = Settings.from_env(env_file=None)
    assert settings.metrics_operation_names == ("Few", "Many")
    assert (settings.metrics, settings.metrics_port) == (False, 9464)
    with pytest.raises(ValueError, match="METRICS_PORT"):
        Settings(port=9000, metrics_port=9000)
