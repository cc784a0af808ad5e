"""Every error the API returns carries a stable ``extensions.code``.

Errors we raise on purpose carry their code already. Parse and validation failures get
the codes Apollo clients know. Anything else is unexpected: it is logged with its stack
trace under an error id, and the client sees only a generic message and that id. That
includes an exception that escapes the operation itself (an executor or extension bug,
not a field's resolver), which Strawberry would otherwise answer with its bare message.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from graphql.validation.validate import ValidationAbortedError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from gql.observability.record import Outcome, current_record
from gql.repository.base import ServerUnreachable, Unavailable
from gql.repository.url import hide_password

BAD_USER_INPUT = "BAD_USER_INPUT"
DATABASE_BUSY = "DATABASE_BUSY"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"

MAX_MESSAGE_CHARS = 1000
"""Longer messages are cut: graphql-core's quote the offending input whole, so a 900 KB
string in the wrong place would otherwise come back as a 900 KB message."""

logger = logging.getLogger("gql.errors")

# Strawberry re-raises these to the transport, which answers them with their own codes.
_FOR_THE_TRANSPORT = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)


class UserInputError(GraphQLError):
    """A request the client can fix: a bad argument, cursor or limit."""

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        extensions: dict[str, Any] = {"code": BAD_USER_INPUT}
        if argument is not None:
            extensions["argument"] = argument
        super().__init__(message, extensions=extensions)


def replaced(error: GraphQLError, message: str, extensions: dict[str, Any] | None) -> GraphQLError:
    """The same error (where it happened, what caused it) told with another message and
    extensions."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=extensions,
    )


def with_code(error: GraphQLError, code: str, **extensions: Any) -> GraphQLError:
    return replaced(error, error.message, {**(error.extensions or {}), "code": code, **extensions})


def with_syntax_code(error: GraphQLSyntaxError) -> GraphQLError:
    # graphql-core stops at the token limit with a syntax error of its own wording.
    if "tokens. Parsing aborted" in error.message:
        return with_code(error, TOO_MANY_TOKENS)
    return with_code(error, GRAPHQL_PARSE_FAILED)


def _as_graphql_error(error: Exception) -> GraphQLError:
    if isinstance(error, GraphQLError):
        return error
    return GraphQLError(str(error), original_error=error)


def clip_message(message: str) -> str:
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    cut = len(message) - MAX_MESSAGE_CHARS
    return f"{message[:MAX_MESSAGE_CHARS]}... ({cut} more characters)"


def clipped(error: GraphQLError) -> GraphQLError:
    if len(error.message) <= MAX_MESSAGE_CHARS:
        return error
    return replaced(error, clip_message(error.message), error.extensions)


def busy(error: GraphQLError) -> GraphQLError:
    """Another process (an import, say) held the database's write lock past the busy
    timeout: not a bug, and the same request is likely to succeed a moment later."""
    return replaced(
        error,
        "The database is busy: another process held its write lock for too long. Nothing "
        "was changed; try again shortly.",
        {"code": DATABASE_BUSY, "retryable": True},
    )


UNREACHABLE_LOG_SECONDS = 10.0
"""At most one line in this long about an unreachable database: under load every request
fails alike, and a line each would flood the log (and block on a full pipe)."""
_unreachable_logged_at = -math.inf


def _log_unreachable(message: str) -> None:
    global _unreachable_logged_at
    now = time.monotonic()
    if now - _unreachable_logged_at >= UNREACHABLE_LOG_SECONDS:
        _unreachable_logged_at = now
        logger.warning(
            "database unreachable: %s (said at most every %g s)",
            hide_password(message),
            UNREACHABLE_LOG_SECONDS,
        )


def unreachable(error: GraphQLError) -> GraphQLError:
    """The database server cannot be reached (stopped, restarting, a network fault): the
    pool reconnects once it is back. Its own words go to the log (one line, no password),
    not to the client. A write cut off at its commit may or may not have been made."""
    _log_unreachable(error.message)
    return replaced(
        error,
        "The database cannot be reached right now; try again shortly.",
        {"code": SERVICE_UNAVAILABLE, "retryable": True},
    )


def masked(error: GraphQLError) -> GraphQLError:
    error_id = uuid.uuid4().hex
    # The request's own log line names the id too, next to its operation and status;
    # and a masked error is our failure, whatever else the response holds.
    record = current_record()
    if record is not None:
        record.error_ids.append(error_id)
        record.note_outcome(Outcome.FAILED)
    logger.error(
        "unexpected error %s at %s: %s",
        error_id,
        ".".join(map(str, error.path or ())),
        error.message,
        exc_info=error.original_error,
    )
    return GraphQLError(
        f"Internal server error (error id {error_id}).",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": INTERNAL_SERVER_ERROR, "errorId": error_id},
    )


class ErrorCodes(SchemaExtension):
    """Gives every error a code and masks the unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        self._before_execution = True
        try:
            yield
        except _FOR_THE_TRANSPORT:
            raise
        except Exception as error:
            # Strawberry answers an exception that escapes the operation with it as the
            # only error: unless we raised it with a code, it is a bug, so it is masked.
            if isinstance(error, GraphQLError) and "code" in (error.extensions or {}):
                raise clipped(error) from None
            raise masked(_as_graphql_error(error)) from None
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [clipped(self._classify(error)) for error in result.errors]

    def on_execute(self) -> Iterator[None]:
        self._before_execution = False
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Streamed results (subscriptions over WebSocket) are sent before on_operation
        ends, so each is classified on its way out."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [clipped(self._classify(error)) for error in errors]
        yield

    def _classify(self, error: GraphQLError) -> GraphQLError:
        if error.extensions and "code" in error.extensions:
            return error
        if isinstance(error, GraphQLSyntaxError):
            return with_syntax_code(error)
        if isinstance(error, ValidationAbortedError) and error.message == "Validation aborted.":
            # graphql-core's only words for "nested too deeply to check" (through
            # fragments too) and for "too much work comparing repeated fields and
            # fragments"; its "too many errors" says so itself.
            return GraphQLError(
                "Validation aborted: the document is too deeply nested, or repeats fields "
                "or fragments too often, to be checked.",
                extensions={"code": GRAPHQL_VALIDATION_FAILED},
            )
        if self._before_execution:
            return with_code(error, GRAPHQL_VALIDATION_FAILED)
        if error.path is None:
            # Not tied to a field: graphql-core could not coerce the request's variables.
            return with_code(error, BAD_USER_INPUT)
        if isinstance(error.original_error, ServerUnreachable):
            return unreachable(error)
        if isinstance(error.original_error, Unavailable):
            return busy(error)
        return masked(error)
