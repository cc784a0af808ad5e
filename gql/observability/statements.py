"""Observing each SQL statement a repository backend runs: a Prometheus count and time by
backend and kind (always), and a CLIENT span when tracing is on.

The backends call it at the few places where their statements run, and say what kind of
statement it is, which only they know::

    with observed(Backend.POSTGRESQL, Kind.PAGE, sql) as statement:
        rows = await pool.fetch(sql, *params)
        statement.rows = len(rows)

The span carries the statement's text as run (parameterised: values travel as parameters
and never reach an attribute), its operation, kind and the rows it returned.
"""

from __future__ import annotations

import re
import time
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Final

from gql.observability import tracing
from gql.observability.metrics.database import observe_statement

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer


class Backend(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class Kind(StrEnum):
    PAGE = "page"
    """A page of a list (connectionInfos, chargePoints, a change history)."""
    COUNT = "count"
    """A total count, or a planner's count of candidates."""
    BATCH = "batch"
    """A DataLoader's batch: rows by ids, connections of sites."""
    WRITE = "write"
    """Anything run inside a write transaction."""
    OTHER = "other"
    """Reference lists, keys, health checks, schema checks, imports' reads."""


KIND_ATTRIBUTE: Final = "ocm_gql.db.statement.kind"
# The table a statement is about, for its span's name ("SELECT connection_info").
_TARGET: Final = re.compile(r"\b(?:FROM|INTO|UPDATE|TABLE)\s+([A-Za-z_][A-Za-z0-9_]*)", re.I)


class observed:  # lower case: used like a function, in `with`
    """One statement's observation; the caller sets `rows` to the rows it returned."""

    __slots__ = ("_backend", "_kind", "_span", "_sql", "_started", "rows")

    def __init__(self, backend: Backend, kind: Kind, sql: str) -> None:
        self._backend = backend
        self._kind = kind
        self._sql = sql
        self._span: Span | None = None
        self._started = 0.0
        self.rows: int | None = None

    def __enter__(self) -> observed:
        tracer = tracing.tracer()
        if tracer is not None:
            # A leaf: started under the current span, never made current itself.
            self._span = _start_span(tracer, self._backend, self._kind, self._sql)
        self._started = time.perf_counter()
        return self

    def __exit__(
        self,
        error_type: type[BaseException] | None,
        error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        observe_statement(self._backend, self._kind, time.perf_counter() - self._started)
        span = self._span
        if span is not None:
            from opentelemetry.trace import Status, StatusCode

            if self.rows is not None:
                span.set_attribute("db.response.returned_rows", self.rows)
            if error is not None:
                span.set_attribute("error.type", type(error).__qualname__)
                span.set_status(Status(StatusCode.ERROR, type(error).__qualname__))
            span.end()


def returned_rows(result: object) -> int:
    """The rows a driver's call returned: a list's length, one for a row or a value, none
    for a command's status line ("UPDATE 3") or no row at all."""
    if isinstance(result, list):
        return len(result)
    return 0 if result is None or isinstance(result, str) else 1


def _start_span(tracer: Tracer, backend: Backend, kind: Kind, sql: str) -> Span:
    from opentelemetry.trace import SpanKind

    operation = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
    target = _TARGET.search(sql)
    summary = f"{operation} {target.group(1)}" if target else operation
    attributes: dict[str, str] = {
        "db.system": backend.value,
        "db.system.name": backend.value,
        "db.operation.name": operation,
        "db.query.summary": summary,
        "db.query.text": sql,
        KIND_ATTRIBUTE: kind.value,
    }
    if target:
        attributes["db.collection.name"] = target.group(1)
    return tracer.start_span(summary, kind=SpanKind.CLIENT, attributes=attributes)
