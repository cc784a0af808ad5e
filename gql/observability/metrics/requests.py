"""Metrics of requests: by transport, operation type and outcome; latency; errors.

(Being built.)
"""

from __future__ import annotations

from gql.observability.record import RequestRecord


def observe_request(record: RequestRecord, duration: float) -> None:
    pass
