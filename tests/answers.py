"""Checks shared by the hostile-input tests: every answer is a client error or a GraphQL
answer, never a server failure, and every error it carries says what went wrong."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import orjson

INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


class Answer(Protocol):
    """What both Starlette's TestClient and httpx2 return."""

    @property
    def status_code(self) -> int: ...
    @property
    def content(self) -> bytes: ...
    @property
    def headers(self) -> Mapping[str, str]: ...


def body_of(answer: Answer) -> Any:
    """The parsed JSON answer; 304 answers are None."""
    if answer.status_code == 304:
        assert not answer.content
        return None
    content_type = answer.headers.get("content-type", "")
    assert "json" in content_type, (answer.status_code, content_type, answer.content[:500])
    return orjson.loads(answer.content)


def errors_in(body: Any) -> Iterator[dict[str, Any]]:
    """The errors of an answer, a batch's answers included."""
    answers = body if isinstance(body, list) else [body]
    for answer in answers:
        if isinstance(answer, dict):
            yield from answer.get("errors") or ()


def codes_in(body: Any) -> list[str]:
    return [str(error["extensions"]["code"]) for error in errors_in(body)]


def check_answer(answer: Answer, context: object = "") -> Any:
    """No 5xx, a JSON body, and every error in it has a message and a code other than
    INTERNAL_SERVER_ERROR. Returns the parsed body."""
    status = answer.status_code
    assert status < 500, (status, answer.content[:2000], context)
    body = body_of(answer)
    for error in errors_in(body):
        assert isinstance(error.get("message"), str), (error, context)
        extensions = error.get("extensions")
        assert isinstance(extensions, dict), (error, context)
        assert isinstance(extensions.get("code"), str), (error, context)
        assert extensions["code"] != INTERNAL_SERVER_ERROR, (error, context)
    if status >= 400:
        assert list(errors_in(body)), (status, answer.content[:2000], context)  # says why
    return body


class ErrorRecords(logging.Handler):
    """Collects what the server logs at ERROR or above (masked errors and unexpected
    exceptions are logged there, with their stack trace)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def take(self) -> list[str]:
        taken = [self.format(record) for record in self.records]
        self.records.clear()
        return taken

    def __enter__(self) -> ErrorRecords:
        logging.getLogger("gql").addHandler(self)
        return self

    def __exit__(self, *_: object) -> None:
        logging.getLogger("gql").removeHandler(self)
