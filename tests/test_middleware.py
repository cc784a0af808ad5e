"""The lean CORS and gzip paths change responses exactly as Starlette's middleware does."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql.http.middleware import Cors, GZip

Headers = list[tuple[bytes, bytes]]

BIG = b"x" * 2000
SMALL = b"x" * 10

# (status, response headers, body messages)
RESPONSES: list[tuple[int, Headers, list[Message]]] = [
    (200, [(b"content-type", b"application/json")], [{"body": BIG}]),
    (200, [(b"content-type", b"application/json")], [{"body": SMALL}]),
    (
        200,
        [(b"vary", b"Accept"), (b"content-type", b"application/json"), (b"vary", b"Cookie")],
        [{"body": BIG}],
    ),
    (200, [(b"vary", b"Accept")], [{"body": SMALL}]),
    (200, [(b"content-type", b"text/event-stream")], [{"body": BIG, "more_body": True}, {}]),
    (200, [(b"content-type", b"Audio/Ogg; q=1")], [{"body": BIG}]),
    (200, [(b"content-type", b"application/grpc+proto")], [{"body": BIG}]),
    (200, [(b"content-encoding", b"br")], [{"body": BIG}]),
    (206, [(b"content-type", b"text/plain")], [{"body": BIG}]),
    (200, [(b"content-type", b"text/plain")], [{"body": SMALL, "more_body": True}, {}]),
    (200, [(b"content-type", b"text/plain")], [{"body": BIG, "more_body": True}, {"body": b"z"}]),
    (200, [], [{"body": BIG}]),
]

REQUESTS: list[Headers] = [
    [],
    [(b"accept", b"application/json")],
    [(b"accept-encoding", b"br, deflate")],
    [(b"accept-encoding", b"identity"), (b"accept-encoding", b"gzip")],
    [(b"origin", b"https://example.com")],
    [(b"origin", b"https://elsewhere.org"), (b"accept-encoding", b"gzip")],
]


def _app(status: int, headers: Headers, bodies: list[Message]) -> ASGIApp:
    async def app(_scope: Scope, _receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        for body in bodies:
            await send({"type": "http.response.body", **body})

    return app


def _sent(middleware: ASGIApp, request: Headers, method: str = "GET") -> list[Any]:
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        messages.append(dict(message))

    scope = {"type": "http", "method": method, "path": "/graphql", "headers": list(request)}
    asyncio.run(middleware(scope, receive, send))
    return [
        (m["type"], m.get("status"), [tuple(h) for h in m.get("headers", [])], m.get("body"))
        for m in messages
    ]


@pytest.mark.parametrize("response", RESPONSES)
@pytest.mark.parametrize("request_headers", REQUESTS)
@pytest.mark.parametrize(
    "origins", [("*",), ("https://example.com",)], ids=["any-origin", "one-origin"]
)
def test_cors_answers_as_starlette_does(
    response: tuple[int, Headers, list[Message]], request_headers: Headers, origins: tuple[str]
) -> None:
    options: dict[str, Any] = {
        "allow_origins": origins,
        "allow_methods": ("GET", "POST"),
        "expose_headers": ("ETag",),
        "max_age": 600,
    }
    app = _app(*response)
    assert _sent(Cors(app, **options), request_headers) == _sent(
        CORSMiddleware(app, **options), request_headers
    )


@pytest.mark.parametrize("response", RESPONSES)
@pytest.mark.parametrize("request_headers", REQUESTS)
@pytest.mark.parametrize("minimum_size", [0, 1024])
def test_gzip_answers_as_starlette_does(
    response: tuple[int, Headers, list[Message]], request_headers: Headers, minimum_size: int
) -> None:
    app = _app(*response)
    assert _sent(GZip(app, minimum_size=minimum_size), request_headers) == _sent(
        GZipMiddleware(app, minimum_size=minimum_size), request_headers
    )


def test_the_lean_path_adds_vary_where_starlette_would() -> None:
    """The comparisons above compare something: without Origin or gzip, Vary grows."""
    app = _app(200, [(b"vary", b"Accept")], [{"body": BIG}])
    [(_, _, headers, _), _] = _sent(Cors(GZip(app, minimum_size=1024), allow_origins=["*"]), [])
    assert (b"vary", b"Accept, Accept-Encoding, Origin") in headers
