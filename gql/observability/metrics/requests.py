"""Metrics of requests: by transport, operation type and outcome; latency by operation
name; GraphQL errors by code; requests refused by a limit; rate-limited requests.

One record (gql/observability/record.py) is one request, counted once when it ends:
- an HTTP request, a batch included (its first operation names it, its worst outcome
  judges it), and a Server-Sent Events stream, a subscription's included;
- each `subscribe` of a WebSocket, in its own record (gql/http/websocket.py), whether it
  ran or was refused;
- a WebSocket connection itself, from the observing middleware: operation type `none`,
  outcome `ok` once accepted (`rejected` when refused at the handshake), so
  `operation_type!="none"` selects its operations.

The latency histogram leaves out what lasts as long as a client wants: subscriptions
and WebSocket connections.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import Final

from prometheus_client import Counter, Histogram

from gql.observability.metrics.caches import count_lookups
from gql.observability.record import Outcome, RequestRecord, Transport

logger = logging.getLogger("gql.observability.metrics")

OPERATION_TYPES: Final = ("query", "mutation", "subscription", "none")
OTHER: Final = "other"
"""The operation name of every operation neither persisted nor listed."""

# An API answering in 1-100 ms (the fast executor's cached pages in well under 1 ms),
# with room for slow pages and the 10 s execution timeout.
DURATION_BUCKETS: Final = (
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

# Each code of a limit, by the limit's name (the label's whole set of values).
LIMITS: Final = {
    "QUERY_TOO_DEEP": "depth",
    "QUERY_TOO_COMPLEX": "cost",
    "TOO_MANY_ALIASES": "aliases",
    "TOO_MANY_REPEATED_FIELDS": "repeated_fields",
    "TOO_MANY_TOKENS": "tokens",
    "QUERY_TOO_LARGE": "query_size",
    "BATCH_LIMIT_EXCEEDED": "batch",
    "BATCHING_NOT_ENABLED": "batch",
    "PAYLOAD_TOO_LARGE": "body_size",
    "URI_TOO_LONG": "url_size",
    "OPERATION_TIMED_OUT": "timeout",
    "REQUEST_TIMEOUT": "timeout",
    "INTROSPECTION_DISABLED": "introspection",
    "PERSISTED_QUERY_NOT_IN_LIST": "trusted_documents",
    "QUERY_NOT_IN_SAFELIST": "trusted_documents",
    "TOO_MANY_SUBSCRIPTIONS": "subscriptions",
}
RATE_LIMITED_CODE: Final = "RATE_LIMITED"
# The codes an error-rate alert or panel reads, whose series exist from the start.
COMMON_CODES: Final = (
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_USER_INPUT",
    "BAD_REQUEST",
    "INTERNAL_SERVER_ERROR",
    "SERVICE_UNAVAILABLE",
    "DATABASE_BUSY",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "SUBSCRIBER_TOO_SLOW",
    RATE_LIMITED_CODE,
)
# Codes are the server's own constants; anything else shaped otherwise folds into one.
_SANE_CODE: Final = re.compile(r"[A-Z][A-Z0-9_]{0,63}")

REQUESTS = Counter(
    "ocm_gql_requests",
    "Requests ended, by transport (http, sse, websocket), operation type (query, mutation, "
    "subscription; none when no operation was read, or for a WebSocket connection itself) "
    "and outcome (ok; errors: ran with errors; rejected: never ran, the client's fault; "
    "failed: the server's or the database's fault).",
    ["transport", "operation_type", "outcome"],
)
DURATION = Histogram(
    "ocm_gql_request_duration_seconds",
    "Time from a request's first byte to its response's last, by transport and operation "
    "name (trusted documents and names listed in OCM_GQL_METRICS_OPERATION_NAMES by name, "
    "others as 'other'); subscriptions and WebSocket connections are left out.",
    ["transport", "operation_name"],
    buckets=DURATION_BUCKETS,
)
GRAPHQL_ERRORS = Counter(
    "ocm_gql_graphql_errors",
    "GraphQL errors answered, by extensions.code (UNCODED without one).",
    ["code"],
)
REFUSED = Counter(
    "ocm_gql_refused_requests",
    "Requests refused for going over a limit, by the limit (depth, cost, aliases, "
    "repeated_fields, tokens, query_size, batch, body_size, url_size, timeout, "
    "introspection, trusted_documents, subscriptions); a request over two counts in both.",
    ["limit"],
)
RATE_LIMITED = Counter(
    "ocm_gql_rate_limited_requests",
    "Requests refused by the per-client rate limit (RATE_LIMITED), by transport.",
    ["transport"],
)

# Every series a dashboard or alert reads exists from the start at 0, so `increase()`
# counts a first request, and an absent series means a missing metric, not a quiet one.
for _transport in Transport:
    RATE_LIMITED.labels(_transport.value)
    DURATION.labels(_transport.value, OTHER)
    for _operation_type in OPERATION_TYPES:
        for _outcome in Outcome:
            REQUESTS.labels(_transport.value, _operation_type, _outcome.value)
for _limit in set(LIMITS.values()):
    REFUSED.labels(_limit)
for _code in (*COMMON_CODES, *LIMITS):
    GRAPHQL_ERRORS.labels(_code)

_listed: frozenset[str] = frozenset()


def label_operations(names: Iterable[str]) -> None:
    """The operation names the histogram labels by name beside persisted ones (the
    setting `metrics_operation_names`; one process serves one app's settings)."""
    global _listed
    _listed = frozenset(names)
    for name in _listed:  # their series exist from the start, as the others' do
        for transport in Transport:
            DURATION.labels(transport.value, name)


def operation_label(record: RequestRecord) -> str:
    """The record's operation name as the histogram labels it: a bounded set of values."""
    name = record.operation_name
    if name is not None and (record.persisted or name in _listed):
        return name
    return OTHER


def observe_request(record: RequestRecord, duration: float) -> None:
    """Counts one ended request (see the module's docstring for what one is)."""
    try:
        _observe(record, duration)
    except Exception:
        # A bug here must never cost the request its answer or its log line.
        logger.exception("could not count request %s in the metrics", record.request_id)


def _observe(record: RequestRecord, duration: float) -> None:
    count_lookups(record)
    transport = record.transport.value
    operation_type = record.operation_type if record.operation_type in OPERATION_TYPES else None
    _requests(transport, operation_type or "none", record.settled_outcome().value).inc()
    if _timed(record, operation_type):
        _duration(transport, operation_label(record)).observe(duration)
    limits = set()
    for code in record.error_codes:
        GRAPHQL_ERRORS.labels(code if _SANE_CODE.fullmatch(code) else "OTHER").inc()
        limit = LIMITS.get(code)
        if limit is not None:
            limits.add(limit)
    for limit in limits:
        REFUSED.labels(limit).inc()
    if RATE_LIMITED_CODE in record.error_codes:
        RATE_LIMITED.labels(transport).inc()


# Every request asks for two children: `labels()` checks and locks each time, a cached
# child is a dictionary lookup (the label values are bounded, so are the caches).
@functools.cache
def _requests(transport: str, operation_type: str, outcome: str) -> Counter:
    return REQUESTS.labels(transport, operation_type, outcome)


@functools.cache
def _duration(transport: str, operation_name: str) -> Histogram:
    return DURATION.labels(transport, operation_name)


def _timed(record: RequestRecord, operation_type: str | None) -> bool:
    """Whether the request's time is a latency: not a subscription's or a connection's
    lifetime (a WebSocket's own record names no operation; its operations have theirs)."""
    if operation_type == "subscription":
        return False
    return not (record.transport is Transport.WEBSOCKET and record.operations == 0)
