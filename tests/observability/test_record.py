"""The request record: what the pipeline notes of each request, read by the observing
middleware when it ends (in process, the record taken where the log line reads it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from gql.app import create_app
from gql.http import observe
from gql.observability.record import Outcome, RequestRecord, Transport
from gql.settings import Settings


@pytest.fixture
def records(monkeypatch: pytest.MonkeyPatch) -> list[RequestRecord]:
    ended: list[RequestRecord] = []
    monkeypatch.setattr(observe, "log_request", lambda record, duration: ended.append(record))
    return ended


@pytest.fixture
def client(demo_db: str, records: list[RequestRecord]) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=demo_db))) as test_client:
        yield test_client


def _post(client: TestClient, body: Any, **headers: str) -> Any:
    headers = {"content-type": "application/json", "accept": "application/json", **headers}
    return client.post("/graphql", content=json.dumps(body), headers=headers)


def test_a_named_query_is_recorded_with_its_outcome(
    client: TestClient, records: list[RequestRecord]
) -> None:
    response = _post(client, {"query": "query Few { connectionInfos(first: 2) { nodes { id } } }"})
    assert response.status_code == 200
    (record,) = records
    assert (record.transport, record.status) == (Transport.HTTP, 200)
    assert (record.operation_name, record.operation_type) == ("Few", "query")
    assert (record.outcome, record.error_codes, record.operations) == (Outcome.OK, [], 1)
    assert response.headers["x-request-id"] == record.request_id


def test_a_sane_request_id_is_kept_and_an_insane_one_replaced(
    client: TestClient, records: list[RequestRecord]
) -> None:
    kept = _post(client, {"query": "{ __typename }"}, **{"x-request-id": "gw-42.a"})
    replaced = _post(client, {"query": "{ __typename }"}, **{"x-request-id": "has space"})
    assert kept.headers["x-request-id"] == "gw-42.a"
    assert replaced.headers["x-request-id"] not in ("has space", "")
    ids = [record.request_id for record in records]
    assert ids == ["gw-42.a", replaced.headers["x-request-id"]]


def test_errors_are_recorded_by_code_and_the_worst_outcome_wins(
    client: TestClient, records: list[RequestRecord]
) -> None:
    _post(client, {"query": "{ connectionInfos(first: 2) { nodes { nope } } }"})
    batch = [
        {"query": "{ __typename }"},
        {"query": "{ connectionInfo(id: 1) { id } }"},
        {"query": "{"},
    ]
    _post(client, batch)
    invalid, batched = records
    assert invalid.outcome is Outcome.REJECTED
    assert invalid.error_codes == ["GRAPHQL_VALIDATION_FAILED"]
    assert batched.operations == 3
    assert batched.outcome is Outcome.REJECTED
    assert "GRAPHQL_PARSE_FAILED" in batched.error_codes


def test_a_request_refused_before_running_is_rejected(
    client: TestClient, records: list[RequestRecord]
) -> None:
    response = client.put("/graphql")
    assert response.status_code == 405
    (record,) = records
    assert (record.outcome, record.error_codes, record.status) == (
        Outcome.REJECTED,
        ["METHOD_NOT_ALLOWED"],
        405,
    )


def test_severity_orders_outcomes() -> None:
    record = RequestRecord(request_id="r", transport=Transport.HTTP)
    for outcome in (Outcome.OK, Outcome.ERRORS, Outcome.OK, Outcome.FAILED, Outcome.REJECTED):
        record.note_outcome(outcome)
    assert record.outcome is Outcome.FAILED
