"""Through Apollo's gateway (tests/test_federation_e2e.py's stack, all on loopback): a
caller's W3C traceparent, passed on by the gateway to the subgraphs, is continued by our
server, whose spans reach a real OTLP receiver in the caller's trace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from tests.databases import throwaway_database
from tests.observability.test_tracing import ancestors, receiver, traceparent, tracing_env
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.processes import Process
from tests.test_federation_e2e import CONNECTION_FIELDS, _stack, node_project

pytestmark = pytest.mark.e2e
__all__ = ["node_project", "receiver"]  # fixtures, shared with their own modules

INSPECTED = f"""query Inspected {{ connectionInfos(first: 5) {{ nodes {{
    {CONNECTION_FIELDS}
    lastInspection {{ passed recommendedConnectionType {{ id title }} }}
}} }} }}"""


@pytest.fixture(scope="module")
def traced_stack(
    backend: str,
    node_project: Path,
    receiver: OtlpReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Process, Process]]:
    folder = tmp_path_factory.mktemp("federation-traced")
    with throwaway_database(backend, folder) as db:
        yield from _stack(db, folder, node_project, env=tracing_env(receiver))


def _ours(spans: list[ReceivedSpan], trace_id: str) -> list[ReceivedSpan]:
    return [s for s in spans if s.trace_id == trace_id and s.kind == "SERVER"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_gateways_trace_is_continued_by_our_subgraph(
    traced_stack: tuple[Process, Process], receiver: OtlpReceiver
) -> None:
    _ours_server, gateway = traced_stack
    header, trace_id, caller_span = traceparent()
    response = httpx2.post(
        gateway.url,
        json={"query": INSPECTED},
        headers={"apollo-require-preflight": "true", "traceparent": header},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    assert "errors" not in response.json(), response.text

    # The gateway fetches from us twice: the page, then the recommended types' _entities.
    receiver.wait_for(lambda got: len(_ours(got, trace_id)) >= 2)
    spans = receiver.of_trace(trace_id)
    requests = _ours(spans, trace_id)
    assert len(requests) == 2, [s.name for s in requests]
    assert all(s.parent_span_id == caller_span for s in requests)
    assert all(s.name.startswith("query Inspected__ocm__") for s in requests), requests
    for request in requests:
        assert request.attributes["graphql.operation.type"] == "query"
        below = [s for s in spans if request.span_id in {a.span_id for a in ancestors(s, spans)}]
        assert {"graphql.parse", "graphql.validate", "graphql.execute"} <= {s.name for s in below}
    # The page's statements (the types' _entities are answered from the reference cache).
    statements = [s for s in spans if s.kind == "CLIENT"]
    assert {s.attributes["ocm_gql.db.statement.kind"] for s in statements} >= {"page"}
    assert all(s.attributes["db.system"] == "sqlite" for s in statements)
