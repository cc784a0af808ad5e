"""OpenTelemetry tracing: off unless the standard OTEL_* environment turns it on.

(Being built: configuration from the environment, the request's span continuing the
caller's W3C traceparent, child spans for parse, validate, execute and SQL.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from starlette.types import Scope

from gql.observability.record import RequestRecord


@contextlib.contextmanager
def request_span(scope: Scope, record: RequestRecord) -> Iterator[None]:
    yield
