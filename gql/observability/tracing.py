"""OpenTelemetry tracing: off unless the standard OTEL_* environment turns it on.

On when an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or OTEL_TRACES_EXPORTER names otlp or console, unless
OTEL_SDK_DISABLED is true. The SDK reads the rest itself: the resource
(OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES), the sampler (OTEL_TRACES_SAMPLER, _ARG),
the batch processor (OTEL_BSP_*) and the exporter (endpoint, headers, timeout).

Each serving process configures its own provider when its app starts (in each worker of
`serve --workers N`: the batch processor's thread does not survive a fork) and flushes it
when the app stops. When off, every entry point here is one check of `_tracer` and a
shared do-nothing context manager: no span, no context attached, no attributes built.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Final

from starlette.types import Scope

from gql.observability.record import Outcome, RequestRecord
from gql.version import VERSION

if TYPE_CHECKING:
    from opentelemetry.propagators.textmap import Getter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Span, Tracer

# OpenTelemetry's SDK, propagators and exporter are imported when tracing is turned on: a
# process with tracing off carries none of their modules and objects.

DEFAULT_SERVICE_NAME: Final = "ocm-gql"
INSTRUMENTATION: Final = "ocm_gql"

_NOTHING: Final[AbstractContextManager[None]] = contextlib.nullcontext()

_tracer: Tracer | None = None
"""The tracer when tracing is on; None is the one check every hot path makes."""
_provider: TracerProvider | None = None
_global_set = False


def enabled() -> bool:
    return _tracer is not None


def wanted(environ: os._Environ[str] | dict[str, str] = os.environ) -> set[str]:
    """The exporters the environment asks for ("otlp", "console"); empty when off."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return set()
    named = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if named:
        exporters = {name.strip() for name in named.split(",")}
        # otlp_proto_http is the name the SDK's own entry points give the same exporter.
        return {"otlp" if name.startswith("otlp") else name for name in exporters} & {
            "otlp",
            "console",
        }
    if environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    ):
        return {"otlp"}
    return set()


def configure() -> bool:
    """Turns tracing on in this process when the environment asks for it (once; later
    calls keep what the first made). True when on."""
    global _tracer, _provider
    if _tracer is not None:
        return True
    exporters = wanted()
    if not exporters:
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        # Neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES named the service.
        resource = resource.merge(Resource({SERVICE_NAME: DEFAULT_SERVICE_NAME}))
    # The sampler comes from OTEL_TRACES_SAMPLER/_ARG (default: parent-based, always on).
    provider = TracerProvider(resource=resource)
    if "otlp" in exporters:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    if "console" in exporters:
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    global _global_set
    if not _global_set:
        # Global too, so libraries that trace through the API join the same traces; the
        # API allows that once per process (an app started again keeps the first).
        trace.set_tracer_provider(provider)
        _global_set = True
    _provider = provider
    _tracer = provider.get_tracer(INSTRUMENTATION, VERSION)
    return True


def shutdown() -> None:
    """Sends what is still batched and stops the exporter (the app's lifespan ends)."""
    global _tracer, _provider
    provider, _provider, _tracer = _provider, None, None
    if provider is not None:
        provider.shutdown()


@functools.cache
def _asgi_headers() -> Getter[Scope]:
    """Reads a W3C traceparent/tracestate (or any propagator's header) from ASGI headers."""
    from opentelemetry.propagators.textmap import Getter

    class AsgiHeaders(Getter[Scope]):
        def get(self, carrier: Scope, key: str) -> list[str] | None:
            name = key.lower().encode("latin-1")
            found = [
                str(value, "latin-1") for header, value in carrier["headers"] if header == name
            ]
            return found or None

        def keys(self, carrier: Scope) -> list[str]:
            return [str(header, "latin-1") for header, _value in carrier["headers"]]

    return AsgiHeaders()


def request_span(scope: Scope, record: RequestRecord) -> AbstractContextManager[None]:
    """The request's SERVER span, continuing the caller's trace (the W3C `traceparent`,
    through the propagators of OTEL_PROPAGATORS, tracecontext by default); named and
    completed from the record when the request ends."""
    if _tracer is None:
        return _NOTHING
    return _request_span(_tracer, scope, record)


@contextlib.contextmanager
def _request_span(tracer: Tracer, scope: Scope, record: RequestRecord) -> Iterator[None]:
    from opentelemetry import propagate
    from opentelemetry.trace import SpanKind

    caller = propagate.extract(scope, getter=_asgi_headers())
    with tracer.start_as_current_span(
        f"{record.method} {record.path}",
        context=caller,
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": record.method,
            "url.path": record.path,
            "url.scheme": scope.get("scheme", "http"),
            "client.address": record.client,
        },
    ) as span:
        if span.is_recording():
            record.trace_id = format(span.get_span_context().trace_id, "032x")
        try:
            yield
        finally:
            _complete(span, record)


def _complete(span: Span, record: RequestRecord) -> None:
    from opentelemetry.trace import Status, StatusCode

    if not span.is_recording():
        return
    if record.operation_type is not None:
        # OpenTelemetry's GraphQL convention: "{type} {name}", or "{type}" alone.
        span.update_name(
            f"{record.operation_type} {record.operation_name}"
            if record.operation_name
            else record.operation_type
        )
        span.set_attribute("graphql.operation.type", record.operation_type)
    if record.operation_name:
        span.set_attribute("graphql.operation.name", record.operation_name)
    if record.status is not None:
        span.set_attribute("http.response.status_code", record.status)
        if record.status >= 500:
            span.set_status(Status(StatusCode.ERROR))


def start_operation_span(record: RequestRecord) -> Span | None:
    """The span of one operation among the many a connection carries (a WebSocket's
    `subscribe`): a child of the connection's span, named and completed from ``record``
    by `end_operation_span`, which may run in another task. None when off or when the
    connection's span is not recorded."""
    current = tracer()
    if current is None:
        return None
    from opentelemetry.trace import SpanKind

    # The convention's name while the operation's type is unknown.
    return current.start_span("GraphQL Operation", kind=SpanKind.INTERNAL)


def current_span(span: Span | None) -> AbstractContextManager[object]:
    """``span`` current while the block runs, and in the tasks made in it; not ended."""
    if span is None:
        return _NOTHING
    from opentelemetry import trace

    return trace.use_span(span, end_on_exit=False, record_exception=False)


def end_operation_span(span: Span | None, record: RequestRecord) -> None:
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    _complete(span, record)
    if record.outcome is Outcome.FAILED:
        span.set_status(Status(StatusCode.ERROR))
    span.end()


def span(name: str) -> AbstractContextManager[object]:
    """A child span of the current one (parse, validate, execute), or nothing when off."""
    current = tracer()
    if current is None:
        # Off, or a request the sampler left out: its children would be left out too.
        return _NOTHING
    # An exception's message may quote the document's literals: its type is enough.
    return current.start_as_current_span(name, record_exception=False)


def tracer() -> Tracer | None:
    """The tracer for a child span of the current one, such as a SQL statement's: None
    when off or when the current span is not recorded (sampled out, or none at all)."""
    if _tracer is None or not _current_span_recorded():
        return None
    return _tracer


def _current_span_recorded() -> bool:
    from opentelemetry import trace

    return trace.get_current_span().is_recording()
