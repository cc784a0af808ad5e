"""Tracing end to end: `ocm-gql serve` (a real uvicorn on loopback) exporting over
OTLP/HTTP to a real receiver (tests/otlp_receiver.py) that decodes the protobuf; and, with
the OTEL_* environment unset, nothing configured and no span made."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from opentelemetry import trace
from websockets.sync.client import connect

from gql.observability import tracing
from gql.observability.record import RequestRecord, Transport
from tests.conftest import run_cli, shared_ocm
from tests.databases import throwaway_database
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan, otlp_receiver
from tests.processes import Process, ocm_server
from tests.test_subscriptions import PROTOCOL

ALL_RELATIONS = """
query AllRelations($first: Int!, $minPower: Float!, $countries: [String!]) {
  connectionInfos(first: $first, filter: {minPowerKw: $minPower}) {
    totalCount
    nodes {
      id powerKw
      connectionType { id title } statusType { id title } level { id title }
      currentType { id title }
    }
  }
  chargePoints(first: 5, filter: {countryCodes: $countries}) {
    nodes { id title connections { id powerKw connectionType { title } } }
  }
}
"""
# Values no attribute may carry (a statement's parameters, the request's variables).
MIN_POWER = 0.123457
COUNTRIES = ["EE", "QZ"]
VARIABLES: dict[str, Any] = {"first": 10, "minPower": MIN_POWER, "countries": COUNTRIES}
SECRET_TEXTS = ("0.123457", "QZ")
STEPS = ("graphql.parse", "graphql.validate", "graphql.execute")


def tracing_env(receiver: OtlpReceiver, **more: str) -> dict[str, str]:
    """The environment that turns tracing on, exporting to ``receiver`` every 50 ms."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "50",
        "OTEL_SERVICE_NAME": "ocm-gql-under-test",
        **more,
    }


def traceparent() -> tuple[str, str, str]:
    """A caller's W3C traceparent header, with its trace id and span id."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def server_span(spans: list[ReceivedSpan], trace_id: str) -> ReceivedSpan | None:
    found = [s for s in spans if s.trace_id == trace_id and s.kind == "SERVER"]
    assert len(found) <= 1, found
    return found[0] if found else None


def ancestors(span: ReceivedSpan, spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    by_id = {s.span_id: s for s in spans}
    chain: list[ReceivedSpan] = []
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span)
    return chain


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as running:
        yield running


@pytest.fixture(scope="module")
def traced_server(
    backend: str, receiver: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Process]:
    folder = tmp_path_factory.mktemp("traced")
    with throwaway_database(backend, folder) as db:
        run_cli("seed", "--database-url", db, "--demo", "200")
        run_cli("import", "--database-url", db, str(shared_ocm() / "poi"))
        running = ocm_server(
            "--database-url", db, "--host", "127.0.0.1", cwd=folder, env=tracing_env(receiver)
        )
        yield running
        running.stop()


def _post(server: Process, headers: dict[str, str], query: str = ALL_RELATIONS) -> Any:
    response = httpx2.post(
        f"{server.url}/graphql",
        json={"query": query, "variables": VARIABLES},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.e2e
def test_a_query_with_all_relations_continues_the_callers_trace(
    traced_server: Process, receiver: OtlpReceiver, backend: str
) -> None:
    header, trace_id, caller_span = traceparent()
    data = _post(traced_server, {"traceparent": header, "tracestate": "vendor=1"})
    assert data["connectionInfos"]["nodes"]
    assert data["chargePoints"]["nodes"]

    spans = receiver.wait_for(lambda got: server_span(got, trace_id) is not None)
    request = server_span(spans, trace_id)
    assert request is not None
    mine = receiver.of_trace(trace_id)

    # The request's span is the caller's span's child, in the caller's trace.
    assert request.parent_span_id == caller_span
    assert request.name == "query AllRelations"
    assert request.resource["service.name"] == "ocm-gql-under-test"
    assert request.status == "UNSET"
    attributes = request.attributes
    assert attributes["graphql.operation.name"] == "AllRelations"
    assert attributes["graphql.operation.type"] == "query"
    assert attributes["http.request.method"] == "POST"
    assert attributes["url.path"] == "/graphql"
    assert attributes["http.response.status_code"] == 200
    assert attributes["client.address"] == "127.0.0.1"

    # Parse, validate and execute are the request's children.
    for step in STEPS:
        found = [s for s in mine if s.name == step]
        assert found, f"no {step} span in {[s.name for s in mine]}"
        assert all(s.parent_span_id == request.span_id for s in found)
    executes = {s.span_id for s in mine if s.name == "graphql.execute"}

    # Each SQL statement a span under execute, with the database convention's attributes.
    statements = [s for s in mine if s.kind == "CLIENT"]
    system = "postgresql" if backend == "postgres" else "sqlite"
    kinds = [s.attributes["ocm_gql.db.statement.kind"] for s in statements]
    # Two pages and their count, the connections of the sites and the reference lists
    # (loaded once by the first request of the process, cached after that).
    assert kinds.count("page") == 2, kinds
    assert kinds.count("count") >= 1, kinds
    assert kinds.count("batch") >= 1, kinds
    assert set(kinds) <= {"page", "count", "batch", "other"}, kinds
    for statement in statements:
        assert executes & {a.span_id for a in ancestors(statement, mine)}, statement
        assert statement.attributes["db.system"] == system
        assert statement.attributes["db.operation.name"] == "SELECT"
        assert statement.name.startswith("SELECT ")
        assert isinstance(statement.attributes["db.response.returned_rows"], int)
    pages = [s for s in statements if s.attributes["ocm_gql.db.statement.kind"] == "page"]
    assert sorted(s.attributes["db.response.returned_rows"] for s in pages)[-1] == 11

    # No variable's value anywhere: not in a statement's text, not in any attribute.
    for span in mine:
        for name, value in span.attributes.items():
            for secret in SECRET_TEXTS:
                assert secret not in str(value), (span.name, name, value)


@pytest.mark.e2e
def test_without_a_callers_trace_the_request_starts_one(
    traced_server: Process, receiver: OtlpReceiver
) -> None:
    response = httpx2.post(
        f"{traced_server.url}/graphql",
        json={"query": "{ connectionTypes { id } }"},
        headers={"X-Request-Id": "no-parent-1"},
        timeout=30,
    )
    assert response.status_code == 200

    def anonymous_root(spans: list[ReceivedSpan]) -> bool:
        return any(
            s.kind == "SERVER" and s.parent_span_id == "" and s.name == "query" for s in spans
        )

    spans = receiver.wait_for(anonymous_root)
    root = next(s for s in spans if s.kind == "SERVER" and s.name == "query")
    assert root.attributes["graphql.operation.type"] == "query"
    assert "graphql.operation.name" not in root.attributes


@pytest.mark.e2e
def test_a_malformed_request_is_traced_by_its_status(
    traced_server: Process, receiver: OtlpReceiver
) -> None:
    header, trace_id, _ = traceparent()
    response = httpx2.post(
        f"{traced_server.url}/graphql",
        content=b"{not json",
        headers={"traceparent": header, "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    spans = receiver.wait_for(lambda got: server_span(got, trace_id) is not None)
    request = server_span(spans, trace_id)
    assert request is not None
    assert request.name == "POST /graphql"  # no operation was read
    assert request.attributes["http.response.status_code"] == 400
    assert request.status == "UNSET"  # a client's error, not the server's


@pytest.mark.e2e
def test_each_websocket_operation_has_its_span_under_the_connections(
    traced_server: Process, receiver: OtlpReceiver
) -> None:
    header, trace_id, caller_span = traceparent()
    url = traced_server.url.replace("http://", "ws://") + "/graphql"
    page = "query Page { connectionInfos(first: 2) { totalCount nodes { id } } }"
    invalid = "query Invalid { connectionInfos(first: 2) { noSuchField } }"
    with connect(
        url,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        additional_headers={"traceparent": header},
    ) as socket:
        socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(socket.recv())["type"] == "connection_ack"
        for id, query in (("1", page), ("2", invalid)):
            socket.send(json.dumps({"type": "subscribe", "id": id, "payload": {"query": query}}))
            while (message := json.loads(socket.recv()))["type"] == "next":
                assert "errors" not in message["payload"], message
            assert message["type"] == ("complete" if id == "1" else "error"), message

    # The connection's span ends with the socket: the whole trace is in then.
    spans = receiver.wait_for(lambda got: server_span(got, trace_id) is not None)
    connection = server_span(spans, trace_id)
    assert connection is not None
    assert connection.parent_span_id == caller_span
    mine = receiver.of_trace(trace_id)
    operations = {
        s.name: s for s in mine if s.parent_span_id == connection.span_id and s.kind == "INTERNAL"
    }
    assert set(operations) == {"query Page", "query Invalid"}, [s.name for s in mine]

    answered = operations["query Page"]
    assert answered.attributes["graphql.operation.name"] == "Page"
    assert answered.attributes["graphql.operation.type"] == "query"
    assert answered.status == "UNSET"
    # Its execution and statements are its own, not the connection's.
    under_answered = [s for s in mine if answered in ancestors(s, mine)]
    assert "graphql.execute" in {s.name for s in under_answered}
    kinds = sorted(
        s.attributes["ocm_gql.db.statement.kind"] for s in under_answered if s.kind == "CLIENT"
    )
    assert kinds == ["count", "page"], kinds

    refused = operations["query Invalid"]
    assert refused.attributes["graphql.operation.name"] == "Invalid"
    assert not [s for s in mine if refused in ancestors(s, mine) and s.kind == "CLIENT"]


@pytest.mark.e2e
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_each_worker_exports_its_own_spans(
    backend: str, receiver: OtlpReceiver, tmp_path: Path
) -> None:
    with throwaway_database(backend, tmp_path) as db:
        run_cli("seed", "--database-url", db, "--demo", "50")
        server = ocm_server(
            "--database-url", db, "--workers", "2", cwd=tmp_path, env=tracing_env(receiver)
        )
        try:
            callers = [traceparent() for _ in range(8)]
            for header, _, _ in callers:
                # A new connection each: the kernel spreads them over the workers.
                _post(server, {"traceparent": header}, "{ levels { id } }")
            wanted = {trace_id for _, trace_id, _ in callers}
            receiver.wait_for(lambda got: wanted <= {s.trace_id for s in got if s.kind == "SERVER"})
        finally:
            output = server.stop()
    assert "Traceback" not in output, output


# -- off ------------------------------------------------------------------------------


def test_the_environment_decides() -> None:
    endpoint = "http://127.0.0.1:4318"
    assert tracing.wanted({}) == set()
    assert tracing.wanted({"OTEL_SERVICE_NAME": "x", "OTEL_TRACES_SAMPLER": "always_on"}) == set()
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint}) == {"otlp"}
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint}) == {"otlp"}
    assert tracing.wanted({"OTEL_TRACES_EXPORTER": "console"}) == {"console"}
    assert tracing.wanted({"OTEL_TRACES_EXPORTER": "otlp,console"}) == {"otlp", "console"}
    assert (
        tracing.wanted({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
        == set()
    )
    assert (
        tracing.wanted({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint})
        == set()
    )
    assert tracing.wanted({"OTEL_SDK_DISABLED": "TRUE", "OTEL_TRACES_EXPORTER": "otlp"}) == set()


def test_off_nothing_is_configured_and_no_span_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    assert tracing.configure() is False
    assert not tracing.enabled()
    assert tracing.tracer() is None
    # No provider was set: the API's proxy still stands in for one.
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)

    record = RequestRecord(request_id="r", transport=Transport.HTTP, method="POST", path="/graphql")
    scope = {"type": "http", "headers": [(b"traceparent", traceparent()[0].encode())]}
    first = tracing.request_span(scope, record)
    # The same shared do-nothing context manager each time: nothing made per request.
    assert first is tracing.request_span(scope, record) is tracing.span("graphql.parse")
    with first:
        assert trace.get_current_span() is trace.INVALID_SPAN
    assert record.trace_id is None
