"""The log format and level, set up once per process: by the command line, and again in
each worker process `serve --workers N` spawns (a spawned process starts with none).

Two formats (`log_format`): `text`, lines for a person at a terminal, and `json`, one
JSON object per line for a log pipeline. In JSON, every record logged while a request
is served (ours, uvicorn's, Strawberry's) carries the request's `request_id` (and
`trace_id` when tracing), so a masked error's stack trace and the request's own line
share an id. Each request to /graphql ends with one line of its own
(`log_request`); in JSON it replaces uvicorn's access line for it, which text keeps.

What a line never holds: query text, variables' values, API keys. The request line is
built from the request's record, which holds none of them; the operation name is the
caller's (it may be any string when the document did not parse), so it is clipped.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any, Final

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.orjson import OrjsonFormatter

from gql.observability.record import RequestRecord, current_record
from gql.settings import LogFormat, LogLevel

FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REQUEST_LOGGER: Final = "gql.request"
_request_logger: Final = logging.getLogger(REQUEST_LOGGER)
"""The logger of the per-request lines (its level alone can silence them)."""
GRAPHQL_PATH: Final = "/graphql"
"""The path whose requests get our line instead of uvicorn's access line."""
MAX_NAME_CHARS: Final = 100
"""Longer operation names are cut: a caller's `operationName` may be any string."""

_UVICORN_LOGGERS: Final = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
_UNPRINTABLE: Final = re.compile(r"[^\x21-\x7e]")


def configure_logging(level: LogLevel, log_format: LogFormat = "text") -> None:
    """Sends every log record to stderr in ``log_format``, from ``level`` up.

    Calling it again (a worker process does, after uvicorn configured its loggers)
    replaces the handler it installed. A root logger that already has handlers of
    someone else's (a program embedding the server, a test runner) is left alone, as
    `logging.basicConfig` leaves it.
    """
    root = logging.getLogger()
    ours = [handler for handler in root.handlers if isinstance(handler, _Handler)]
    if len(ours) != len(root.handlers):
        return
    for handler in ours:
        root.removeHandler(handler)
    root.addHandler(_Handler(log_format))
    root.setLevel(level.upper())
    if log_format == "json":
        # uvicorn's loggers then keep no handlers of their own (it is started with
        # log_config=None) and reach ours, so its lines are JSON too; Python's warnings
        # as well, which would otherwise be printed as text.
        for name in _UVICORN_LOGGERS:
            logger = logging.getLogger(name)
            logger.handlers.clear()
            logger.propagate = True
        logging.captureWarnings(True)
        # Our line tells of each /graphql request; uvicorn's access line would repeat
        # it. (Text keeps uvicorn's lines as they always were, ours added.)
        access = logging.getLogger("uvicorn.access")
        if not any(isinstance(f, DropGraphqlAccess) for f in access.filters):
            access.addFilter(DropGraphqlAccess())


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Our handler on the root logger (stderr): recognised when configuring again."""

    def __init__(self, log_format: LogFormat) -> None:
        super().__init__()
        self.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(FORMAT))
        self.addFilter(RequestContext())


class JsonLines(OrjsonFormatter):
    """One JSON object per record: time (ISO 8601, UTC), level, logger, message, then
    the record's extra fields (a request's, and `exc_info` with a stack trace)."""

    def __init__(self) -> None:
        super().__init__(
            ["asctime", "levelname", "name", "message"],
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn's copy of its message with terminal colours: noise in a log pipeline.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class RequestContext(logging.Filter):
    """Gives a record logged while a request is served its `request_id` (and `trace_id`
    when tracing), unless it has them already (the request's own line brings its own:
    it is logged after the request's context ended)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            current = current_record()
            if current is not None:
                record.request_id = current.request_id
                if current.trace_id is not None:
                    record.trace_id = current.trace_id
        return True


class DropGraphqlAccess(logging.Filter):
    """Drops uvicorn's access line of a /graphql request (its args are client, method,
    path with query string, HTTP version, status): `log_request` logs that one."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            return args[2].partition("?")[0] != GRAPHQL_PATH
        return True


def log_request(record: RequestRecord, duration: float) -> None:
    """One line for a request that ended: ERROR when the server failed it (5xx, or an
    error masked under an errorId), INFO otherwise, refusals included (the caller's
    mistake or abuse, counted by the metrics; an operator at level warning sees only
    what needs them)."""
    failed = (record.status or 0) >= 500 or bool(record.error_ids)
    level = logging.ERROR if failed else logging.INFO
    if not _request_logger.isEnabledFor(level):
        return
    fields = request_fields(record, duration)
    _request_logger.log(level, "%s", _summary(fields), extra=fields)


def request_fields(record: RequestRecord, duration: float) -> dict[str, Any]:
    """The request line's fields (in JSON, each its own key)."""
    return {
        "request_id": record.request_id,
        "trace_id": record.trace_id,
        "operation_name": _clipped(record.operation_name),
        "operation_type": record.operation_type,
        "transport": record.transport.value,
        "method": record.method,
        "path": record.path,
        "status": record.status,
        "duration_ms": round(duration * 1000, 3),
        "outcome": record.settled_outcome().value,
        "error_codes": list(record.error_codes),
        "error_ids": list(record.error_ids),
        "client": record.client,
        "key_name": record.key_name,
    }


def _summary(fields: dict[str, Any]) -> str:
    """The compact line of text mode (the message of the JSON line too). Each value is
    one printable word, so no caller's string can forge a line or a field of its own."""

    def word(value: object) -> str:
        return "-" if value is None or value == "" else _UNPRINTABLE.sub("?", str(value))

    words = [
        word(fields["method"]),
        word(fields["path"]),
        word(fields["status"]),
        word(fields["outcome"]),
        f"{fields['duration_ms']:.1f}ms",
        word(fields["transport"]),
    ]
    if fields["operation_type"] or fields["operation_name"]:
        words += [word(fields["operation_type"]), word(fields["operation_name"])]
    if fields["error_codes"]:
        words.append("errors=" + word(",".join(fields["error_codes"])))
    if fields["error_ids"]:
        words.append("error_ids=" + word(",".join(fields["error_ids"])))
    if fields["key_name"]:
        words.append("key=" + word(fields["key_name"]))
    words.append("client=" + word(fields["client"]))
    words.append("request_id=" + word(fields["request_id"]))
    if fields["trace_id"]:
        words.append("trace_id=" + word(fields["trace_id"]))
    return " ".join(words)


def _clipped(name: str | None) -> str | None:
    if name is None or len(name) <= MAX_NAME_CHARS:
        return name
    return name[:MAX_NAME_CHARS] + "..."
