"""What one request did, gathered as it runs and read once when it ends.

The observing middleware (gql/http/observe.py) makes a record per HTTP request and puts
it in a context variable; the pipeline, the endpoints and the WebSocket handler fill in
what only they know (the operation, its errors, the writer's key name). Tasks copy the
context when they start, and the record is one mutable object, so what they write
reaches the middleware. Metrics, the log line and the request's span read it at the end.
"""

from __future__ import annotations

import contextvars
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Transport(StrEnum):
    HTTP = "http"
    SSE = "sse"
    WEBSOCKET = "websocket"


class Outcome(StrEnum):
    """How a request ended, worst first when a batch holds several operations."""

    FAILED = "failed"
    """Our fault or the database's: a masked error, a timeout, unavailable (5xx)."""
    REJECTED = "rejected"
    """Never ran: malformed, invalid, over a limit, rate-limited, refused document."""
    ERRORS = "errors"
    """Ran, with errors in the response (a field's UNAUTHENTICATED, NOT_FOUND...)."""
    OK = "ok"


_SEVERITY = {outcome: rank for rank, outcome in enumerate(Outcome)}


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    transport: Transport
    method: str = ""
    path: str = ""
    client: str = ""
    status: int | None = None
    operation_name: str | None = None
    operation_type: str | None = None
    """query, mutation or subscription; None until known (or never, for a request that
    did not parse)."""
    error_codes: list[str] = field(default_factory=list)
    """Each error's `extensions.code`, in the order of the response."""
    error_ids: list[str] = field(default_factory=list)
    """The `errorId` of each masked error, so its log line finds the stack trace."""
    key_name: str | None = None
    """The API key's name, for writes."""
    trace_id: str | None = None
    """The request's trace id (32 hex digits) when tracing is on."""
    persisted: bool = False
    """The document was named by hash (APQ or trusted documents), so its operation name
    is the operator's, not any caller's: metrics may label by it."""
    outcome: Outcome | None = None
    """None until an operation was answered (a request refused before reading one is
    judged by its status alone)."""
    operations: int = 0
    """Operations answered (a batch answers several)."""
    cache_lookups: dict[tuple[str, Hashable], bool] = field(default_factory=dict)
    """Each (cache, key) the request looked up first, and whether it hit: counted once
    when the request ends (gql/observability/metrics/caches.py)."""

    def note_operation(self, name: str | None, operation_type: str | None) -> None:
        """The first operation names the request (a batch's first)."""
        self.operations += 1
        if self.operations == 1:
            self.operation_name = name
            self.operation_type = operation_type

    def note_errors(self, codes: Iterable[str]) -> None:
        self.error_codes.extend(codes)

    def note_outcome(self, outcome: Outcome) -> None:
        if self.outcome is None or _SEVERITY[outcome] < _SEVERITY[self.outcome]:
            self.outcome = outcome

    def settled_outcome(self) -> Outcome:
        """The outcome noted, else its status's (a request refused before an operation
        was read): below 400 ok, 5xx failed, else rejected; no response at all (its
        client left before sending it whole) is rejected too."""
        if self.outcome is not None:
            return self.outcome
        status = self.status
        if status is not None and status < 400:
            return Outcome.OK
        if status is not None and status >= 500:
            return Outcome.FAILED
        return Outcome.REJECTED


_current: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "ocm_gql_request_record", default=None
)


def current_record() -> RequestRecord | None:
    """The record of the request being served here, if any."""
    return _current.get()


def note_error(code: str, outcome: Outcome, *, error_id: str | None = None) -> None:
    """Notes in the current request's record, if any, the error it is answered with (one
    the server sends itself, not one of an operation's result)."""
    record = _current.get()
    if record is None:
        return
    record.note_errors((code,))
    if error_id is not None:
        record.error_ids.append(error_id)
    record.note_outcome(outcome)


def begin(record: RequestRecord) -> contextvars.Token[RequestRecord | None]:
    return _current.set(record)


def end(token: contextvars.Token[RequestRecord | None]) -> None:
    _current.reset(token)
